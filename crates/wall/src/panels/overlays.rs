//! What lies over the map: the demo watermark and the schematic note, the stale-feed
//! banner, the red-warning banner that stays until acknowledged, the gateway's automatic
//! supervisions as notices, the replay badge with the recorded clock, and the idle dimming.

use std::time::Instant;

use bevy_egui::egui::{self, Align2, Color32, FontId, LayerId, RichText};

use super::PanelCtx;
use super::frame::wall_area;
use crate::action::UiAction;
use crate::config::Lang;
use crate::fonts::bold;
use crate::link::{FeedHealth, Notices};
use crate::text::{UiLang, hhmm};
use crate::theme::{AMBER, BG, DIM};
use crate::view::MapView;
use domain::time::civil;
use protocol::{Command, WarningLevel, WarningStatus};

pub fn watermarks(
    ctx: &egui::Context,
    rect: egui::Rect,
    cx: &PanelCtx,
    health: &FeedHealth,
    demo: bool,
    schematic: bool,
) {
    let (lang, live) = (cx.lang, cx.live);
    let p = ctx.layer_painter(LayerId::new(
        egui::Order::Foreground,
        egui::Id::new("overlays"),
    ));
    if demo {
        p.text(
            rect.center_bottom() + egui::vec2(0.0, -90.0),
            Align2::CENTER_CENTER,
            lang.t("演 示", "DEMO"),
            bold(96.0),
            Color32::from_rgba_unmultiplied(255, 190, 60, 70),
        );
    }
    if schematic {
        p.text(
            rect.left_bottom() + egui::vec2(12.0, -12.0),
            Align2::LEFT_BOTTOM,
            lang.t(
                "区划边界为示意，非正式行政区划",
                "Boundaries are schematic, not official",
            ),
            FontId::proportional(16.0),
            DIM,
        );
    }
    if !live {
        let age = health.age(Instant::now()).map(|a| a.as_secs()).unwrap_or(0);
        let text = match health.last_data {
            None => lang.t("等待数据…", "Waiting for data…").to_string(),
            Some(_) if health.loading => lang
                .t("正在同步全量数据…", "Loading the snapshot…")
                .to_string(),
            Some(_) => format!(
                "{} {age} {}",
                lang.t("数据中断 · 最后更新", "FEED STALE · last data"),
                lang.t("秒前", "s ago")
            ),
        };
        let r = egui::Rect::from_center_size(
            rect.center_top() + egui::vec2(0.0, 70.0),
            egui::vec2(rect.width().min(900.0), 84.0),
        );
        p.rect_filled(r, 8.0, Color32::from_rgba_unmultiplied(120, 10, 10, 220));
        p.text(
            r.center(),
            Align2::CENTER_CENTER,
            text,
            bold(40.0),
            Color32::WHITE,
        );
    }
}

/// A new red warning cannot be missed: a banner over the map until someone acknowledges it.
pub fn red_banner(ctx: &egui::Context, rect: egui::Rect, cx: &PanelCtx, out: &mut Vec<UiAction>) {
    let (lang, m) = (cx.lang, cx.mirror);
    let Some(w) = m
        .warnings
        .values()
        .filter(|w| w.level == WarningLevel::Red && w.status == WarningStatus::Raised)
        .max_by_key(|w| w.raised_ms)
    else {
        return;
    };
    let pulse = (ctx.input(|i| i.time) * 3.0).sin() as f32 * 0.5 + 0.5;
    ctx.request_repaint();
    wall_area("red-banner", egui::Order::Foreground)
        .fixed_pos(rect.left_top() + egui::vec2(12.0, 12.0))
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(Color32::from_rgba_unmultiplied(
                    150,
                    0,
                    0,
                    (180.0 + 60.0 * pulse) as u8,
                ))
                .corner_radius(8.0)
                .inner_margin(12.0)
                .show(ui, |ui| {
                    ui.set_width(rect.width() - 48.0);
                    ui.horizontal(|ui| {
                        ui.label(
                            RichText::new(lang.t("红色预警", "RED WARNING"))
                                .font(bold(30.0))
                                .color(Color32::WHITE),
                        );
                        ui.label(
                            RichText::new(&w.title)
                                .font(bold(26.0))
                                .color(Color32::WHITE),
                        );
                        if ui
                            .button(RichText::new(lang.t("签收", "Acknowledge")).font(bold(22.0)))
                            .clicked()
                        {
                            out.push(UiAction::Send(Command::AckWarning { warning: w.id }));
                        }
                    });
                });
        });
}

