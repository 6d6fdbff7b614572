//! What comes back from the field, on the map: where the selected ticket's unit stood at
//! each action it sent from the phone page, and the units whose phone page is open now
//! (at their last action's position, with its age), with their count in the corner.

use bevy_egui::egui::{self, Color32, Stroke};

use super::PanelCtx;
use crate::text::hhmm;
use crate::view::MapView;

const CYAN: Color32 = Color32::from_rgb(80, 220, 255);
const LIVE: Color32 = Color32::from_rgb(90, 230, 120);
const STALE: Color32 = Color32::from_rgb(150, 160, 170);

/// A unit's last action older than this: still live, drawn grey.
const FRESH_MS: i64 = 30 * 60_000;

fn age(lang: crate::text::UiLang, ms: i64) -> String {
    let m = (ms.max(0) / 60_000) as u64;
    match m {
        0 => lang.t("刚刚", "just now").to_string(),
        1..=59 => format!("{m}{}", lang.t("分钟前", " min ago")),
        _ => format!("{}{}", m / 60, lang.t("小时前", " h ago")),
    }
}

/// The selected ticket's field actions (from its trail) and the live units.
pub fn marks(
    ctx: &egui::Context,
    rect: egui::Rect,
    cx: &PanelCtx,
    view: &MapView,
    selected: Option<u64>,
) {
    let Some(map) = cx.map else { return };
    let zoom = ctx.zoom_factor();
    // Over the region names (what came from the field is what the officer looks for),
    // under the panels and pop-ups.
    let p = ctx
        .layer_painter(egui::LayerId::new(
            egui::Order::Middle,
            egui::Id::new("field-marks"),
        ))
        .with_clip_rect(rect);
    let at = |lon: f64, lat: f64| {
        let s = view.to_screen(map.proj.to_world(lon, lat)) / zoom;
        egui::pos2(s.x, s.y)
    };
    let font = crate::fonts::bold(14.0);
    // Labels at one place (a worker acts where it stands) stack rather than overprint.
    let mut placed: Vec<egui::Rect> = Vec::new();
    let mut label = |at: egui::Pos2, text: String, color: Color32| {
        let g = p.layout_no_wrap(text, font.clone(), color);
        let mut r = egui::Rect::from_min_size(at + egui::vec2(9.0, -g.size().y / 2.0), g.size());
        for _ in 0..8 {
            match placed.iter().find(|o| o.intersects(r)) {
                Some(o) => r = r.translate(egui::vec2(0.0, o.bottom() - r.top() + 1.0)),
                None => break,
            }
        }
        placed.push(r);
        p.rect_filled(r.expand(2.0), 3.0, Color32::from_black_alpha(160));
        p.galley(r.min, g, color);
    };
    for l in &cx.mirror.live {
        let (Some(pos), Some(when)) = (l.pos, l.at_ms) else {
            continue;
        };
        let s = at(pos.lon, pos.lat);
        if !rect.contains(s) {
            continue;
        }
        let color = if cx.now - when < FRESH_MS {
            LIVE
        } else {
            STALE
        };
        p.circle(s, 6.0, color, Stroke::new(2.0, Color32::BLACK));
        let name = cx
            .mirror
            .units
            .get(&l.unit)
            .map_or(l.unit.as_str(), |u| u.name.as_str());
        label(
            s,
            format!("{name} · {}", age(cx.lang, cx.now - when)),
            color,
        );
    }
    if !cx.mirror.live.is_empty() {
        let text = format!(
            "{} {}",
            cx.lang.t("在线终端", "Phones live"),
            cx.mirror.live.len()
        );
        let g = p.layout_no_wrap(text, crate::fonts::bold(18.0), LIVE);
        let r = egui::Rect::from_min_size(
            egui::pos2(
                rect.right() - g.size().x - 24.0,
                rect.bottom() - g.size().y - 56.0,
            ),
            g.size(),
        )
        .expand(6.0);
        p.rect_filled(r, 6.0, Color32::from_black_alpha(170));
        p.galley(r.min + egui::vec2(6.0, 6.0), g, LIVE);
    }
    let Some(id) = selected else { return };
    let (Some(t), Some(entries)) = (cx.mirror.tickets.get(&id), cx.trails.0.get(&id)) else {
        return;
    };
    let place = at(t.lon, t.lat);
    for a in entries {
        let Some(pos) = a.field.as_ref().and_then(|f| f.pos) else {
            continue;
        };
        let s = at(pos.lon, pos.lat);
        p.line_segment([place, s], Stroke::new(1.5, CYAN.gamma_multiply(0.7)));
        p.circle(s, 5.0, CYAN, Stroke::new(2.0, Color32::BLACK));
        label(
            s,
            format!(
                "{} {}",
                crate::text::action(cx.lang, a.action),
                hhmm(a.at_ms)
            ),
            CYAN,
        );
    }
}
