//! Tour mode's layer over the map: the step's caption and number at the map's foot and,
//! for the figures and the warnings steps, their panels large over the map.

use bevy_egui::egui::{self, Align2, Color32, LayerId};

use super::PanelCtx;
use super::frame::wall_area;
use crate::action::UiAction;
use crate::config::Lang;
use crate::fonts::bold;
use crate::theme::BOARD;
use crate::tour::{TourState, View};

/// Tour mode: the caption and the step over the map's foot, and for the figures and the
/// warnings steps their panels, large, over the map.
pub fn overlay(
    ctx: &egui::Context,
    rect: egui::Rect,
    cx: &PanelCtx,
    tour: &TourState,
    out: &mut Vec<UiAction>,
) {
    let (lang, m, map) = (cx.lang, cx.mirror, cx.map);
    let step = tour.current();
    let big = rect.shrink2(egui::vec2(rect.width() * 0.08, rect.height() * 0.12));
    if matches!(step.view, View::Kpis | View::Warnings) {
        wall_area("tour-panel", egui::Order::Middle)
            .fixed_pos(big.min)
            .show(ctx, |ui| {
                egui::Frame::new()
                    .fill(BOARD)
                    .stroke(egui::Stroke::new(2.0, Color32::from_rgb(60, 120, 170)))
                    .corner_radius(10.0)
                    .inner_margin(20.0)
                    .show(ui, |ui| {
                        ui.set_min_size(big.size() - egui::vec2(40.0, 40.0));
                        ui.set_max_size(big.size() - egui::vec2(40.0, 40.0));
                        if step.view == View::Kpis {
                            // For visitors: the figures at 2.2 times their size on the
                            // wall, then the month behind them (not the charts the wall
                            // already shows).
                            super::kpis::figures(
                                ui,
                                lang,
                                (m.kpis.as_ref(), map),
                                (4, 0, 2.2),
                                out,
                            );
                            ui.add_space(16.0);
                            if let Some(f) = m.kpis.as_ref() {
                                super::trends::trends(ui, cx, f);
                            }
                        } else {
                            super::warnings::board(ui, cx, out);
                        }
                    });
            });
    }
    let caption = if lang.0 == Lang::Zh || step.caption_en.is_empty() {
        step.caption.as_str()
    } else {
        step.caption_en.as_str()
    };
    let p = ctx.layer_painter(LayerId::new(egui::Order::Foreground, egui::Id::new("tour")));
    let galley = p.layout(
        caption.to_string(),
        bold(40.0),
        Color32::WHITE,
        rect.width() * 0.8,
    );
    let band = egui::Rect::from_center_size(
        rect.center_bottom() - egui::vec2(0.0, 60.0 + galley.size().y / 2.0),
        galley.size() + egui::vec2(48.0, 24.0),
    );
    p.rect_filled(band, 10.0, Color32::from_rgba_unmultiplied(10, 40, 70, 235));
    p.galley(band.min + egui::vec2(24.0, 12.0), galley, Color32::WHITE);
    p.text(
        band.right_top() + egui::vec2(-8.0, -6.0),
        Align2::RIGHT_BOTTOM,
        format!(
            "{} {} / {}",
            lang.t("参观导览", "Tour"),
            tour.step + 1,
            tour.tour.steps.len()
        ),
        bold(22.0),
        Color32::from_rgb(120, 210, 255),
    );
}