/// The gateway's latest automatic supervisions (督办), over the map's bottom-right corner:
/// every wall says so. Each line selects its ticket. Shown for ten minutes.
///
/// A line a notice, cut to the box (the whole note on hover), the box at most 38% of the
/// map's width: writing each note in full covered a quarter of a 1080p map and the
/// districts' labels under it (seen in the README's screenshot), while every automatic
/// note says the same but for its stage.
pub fn supervision_notices(
    ctx: &egui::Context,
    rect: egui::Rect,
    cx: &PanelCtx,
    notices: &Notices,
    out: &mut Vec<UiAction>,
) {
    let (lang, now) = (cx.lang, cx.now);
    let recent: Vec<_> = notices
        .0
        .iter()
        .rev()
        .filter(|(_, _, a)| now - a.at_ms < 600_000)
        .collect();
    if recent.is_empty() {
        return;
    }
    let width = (rect.width() * 0.38).clamp(280.0, 520.0);
    wall_area("supervision-notices", egui::Order::Middle)
        .pivot(Align2::RIGHT_BOTTOM)
        .fixed_pos(rect.right_bottom() + egui::vec2(-12.0, -40.0))
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(BG)
                .stroke(egui::Stroke::new(1.5, AMBER))
                .corner_radius(6.0)
                .inner_margin(8.0)
                .show(ui, |ui| {
                    ui.set_width(width);
                    ui.horizontal(|ui| {
                        ui.label(
                            RichText::new(
                                lang.t("督办提醒 · 系统自动督办", "Supervised by the gateway"),
                            )
                            .font(bold(20.0))
                            .color(AMBER),
                        );
                        if recent.len() > SHOWN {
                            ui.label(
                                // The wall keeps the last `Notices::KEEP`: at that many, "or more".
                                RichText::new({
                                    let n = recent.len();
                                    let more = if n >= Notices::KEEP { "+" } else { "" };
                                    match lang.0 {
                                        Lang::Zh => format!("10分钟内 {n}{more} 件"),
                                        Lang::En => format!("{n}{more} in 10 min"),
                                    }
                                })
                                .size(16.0)
                                .color(AMBER),
                            );
                        }
                    });
                    for (id, title, a) in recent.iter().take(SHOWN) {
                        let line =
                            format!("{} {} #{id} {title}", hhmm(a.at_ms), stage_tag(&a.note));
                        let r = ui
                            .add(
                                egui::Label::new(RichText::new(line).size(17.0))
                                    .truncate()
                                    .sense(egui::Sense::click()),
                            )
                            .on_hover_text(&a.note);
                        if r.clicked() {
                            out.push(UiAction::Select(*id));
                        }
                    }
                });
        });
}

/// Notices listed at once; the rest are counted in the heading.
const SHOWN: usize = 3;

/// The stage an automatic note names, "[办结]" of "[办结] 超过办理时限…" ("" if none).
fn stage_tag(note: &str) -> &str {
    note.strip_prefix('[')
        .and_then(|rest| rest.find(']'))
        .map_or("", |end| &note[..end + 2])
}

/// A replay never passes for live: a badge with the recorded clock and the speed.
pub fn replay_badge(
    ctx: &egui::Context,
    rect: egui::Rect,
    lang: UiLang,
    (clock, speed, done): (i64, f64, bool),
) {
    let c = civil(clock);
    let text = format!(
        "{} ×{speed} · {} {}{}",
        lang.t("回放", "REPLAY"),
        c.date(),
        c.hhmmss(),
        if done {
            lang.t(" · 已结束", " · ended")
        } else {
            ""
        }
    );
    let p = ctx.layer_painter(LayerId::new(
        egui::Order::Foreground,
        egui::Id::new("replay"),
    ));
    let galley = p.layout_no_wrap(text, bold(34.0), Color32::BLACK);
    // Over the map's foot, clear of the breadcrumb and the banners at its top.
    let r = egui::Rect::from_center_size(
        rect.center_bottom() - egui::vec2(0.0, 190.0),
        galley.size() + egui::vec2(32.0, 16.0),
    );
    p.rect_filled(r, 8.0, AMBER);
    p.galley(r.min + egui::vec2(16.0, 8.0), galley, Color32::BLACK);
}

/// The idle wall dims (burn-in care); any input wakes it (`screen.rs`).
pub fn dimming(ctx: &egui::Context, dim: f32) {
    if dim > 0.0 {
        ctx.layer_painter(LayerId::new(egui::Order::Foreground, egui::Id::new("dim")))
            .rect_filled(
                ctx.viewport_rect(),
                0.0,
                Color32::from_black_alpha((dim * 255.0) as u8),
            );
    }
}

