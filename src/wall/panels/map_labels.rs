//! What the wall writes on the map: the status donuts (zoomed out), the regions' names
//! (never over each other), and the drill-down's breadcrumb with the rewind buttons.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align2, Color32, FontId, LayerId, RichText, Stroke, Ui};

use super::PanelCtx;
use super::frame::{chip, wall_area};
use crate::domain::time::HOUR_MS;
use crate::protocol::within;
use crate::wall::action::UiAction;
use crate::wall::drill::donut_depth;
use crate::wall::fonts::bold;
use crate::wall::layers::Cell;
use crate::wall::rewind::Rewind;
use crate::wall::rollup::{RollUps, depth, parent, regions_of};
use crate::wall::text::UiLang;
use crate::wall::theme::{AMBER, DIM, RED, STATUS, level_color};
use crate::wall::view::{Focus, MapLayers, MapView, region_name};

/// The status donuts (zoomed out), then the names of the regions: the focus's children,
/// or the districts and, zoomed in, the towns. Each name has a dark halo, and one that would
/// cover a name already placed moves down clear of it. Returns where the donuts are.
pub fn labels(
    ctx: &egui::Context,
    rect: egui::Rect,
    map: &MapLayers,
    view: &MapView,
    rolls: &RollUps,
    focus: &str,
) -> Vec<(Vec2, f32, String)> {
    let p = ctx
        .layer_painter(LayerId::new(
            egui::Order::Background,
            egui::Id::new("map-labels"),
        ))
        .with_clip_rect(rect);
    let hits = donuts(&p, rect, ctx.zoom_factor(), map, view, rolls, focus);
    let mut placed: Vec<egui::Rect> = Vec::new();
    let mut put = |w: Vec2, text: &str, font: FontId, color: Color32| {
        let s = view.to_screen(w) / ctx.zoom_factor();
        let galley = p.layout_no_wrap(text.to_string(), font.clone(), color);
        let mut r = egui::Rect::from_center_size(egui::pos2(s.x, s.y), galley.size());
        for _ in 0..4 {
            match placed.iter().find(|o| o.intersects(r)) {
                Some(o) => r = r.translate(egui::vec2(0.0, o.bottom() - r.top() + 2.0)),
                None => break,
            }
        }
        placed.push(r);
        for d in [
            egui::vec2(-1.5, 0.0),
            egui::vec2(1.5, 0.0),
            egui::vec2(0.0, -1.5),
            egui::vec2(0.0, 1.5),
        ] {
            p.text(
                r.center() + d,
                Align2::CENTER_CENTER,
                text,
                font.clone(),
                Color32::from_rgba_unmultiplied(0, 0, 0, 200),
            );
        }
        p.galley(r.min, galley, color);
    };
    // A name sits above its region's donut, if it has one.
    let lift: std::collections::HashMap<&str, f32> =
        hits.iter().map(|(_, r, id)| (id.as_str(), *r)).collect();
    let depth = depth(focus);
    let mut name = |c: &Cell, font: FontId, color: Color32| {
        let r = lift.get(c.id.as_str()).copied().unwrap_or(0.0) / ctx.zoom_factor();
        let at = c.center + Vec2::new(0.0, (r + 14.0) * view.scale * ctx.zoom_factor());
        put(at, &c.name, font, color);
    };
    if depth == 0 {
        for d in &map.districts.cells {
            name(d, bold(26.0), Color32::from_rgb(235, 248, 255));
        }
        if view.scale < 0.03 {
            for t in &map.towns.cells {
                name(
                    t,
                    FontId::proportional(16.0),
                    Color32::from_rgb(200, 230, 255),
                );
            }
        }
    } else if let Some(layer) = map.layer(depth + 1) {
        for c in layer.cells.iter().filter(|c| within(&c.id, focus)) {
            name(c, bold(20.0), Color32::from_rgb(225, 242, 255));
        }
    }
    hits
}

/// One status donut per region of the donut level inside the focus, with its open count;
/// returns where they were drawn.
fn donuts(
    p: &egui::Painter,
    rect: egui::Rect,
    zoom: f32,
    map: &MapLayers,
    view: &MapView,
    rolls: &RollUps,
    focus: &str,
) -> Vec<(Vec2, f32, String)> {
    let mut hits = vec![];
    let Some(d) = donut_depth(view.scale, focus) else {
        return hits;
    };
    let Some(layer) = map.layer(d) else {
        return hits;
    };
    for c in layer.cells.iter().filter(|c| within(&c.id, focus)) {
        let roll = rolls.get(&c.id);
        if roll.open == 0 {
            continue;
        }
        let s = view.to_screen(c.center) / zoom;
        let center = egui::pos2(s.x, s.y);
        if !rect.contains(center) {
            continue;
        }
        let r = (12.0 + 5.0 * (roll.open as f32).log2()).clamp(12.0, 34.0);
        p.circle_filled(
            center,
            r + 4.0,
            Color32::from_rgba_unmultiplied(4, 8, 14, 215),
        );
        let total = roll.open as f32;
        let mut a0 = -std::f32::consts::FRAC_PI_2;
        for (k, n) in roll.buckets.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let sweep = std::f32::consts::TAU * *n as f32 / total;
            let steps = ((sweep / 0.15).ceil() as usize).max(2);
            let pts: Vec<egui::Pos2> = (0..=steps)
                .map(|i| {
                    let a = a0 + sweep * i as f32 / steps as f32;
                    center + egui::vec2(a.cos(), a.sin()) * r
                })
                .collect();
            p.add(egui::Shape::line(pts, Stroke::new(r * 0.42, STATUS[k])));
            a0 += sweep;
        }
        p.text(
            center,
            Align2::CENTER_CENTER,
            roll.open.to_string(),
            bold((r * 0.8).clamp(13.0, 22.0)),
            Color32::WHITE,
        );
        hits.push((
            Vec2::new(center.x, center.y) * zoom,
            (r + 4.0) * zoom,
            c.id.clone(),
        ));
    }
    hits
}

