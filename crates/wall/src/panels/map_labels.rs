//! What the wall writes on the map: the status donuts (zoomed out), the regions' names
//! (never over each other), and the drill-down's breadcrumb with the rewind buttons.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align2, Color32, FontId, RichText, Stroke, Ui};

use super::PanelCtx;
use super::frame::{chip, wall_area};
use crate::action::UiAction;
use crate::drill::donut_depth;
use crate::fonts::bold;
use crate::layers::Cell;
use crate::rewind::Rewind;
use crate::rollup::{RollUps, depth, parent, regions_of};
use crate::text::UiLang;
use crate::theme::{AMBER, DIM, RED, STATUS, level_color};
use crate::view::{Focus, MapLayers, MapView, region_name};
use domain::time::HOUR_MS;
use protocol::within;

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
    let p = super::map_painter(ctx, rect, "map-labels");
    let hits = donuts(&p, rect, ctx.zoom_factor(), map, view, rolls, focus);
    let zoom = ctx.zoom_factor();
    // Names keep clear of the donuts as of each other.
    let mut placed: Vec<egui::Rect> = hits
        .iter()
        .map(|(c, r, _)| {
            egui::Rect::from_center_size(
                egui::pos2(c.x, c.y) / zoom,
                egui::Vec2::splat(2.0 * r / zoom),
            )
        })
        .collect();
    let mut put = |s: Vec2, text: &str, font: FontId, color: Color32| {
        let galley = p.layout_no_wrap(text.to_string(), font.clone(), color);
        let mut r = egui::Rect::from_center_size(egui::pos2(s.x, s.y), galley.size());
        for _ in 0..6 {
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
    // A name sits above its region's donut (where the donut was placed), if it has one.
    let lift: std::collections::HashMap<&str, (Vec2, f32)> = hits
        .iter()
        .map(|(c, r, id)| (id.as_str(), (*c / zoom, *r / zoom)))
        .collect();
    let depth = depth(focus);
    let mut name = |c: &Cell, font: FontId, color: Color32| {
        let at = match lift.get(c.id.as_str()) {
            Some((d, r)) => *d - Vec2::new(0.0, r + 16.0),
            None => view.to_screen(c.center) / zoom,
        };
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

/// Where a donut goes: at a place, or into another's count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spot {
    At(egui::Pos2),
    /// Merged into the donut at this index (it could not move clear nearby).
    Into(usize),
}

/// Where donuts of these (centre, radius), largest first, go so that none overlaps
/// another: one that would is tried at twelve bearings on up to three rings around its
/// region's centre (the nearest clear place wins); one that finds none is merged into the
/// donut it hits, which then counts both.
pub fn spread(items: &[(egui::Pos2, f32)]) -> Vec<Spot> {
    let mut placed: Vec<(usize, egui::Pos2, f32)> = vec![];
    let mut out = vec![];
    for (i, &(home, r)) in items.iter().enumerate() {
        let hits = |c: egui::Pos2, placed: &[(usize, egui::Pos2, f32)]| {
            placed
                .iter()
                .find(|(_, o, orad)| o.distance(c) < orad + r + 4.0)
                .map(|(j, ..)| *j)
        };
        let Some(first) = hits(home, &placed) else {
            placed.push((i, home, r));
            out.push(Spot::At(home));
            continue;
        };
        let step = 2.0 * r + 8.0;
        let found = (1..=3).find_map(|ring| {
            (0..12).find_map(|k| {
                let a = std::f32::consts::TAU * k as f32 / 12.0 - std::f32::consts::FRAC_PI_2;
                let c = home + egui::vec2(a.cos(), a.sin()) * step * ring as f32;
                hits(c, &placed).is_none().then_some(c)
            })
        });
        match found {
            Some(c) => {
                placed.push((i, c, r));
                out.push(Spot::At(c));
            }
            None => out.push(Spot::Into(first)),
        }
    }
    out
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
    // Largest first; a donut that would overlap one already placed moves away from it
    // (up to 8 steps), with a thin line back to its region's centre.
    let mut todo: Vec<(&Cell, egui::Pos2, f32)> = layer
        .cells
        .iter()
        .filter(|c| within(&c.id, focus))
        .filter_map(|c| {
            let roll = rolls.get(&c.id);
            if roll.open == 0 {
                return None;
            }
            let s = view.to_screen(c.center) / zoom;
            let center = egui::pos2(s.x, s.y);
            rect.contains(center).then(|| {
                (
                    c,
                    center,
                    (12.0 + 5.0 * (roll.open as f32).log2()).clamp(12.0, 34.0),
                )
            })
        })
        .collect();
    todo.sort_by(|a, b| b.2.total_cmp(&a.2));
    // Spread at the levels a leader reads (a few dozen donuts); the grid levels' hundreds
    // stay where they are.
    let spots = if todo.len() <= 60 {
        spread(
            &todo
                .iter()
                .map(|(_, h, r)| (*h, *r + 4.0))
                .collect::<Vec<_>>(),
        )
    } else {
        todo.iter().map(|(_, h, _)| Spot::At(*h)).collect()
    };
    // A merged donut's tickets count in the one it went into.
    let mut rolled: Vec<crate::rollup::Roll> =
        todo.iter().map(|(c, ..)| rolls.get(&c.id)).collect();
    for (i, s) in spots.iter().enumerate() {
        if let Spot::Into(j) = *s {
            let add = rolled[i];
            rolled[j].open += add.open;
            for (k, n) in add.buckets.iter().enumerate() {
                rolled[j].buckets[k] += n;
            }
        }
    }
    for (i, (c, home, r)) in todo.into_iter().enumerate() {
        let Spot::At(center) = spots[i] else { continue };
        let roll = &rolled[i];
        if center.distance(home) > 2.0 {
            p.line_segment(
                [home, center],
                Stroke::new(1.5, Color32::from_rgba_unmultiplied(200, 230, 255, 160)),
            );
            p.circle_filled(home, 3.0, Color32::from_rgb(200, 230, 255));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapConfig;
    use crate::view::MapLayers;

    fn clear(spots: &[Spot], items: &[(egui::Pos2, f32)]) {
        let at: Vec<(egui::Pos2, f32)> = spots
            .iter()
            .zip(items)
            .filter_map(|(s, (_, r))| match s {
                Spot::At(p) => Some((*p, *r)),
                Spot::Into(_) => None,
            })
            .collect();
        for (i, a) in at.iter().enumerate() {
            for b in &at[..i] {
                assert!(
                    a.0.distance(b.0) >= a.1 + b.1,
                    "donuts overlap: {a:?} and {b:?}"
                );
            }
        }
        for s in spots {
            if let Spot::Into(j) = s {
                assert!(matches!(spots[*j], Spot::At(_)), "merged into a merged one");
            }
        }
    }

    #[test]
    fn donuts_on_one_spot_move_apart_or_merge_and_never_overlap() {
        let p = egui::pos2(500.0, 500.0);
        let items: Vec<(egui::Pos2, f32)> = (0..12)
            .map(|i| (p + egui::vec2(i as f32, 0.0), 38.0 - i as f32))
            .collect();
        let spots = spread(&items);
        clear(&spots, &items);
        assert!(spots.iter().filter(|s| matches!(s, Spot::At(_))).count() > 3);
    }

    #[test]
    fn on_the_city_view_the_district_and_town_donuts_do_not_overlap() {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let d = MapConfig::default();
        let cfg = MapConfig {
            outline: root.join(&d.outline),
            districts: root.join(&d.districts),
            towns: root.join(&d.towns),
            villages: root.join(&d.villages),
            grids: root.join(&d.grids),
            micro_grids: root.join(&d.micro_grids),
            ..d
        };
        let map = MapLayers::load(&cfg).unwrap();
        let (lo, hi) = crate::drill::bounds(&map, "").unwrap();
        // The map areas of the 1080p wall, the 2x4 and the 3x3.
        for area in [
            Vec2::new(1200.0, 780.0),
            Vec2::new(3840.0, 2160.0),
            Vec2::new(3840.0, 2160.0 * 1.5),
        ] {
            let (center, scale) = crate::map::fit_goal(lo, hi, area);
            let view = MapView {
                center,
                scale,
                origin: Vec2::ZERO,
                size: area,
            };
            for layer in [&map.districts, &map.towns] {
                let mut items: Vec<(egui::Pos2, f32)> = layer
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let s = view.to_screen(c.center);
                        // The largest donut a region can have, sizes varied by region.
                        (egui::pos2(s.x, s.y), 16.0 + (i % 5) as f32 * 5.0)
                    })
                    .collect();
                items.sort_by(|a, b| b.1.total_cmp(&a.1));
                clear(&spread(&items), &items);
            }
        }
    }
}
