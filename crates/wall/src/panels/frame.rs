//! How a panel sits on the wall: the dark style, areas that never fade or move, and a
//! layout region framed at its fixed place (drifting by the burn-in guard inside it).

use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, Ui};

use crate::layout::Layout;
use crate::theme::BG;

pub fn style(ctx: &egui::Context) {
    let mut v = egui::Visuals::dark();
    v.panel_fill = BG;
    v.window_fill = Color32::from_rgb(12, 20, 34);
    v.extreme_bg_color = Color32::from_rgb(6, 10, 18);
    v.faint_bg_color = Color32::from_rgb(16, 26, 42);
    v.selection.bg_fill = Color32::from_rgb(30, 90, 140);
    ctx.set_visuals(v);
}

/// How much larger the wall's type is than the desk's, on a 1080p panel.
pub const WALL_ZOOM: f32 = 1.45;

/// The wall's layout, when it runs on one (`--layout`).
#[derive(Resource, Default)]
pub struct WallLayout(pub Option<Layout>);

/// An area of the wall: it never fades in (a panel re-shown must be readable at once)
/// and stays where it is placed even when its content runs long (egui would otherwise
/// move it over its neighbour; the content is clipped instead).
pub fn wall_area(id: impl std::hash::Hash + std::fmt::Debug, order: egui::Order) -> egui::Area {
    egui::Area::new(egui::Id::new(id))
        .order(order)
        .fade_in(false)
        .constrain(false)
}

/// One region of a layout: a framed area at a fixed place. The burn-in guard moves it by
/// `shift` inside its place (shrunk by `margin` on every side), so it never crosses a
/// bezel.
pub fn region(
    ctx: &egui::Context,
    i: usize,
    rect: egui::Rect,
    (shift, margin): (egui::Vec2, f32),
    add: impl FnOnce(&mut Ui),
) {
    let rect = rect.shrink(margin).translate(shift);
    wall_area(("region", i), egui::Order::Middle)
        .fixed_pos(rect.min)
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(BG)
                .inner_margin(12.0)
                .show(ui, |ui| {
                    let inner = rect.shrink(12.0);
                    ui.set_min_size(inner.size());
                    ui.set_max_size(inner.size());
                    ui.set_clip_rect(rect);
                    add(ui);
                });
        });
}

/// A small framed chip over the map (the breadcrumb, the health chip, the notices).
pub fn chip() -> egui::Frame {
    egui::Frame::new()
        .fill(BG)
        .corner_radius(6.0)
        .inner_margin(8.0)
}