/// The breadcrumb over the map: every level up to the focus as a button, the focus's
/// roll-up, and a way back up.
pub fn breadcrumb(
    ui: &mut Ui,
    lang: UiLang,
    map: Option<&MapLayers>,
    rolls: &RollUps,
    focus: &Focus,
    out: &mut Vec<UiAction>,
) {
    ui.horizontal(|ui| {
        let path = regions_of(&focus.0);
        for (i, r) in path.iter().enumerate() {
            if i > 0 {
                ui.label(RichText::new(">").font(bold(22.0)).color(DIM));
            }
            let name = if r.is_empty() {
                lang.t("镇江市", "Zhenjiang").to_string()
            } else {
                region_name(map, r)
            };
            let last = i + 1 == path.len();
            let text = RichText::new(name).font(bold(22.0));
            let text = if last {
                text.color(Color32::WHITE)
            } else {
                text.color(Color32::from_rgb(120, 210, 255))
            };
            if ui.add(egui::Button::new(text).frame(!last)).clicked() && !last {
                out.push(UiAction::Focus(r.clone()));
            }
        }
        let roll = rolls.get(&focus.0);
        ui.add_space(12.0);
        ui.label(
            RichText::new(format!("{} {}", lang.t("在办", "open"), roll.open))
                .font(bold(20.0))
                .color(Color32::WHITE),
        );
        ui.label(
            RichText::new(format!("{} {}", lang.t("超期", "overdue"), roll.overdue()))
                .font(bold(20.0))
                .color(if roll.overdue() > 0 { RED } else { DIM }),
        );
        ui.label(
            RichText::new(format!("{} {}", lang.t("紧急", "urgent"), roll.urgent))
                .font(bold(20.0))
                .color(if roll.urgent > 0 { AMBER } else { DIM }),
        );
        if let Some(w) = roll.worst {
            ui.label(
                RichText::new(format!("{}{}", w.zh(), lang.t("预警", " warning")))
                    .font(bold(20.0))
                    .color(level_color(w)),
            );
        }
        if let Some(up) = parent(&focus.0)
            && ui
                .button(RichText::new(lang.t("↑ 上一级", "↑ Up")).font(bold(20.0)))
                .clicked()
        {
            out.push(UiAction::Focus(up.to_string()));
        }
    });
}

/// The breadcrumb of the drill-down, over the map's top-left corner.
pub fn drill_bar(
    ctx: &egui::Context,
    rect: egui::Rect,
    cx: &PanelCtx,
    (rolls, focus, rewind): (&RollUps, &Focus, Option<&Rewind>),
    out: &mut Vec<UiAction>,
) {
    let (lang, map, now) = (cx.lang, cx.map, cx.now);
    // Below the band where a red warning's banner appears.
    wall_area("drill-bar", egui::Order::Middle)
        .fixed_pos(rect.left_top() + egui::vec2(12.0, 96.0))
        .show(ctx, |ui| {
            chip().show(ui, |ui| {
                breadcrumb(ui, lang, map, rolls, focus, out);
                // Rewind the last hours (a replay of the gateway's history) and back.
                if let Some(r) = rewind {
                    ui.horizontal(|ui| {
                        match r.active {
                            None => {
                                if ui
                                    .button(
                                        RichText::new(lang.t("回看近2小时", "Rewind 2 h"))
                                            .font(bold(18.0)),
                                    )
                                    .clicked()
                                {
                                    out.push(UiAction::Rewind(Some(now - 2 * HOUR_MS)));
                                }
                            }
                            Some(_) => {
                                if ui
                                    .button(
                                        RichText::new(lang.t("返回实时", "Back to live"))
                                            .font(bold(20.0))
                                            .color(AMBER),
                                    )
                                    .clicked()
                                {
                                    out.push(UiAction::Rewind(None));
                                }
                            }
                        }
                        if let Some(e) = &r.error {
                            ui.label(RichText::new(e).size(15.0).color(RED));
                        }
                    });
                }
                ui.label(
                    RichText::new(lang.t(
                        "单击地图下钻 · 右键或Esc返回上一级 · 颜色为四色风险等级",
                        "Click to drill down · right-click or Esc to go up · four-colour risk",
                    ))
                    .size(17.0)
                    .color(DIM),
                );
            });
        });
}