/// Every live red warning's area outlined on the map in red, its title beside it: a red
/// warning stays on the map while it lives, acknowledged or not (the banner above is for
/// the ones nobody has acknowledged yet).
pub fn red_areas(ctx: &egui::Context, rect: egui::Rect, cx: &PanelCtx, view: &MapView) {
    let Some(map) = cx.map else { return };
    let zoom = ctx.zoom_factor();
    let p = super::map_painter(ctx, rect, "red-areas");
    let red = Color32::from_rgb(255, 60, 60);
    for w in cx
        .mirror
        .warnings
        .values()
        .filter(|w| w.level == WarningLevel::Red)
    {
        let mut label_at: Option<egui::Pos2> = None;
        for g in &w.grids {
            let Some(layer) = map.layer(crate::rollup::depth(g)) else {
                continue;
            };
            let Some(&i) = layer.index.get(g.as_str()) else {
                continue;
            };
            let cell = &layer.cells[i as usize];
            for poly in &cell.polygons {
                let pts: Vec<egui::Pos2> = poly[0]
                    .iter()
                    .map(|v| {
                        let s = view.to_screen(*v) / zoom;
                        egui::pos2(s.x, s.y)
                    })
                    .collect();
                p.add(egui::Shape::closed_line(pts, egui::Stroke::new(4.0, red)));
            }
            let c = view.to_screen(cell.center) / zoom;
            label_at.get_or_insert(egui::pos2(c.x, c.y));
        }
        if let Some(at) = label_at {
            let text = format!("{} {}", cx.lang.t("红色预警", "RED"), w.title);
            let galley = p.layout_no_wrap(text, crate::fonts::bold(20.0), Color32::WHITE);
            let r = egui::Rect::from_center_size(at, galley.size()).expand(6.0);
            p.rect_filled(r, 6.0, Color32::from_rgba_unmultiplied(150, 0, 0, 220));
            p.galley(r.min + egui::vec2(6.0, 6.0), galley, Color32::WHITE);
        }
    }
}

/// The base map's place names on the map, and its layer switch with where it comes from,
/// at the map's lower right.
pub fn base_map(
    ctx: &egui::Context,
    rect: egui::Rect,
    cx: &PanelCtx,
    base: &crate::basemap::BaseMap,
    view: &MapView,
    out: &mut Vec<UiAction>,
) {
    let zoom = ctx.zoom_factor();
    let p = super::map_painter(ctx, rect, "base-places");
    for l in base.layers.iter().filter(|l| l.visible) {
        for (at, name) in &l.places {
            let s = view.to_screen(*at) / zoom;
            let pos = egui::pos2(s.x, s.y);
            if name.is_empty() || !rect.contains(pos) {
                continue;
            }
            for d in [
                egui::vec2(-1.0, 0.0),
                egui::vec2(1.0, 0.0),
                egui::vec2(0.0, 1.0),
            ] {
                p.text(
                    pos + d,
                    Align2::CENTER_CENTER,
                    name,
                    FontId::proportional(18.0),
                    Color32::BLACK,
                );
            }
            p.text(
                pos,
                Align2::CENTER_CENTER,
                name,
                FontId::proportional(18.0),
                Color32::from_rgb(140, 200, 255),
            );
        }
    }
    if base.layers.is_empty() {
        return;
    }
    let lang = cx.lang;
    // The map's upper right, under the health chip's band: the lower edge is the
    // supervision notices'. On a narrow map (a 1080p console's is 800 px wide) it would
    // cover the right of the drill-down bar and its figures (超期, 紧急): then it goes
    // under that bar. Both sizes are last frame's (egui keeps each area's rect).
    let top = rect.top() + 64.0;
    let last = |id: &str| ctx.memory(|m| m.area_rect(egui::Id::new(id)));
    let top = match (last("base-layers"), last("drill-bar")) {
        (Some(me), Some(drill)) => {
            let here = egui::Rect::from_min_size(
                egui::pos2(rect.right() - 12.0 - me.width(), top),
                me.size(),
            );
            if here.intersects(drill) {
                drill.bottom() + 8.0
            } else {
                top
            }
        }
        _ => top,
    };
    wall_area("base-layers", egui::Order::Middle)
        .anchor(
            Align2::RIGHT_TOP,
            egui::vec2(
                rect.right() - ctx.viewport_rect().right() - 12.0,
                top - ctx.viewport_rect().top(),
            ),
        )
        .show(ctx, |ui| {
            super::frame::chip().show(ui, |ui| {
                let row = ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(lang.t("底图", "Base map"))
                            .size(15.0)
                            .color(DIM),
                    );
                    for (i, l) in base.layers.iter().enumerate() {
                        let name = lang.t(&l.name, l.kind.en()).to_string();
                        if ui
                            .selectable_label(l.visible, RichText::new(name).size(15.0))
                            .clicked()
                        {
                            out.push(UiAction::ToggleBase(i));
                        }
                    }
                });
                // The note wraps to the toggles' width: on one line it made the chip
                // twice as wide, into the drill-down bar of a 1080p map.
                ui.set_max_width(row.response.rect.width());
                if !base.note.is_empty() {
                    ui.label(RichText::new(&base.note).size(13.0).color(DIM));
                }
            });
        });
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_notes_stage_is_its_bracketed_head() {
        assert_eq!(
            super::stage_tag("[办结] 超过办理时限，系统自动督办"),
            "[办结]"
        );
        assert_eq!(super::stage_tag("督办: 请尽快处理"), "");
        assert_eq!(super::stage_tag("[未闭合"), "");
    }
}
