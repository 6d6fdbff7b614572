//! The drill-down: city → district → town → village → grid → micro-grid. A click on the
//! map goes one level down into the region under it, a breadcrumb (or the right button,
//! or Esc) goes back up; the map colours the children of the focus by their four-colour
//! rating and, zoomed out, merges the ticket markers into one status donut per region.
//! The focus is view state: it changes through `UiAction::Focus`, never by editing data.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align2, Color32, RichText, Stroke, Ui};

use super::WallSet;
use super::dispatch::UiAction;
use super::fonts::bold;
use super::kpi_view::region_name;
use super::layers::Layer;
use super::map::{MapLayers, MapView};
use super::rollup::{BUCKETS, Rating, RollUps, depth, inside, parent, regions_of};
use super::table::{AMBER, DIM, RED};
use super::text::UiLang;

/// The region the wall is looking at ("" = the whole city).
#[derive(Resource, Default, Debug, Clone, PartialEq)]
pub struct Focus(pub String);

/// Where the donuts were drawn this frame (screen centre, radius, region), for clicks.
#[derive(Resource, Default)]
pub struct DonutHits(pub Vec<(Vec2, f32, String)>);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Focus>()
        .init_resource::<DonutHits>()
        .add_systems(Update, apply_focus.in_set(WallSet::Derive));
}

fn apply_focus(mut actions: MessageReader<UiAction>, mut focus: ResMut<Focus>) {
    for a in actions.read() {
        if let UiAction::Focus(r) = a
            && focus.0 != *r
        {
            focus.0 = r.clone();
        }
    }
}

/// The deepest level the map has: micro-grids.
pub const MAX_DEPTH: usize = 5;

/// The level whose regions the map colours: the focus's children, or finer ones when the
/// view is zoomed in far enough to tell them apart (km per pixel).
pub fn shown_depth(focus: &str, scale: f32) -> usize {
    let by_zoom = if scale >= 0.03 {
        1
    } else if scale >= 0.012 {
        2
    } else if scale >= 0.005 {
        3
    } else if scale >= 0.002 {
        4
    } else {
        5
    };
    (depth(focus) + 1).max(by_zoom).min(MAX_DEPTH)
}

/// Is `id` the region `focus` or inside it?
pub fn within(id: &str, focus: &str) -> bool {
    focus.is_empty()
        || id == focus
        || (id.starts_with(focus) && id.as_bytes().get(focus.len()) == Some(&b'-'))
}

/// Inside a polygon with holes: in the exterior ring and in none of the others.
fn in_polygon(p: Vec2, rings: &[Vec<Vec2>]) -> bool {
    rings.first().is_some_and(|r| inside(p, r)) && !rings[1..].iter().any(|r| inside(p, r))
}

/// The child of `focus` under the world point `at`, if any.
pub fn child_at(map: &MapLayers, focus: &str, at: Vec2) -> Option<String> {
    let d = depth(focus) + 1;
    let layer = map.layer(d)?;
    layer
        .cells
        .iter()
        .filter(|c| within(&c.id, focus))
        .find(|c| c.polygons.iter().any(|p| in_polygon(at, p)))
        .map(|c| c.id.clone())
}

/// A region's bounds in world km.
pub fn bounds(map: &MapLayers, region: &str) -> Option<(Vec2, Vec2)> {
    let layer: &Layer = if region.is_empty() {
        &map.outline
    } else {
        map.layer(depth(region))?
    };
    let cells: Vec<_> = if region.is_empty() {
        layer.cells.iter().collect()
    } else {
        vec![&layer.cells[*layer.index.get(region)? as usize]]
    };
    let (mut lo, mut hi) = (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN));
    for p in cells
        .iter()
        .flat_map(|c| c.polygons.iter().flat_map(|p| p[0].iter()))
    {
        lo = lo.min(*p);
        hi = hi.max(*p);
    }
    (lo.x <= hi.x).then_some((lo, hi))
}

pub fn rating_color(r: Rating) -> Color32 {
    match r {
        Rating::Red => Color32::from_rgb(255, 80, 80),
        Rating::Orange => Color32::from_rgb(255, 150, 50),
        Rating::Yellow => Color32::from_rgb(235, 205, 60),
        Rating::Green => Color32::from_rgb(80, 200, 130),
    }
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
                    .color(super::warnings::level_color(w)),
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

/// The level whose donuts stand for the markers at this zoom, or `None` when zoomed in
/// far enough for the markers themselves.
pub fn donut_depth(scale: f32, focus: &str) -> Option<usize> {
    let by_zoom = if scale >= 0.1 {
        1
    } else if scale >= 0.03 {
        2
    } else if scale >= 0.012 {
        3
    } else {
        return None;
    };
    let d = by_zoom.max(depth(focus) + 1);
    (d <= 3).then_some(d)
}

/// The donut colours, in bucket order: awaiting dispatch, assigned, in progress, overdue
/// (the markers' colours).
const SEGMENTS: [Color32; BUCKETS] = [
    Color32::from_rgb(237, 245, 255),
    Color32::from_rgb(90, 176, 255),
    Color32::from_rgb(70, 224, 176),
    Color32::from_rgb(255, 80, 80),
];

/// One status donut per region of the donut level inside the focus, with its open count;
/// returns where they were drawn.
pub fn donuts(
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
            p.add(egui::Shape::line(pts, Stroke::new(r * 0.42, SEGMENTS[k])));
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
