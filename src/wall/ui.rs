//! The wall's panels (egui): top bar with feed health and clock, KPI column, ticket queue,
//! dispatch panel, map labels, the stale-data banner and the demo watermark. Widgets only
//! read state and emit `UiAction`s.

use std::time::Instant;

use bevy::prelude::*;
use bevy_egui::egui::{self, Align2, Color32, FontId, LayerId, RichText, Ui, UiBuilder};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use super::DemoMode;
pub use super::dispatch::Selection;
use super::dispatch::{UiAction, UndoWindow, panel};
use super::drill::{DonutHits, Focus, within};
use super::fonts::{FontsReady, bold, install};
use super::layout::{Layout, RegionKind};
use super::link::{AuditTrails, FeedHealth, Notices, Outbox, WallMirror};
use super::map::{MapLayers, MapRect, MapView};
use super::rollup::RollUps;
use super::screen::ScreenCare;
use super::state::Queue;
use super::table::{AMBER, DIM, RED, queue_table};
use super::text::{UiLang, beijing};
use super::tour::TourState;
use crate::feed::FeedStatus;
use crate::protocol::{WarningLevel, now_ms};

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<FontsReady>()
        .init_resource::<WallLayout>()
        .add_systems(EguiPrimaryContextPass, wall_ui);
}

const BG: Color32 = Color32::from_rgba_premultiplied(8, 14, 24, 235);
const GREEN: Color32 = Color32::from_rgb(90, 220, 140);

fn style(ctx: &egui::Context) {
    let mut v = egui::Visuals::dark();
    v.panel_fill = BG;
    v.window_fill = Color32::from_rgb(12, 20, 34);
    v.extreme_bg_color = Color32::from_rgb(6, 10, 18);
    v.faint_bg_color = Color32::from_rgb(16, 26, 42);
    v.selection.bg_fill = Color32::from_rgb(30, 90, 140);
    ctx.set_visuals(v);
}

#[allow(clippy::too_many_arguments)]
fn wall_ui(
    mut contexts: EguiContexts,
    mut fonts: ResMut<FontsReady>,
    lang: Res<UiLang>,
    mirror: Res<WallMirror>,
    health: Res<FeedHealth>,
    queue: Res<Queue>,
    sel: Res<Selection>,
    (trails, outbox, layout): (Res<AuditTrails>, Res<Outbox>, Res<WallLayout>),
    undo: Res<UndoWindow>,
    demo: Res<DemoMode>,
    map: Option<Res<MapLayers>>,
    view: Res<MapView>,
    mut map_rect_out: ResMut<MapRect>,
    mut actions: MessageWriter<UiAction>,
    (rolls, focus, mut donut_hits): (Res<RollUps>, Res<Focus>, ResMut<DonutHits>),
    (care, notices, tour, rewind): (
        Res<ScreenCare>,
        Res<Notices>,
        Option<Res<TourState>>,
        Option<Res<super::rewind::Rewind>>,
    ),
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    if !fonts.0 {
        // Fonts take effect on the next pass: draw nothing until then.
        install(&ctx);
        style(&ctx);
        if let Some(l) = &layout.0 {
            // Type for reading at 5 m: body ≥ 24 px and figures ≥ 48 px on a 1080p panel.
            ctx.set_zoom_factor(l.zoom.unwrap_or(WALL_ZOOM) * l.panel.height as f32 / 1080.0);
        }
        fonts.0 = true;
        return Ok(());
    }
    let lang = *lang;
    // A replay's clock is the recorded one: countdowns and ages count against it.
    let now = mirror.0.replay.map(|r| r.0).unwrap_or_else(now_ms);
    let replaying = mirror.0.replay.map(|r| r.1);
    let live = health.is_live(Instant::now());
    let mut out = Vec::new();
    let mut root = Ui::new(
        ctx.clone(),
        "wall".into(),
        UiBuilder::new()
            .layer_id(LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );

    let map_rect = match &layout.0 {
        Some(l) => {
            let zoom = ctx.zoom_factor();
            let (pw, ph) = (l.panel.width as f32 / zoom, l.panel.height as f32 / zoom);
            let mut map_rect = ctx.viewport_rect();
            let has_dispatch = l.regions.iter().any(|r| r.kind == RegionKind::Dispatch);
            // The burn-in guard's drift, in points.
            let d = care.shift(Instant::now()) / zoom;
            let guard = (egui::vec2(d.x, d.y), care.config.shift_px.max(0.0) / zoom);
            let has_warnings = l.regions.iter().any(|r| r.kind == RegionKind::Warnings);
            for (i, r) in l.regions.iter().enumerate() {
                let rect = egui::Rect::from_min_size(
                    egui::pos2(r.x * pw, r.y * ph),
                    egui::vec2(r.w * pw, r.h * ph),
                );
                if r.kind == RegionKind::Map {
                    map_rect = rect;
                    continue;
                }
                region(&ctx, i, rect, guard, |ui| match r.kind {
                    RegionKind::Title => top_bar(ui, lang, &health, demo.0, now, replaying),
                    RegionKind::Kpis => kpis(
                        ui,
                        lang,
                        &mirror.0,
                        map.as_deref(),
                        if r.w * pw >= 900.0 { 4 } else { 2 },
                        if r.h * ph >= 700.0 { 10 } else { 5 },
                        !has_warnings,
                        &mut out,
                    ),
                    RegionKind::Warnings => {
                        super::warnings::board(ui, lang, &mirror.0, map.as_deref(), now, &mut out)
                    }
                    RegionKind::Charts => super::kpi_view::charts(
                        ui,
                        lang,
                        mirror.0.kpis.as_ref(),
                        map.as_deref(),
                        if r.w * pw > 2.5 * r.h * ph && r.w * pw > 1200.0 {
                            4
                        } else {
                            2
                        },
                        if r.w * pw > 2.5 * r.h * ph && r.w * pw > 1200.0 {
                            1
                        } else {
                            2
                        },
                    ),
                    RegionKind::Queue => {
                        queue_region(ui, lang, &queue, &mirror.0, &sel, now, live, &mut out);
                        if !has_dispatch && sel.ticket.is_some() {
                            ui.separator();
                            panel(
                                ui, lang, &mirror.0, &sel, &trails, &outbox, undo.0, now, live,
                                &mut out,
                            );
                        }
                    }
                    RegionKind::Dispatch => panel(
                        ui, lang, &mirror.0, &sel, &trails, &outbox, undo.0, now, live, &mut out,
                    ),
                    RegionKind::Map => {}
                });
            }
            if !l.regions.iter().any(|r| r.kind == RegionKind::Title) {
                // Feed health is always visible: without a title region it sits on the map.
                let (text, color) = health_text(lang, &health, replaying);
                wall_area("health-chip", egui::Order::Foreground)
                    .anchor(
                        Align2::RIGHT_TOP,
                        egui::vec2(
                            -(ctx.viewport_rect().right() - map_rect.right()) - 12.0,
                            map_rect.top() + 12.0,
                        ),
                    )
                    .show(&ctx, |ui| {
                        egui::Frame::new()
                            .fill(BG)
                            .corner_radius(6.0)
                            .inner_margin(8.0)
                            .show(ui, |ui| {
                                ui.horizontal(|ui| {
                                    let (_, _, _, h, mi, sec) = beijing(now);
                                    ui.label(
                                        RichText::new(format!("{h:02}:{mi:02}:{sec:02}"))
                                            .font(bold(26.0)),
                                    );
                                    ui.label(RichText::new(text).font(bold(22.0)).color(color));
                                    if demo.0 {
                                        ui.label(
                                            RichText::new(
                                                lang.t("演示 · 模拟数据", "DEMO · simulated data"),
                                            )
                                            .font(bold(22.0))
                                            .color(AMBER),
                                        );
                                    }
                                });
                            });
                    });
            }
            map_rect
        }
        None => {
            egui::Panel::top("top")
                .exact_size(64.0)
                .show(&mut root, |ui| {
                    top_bar(ui, lang, &health, demo.0, now, replaying)
                });
            egui::Panel::left("kpis")
                .exact_size(330.0)
                .show(&mut root, |ui| {
                    kpis(ui, lang, &mirror.0, map.as_deref(), 2, 5, true, &mut out)
                });
            egui::Panel::right("queue")
                .exact_size(800.0)
                .show(&mut root, |ui| {
                    let h = ui.available_height();
                    ui.label(
                        RichText::new(format!(
                            "{} · {}",
                            lang.t("工单队列", "Ticket queue"),
                            queue.rows.len()
                        ))
                        .font(bold(22.0)),
                    );
                    let table_h = (if sel.ticket.is_some() {
                        h * 0.42
                    } else {
                        h - 40.0
                    })
                    .max(0.0);
                    ui.allocate_ui(egui::vec2(ui.available_width(), table_h), |ui| {
                        if let Some(id) =
                            queue_table(ui, lang, &queue, &mirror.0, sel.ticket, now, live)
                        {
                            out.push(UiAction::Select(id));
                        }
                    });
                    if sel.ticket.is_some() {
                        ui.separator();
                        panel(
                            ui, lang, &mirror.0, &sel, &trails, &outbox, undo.0, now, live,
                            &mut out,
                        );
                    }
                });
            egui::Panel::bottom("charts")
                .exact_size(250.0)
                .show(&mut root, |ui| {
                    super::kpi_view::charts(ui, lang, mirror.0.kpis.as_ref(), map.as_deref(), 2, 1)
                });
            root.available_rect_before_wrap()
        }
    };
    // The map camera works in window pixels; egui in points (pixels / zoom).
    let z = ctx.zoom_factor();
    map_rect_out.0 = Some((
        Vec2::new(map_rect.min.x, map_rect.min.y) * z,
        Vec2::new(map_rect.max.x, map_rect.max.y) * z,
    ));
    let schematic = map.as_ref().is_some_and(|m| m.schematic);
    let map_ref = map.as_deref();
    if let Some(map) = map_ref {
        donut_hits.0 = labels(&ctx, map_rect, map, &view, &rolls, &focus.0);
        drill_bar(
            &ctx,
            map_rect,
            lang,
            map,
            (&rolls, &focus, rewind.as_deref(), now),
            &mut out,
        );
    }
    overlays(&ctx, map_rect, lang, &health, demo.0, schematic, live);
    if let Some(r) = mirror.0.replay {
        replay_badge(&ctx, map_rect, lang, r);
    }
    red_banner(&ctx, map_rect, lang, &mirror.0, &mut out);
    supervision_notices(&ctx, map_rect, lang, &notices, now, &mut out);
    if let Some(b) = &mirror.0.briefing {
        // The briefing takes the map's right side; the map shows its area on the left.
        let r = egui::Rect::from_min_max(
            egui::pos2(
                map_rect.center().x - map_rect.width() * 0.02,
                map_rect.top() + 12.0,
            ),
            map_rect.right_bottom() - egui::vec2(12.0, 12.0),
        );
        wall_area("briefing", egui::Order::Middle)
            .fixed_pos(r.min)
            .show(&ctx, |ui| {
                egui::Frame::new()
                    .fill(Color32::from_rgb(8, 14, 24))
                    .stroke(egui::Stroke::new(2.0, Color32::from_rgb(80, 170, 255)))
                    .corner_radius(10.0)
                    .inner_margin(16.0)
                    .show(ui, |ui| {
                        let inner = r.size() - egui::vec2(32.0, 32.0);
                        ui.set_min_size(inner);
                        ui.set_max_size(inner);
                        super::briefing::board(
                            ui, lang, b, &mirror.0, &trails, map_ref, now, &mut out,
                        );
                    });
            });
    } else if let Some(t) = tour {
        tour_overlay(&ctx, map_rect, lang, &t, &mirror.0, map_ref, now, &mut out);
    }
    let dim = care.dimming(Instant::now());
    if dim > 0.0 {
        ctx.layer_painter(LayerId::new(egui::Order::Foreground, egui::Id::new("dim")))
            .rect_filled(
                ctx.viewport_rect(),
                0.0,
                Color32::from_black_alpha((dim * 255.0) as u8),
            );
    }
    for a in out {
        actions.write(a);
    }
    Ok(())
}

fn top_bar(
    ui: &mut Ui,
    lang: UiLang,
    health: &FeedHealth,
    demo: bool,
    now: i64,
    replaying: Option<f64>,
) {
    ui.horizontal_centered(|ui| {
        ui.label(
            RichText::new(lang.t(
                "镇江市社会治理现代化指挥中心",
                "Zhenjiang Social Governance Command Center",
            ))
            .font(bold(30.0))
            .color(Color32::from_rgb(120, 210, 255)),
        );
        ui.label(
            RichText::new(lang.t(
                "一屏展示 · 一网统管 · 一键指挥",
                "one screen · one network · one click",
            ))
            .size(18.0)
            .color(DIM),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let (y, mo, d, h, mi, s) = beijing(now);
            ui.label(
                RichText::new(format!("{h:02}:{mi:02}:{s:02}"))
                    .font(bold(30.0))
                    .monospace(),
            );
            ui.label(
                RichText::new(format!("{y}-{mo:02}-{d:02}"))
                    .size(18.0)
                    .color(DIM),
            );
            ui.add_space(24.0);
            let (text, color) = health_text(lang, health, replaying);
            ui.label(RichText::new(text).font(bold(22.0)).color(color));
            if demo {
                ui.add_space(16.0);
                ui.label(
                    RichText::new(lang.t("演示 · 模拟数据", "DEMO · simulated data"))
                        .font(bold(22.0))
                        .color(AMBER),
                );
            }
        });
    });
}

fn health_text(lang: UiLang, h: &FeedHealth, replaying: Option<f64>) -> (String, Color32) {
    let now = Instant::now();
    // A replay never says "live".
    if let Some(speed) = replaying
        && h.is_live(now)
    {
        return (format!("● {} ×{speed}", lang.t("回放", "replay")), AMBER);
    }
    let age = h.age(now).map(|a| a.as_secs_f32());
    match &h.status {
        FeedStatus::Connected if h.loading => (lang.t("● 同步中", "● syncing").into(), AMBER),
        FeedStatus::Connected if h.is_live(now) => (
            format!("● {} {:.0} ms", lang.t("实时", "live"), h.latency_ms),
            GREEN,
        ),
        FeedStatus::Connected => (
            format!(
                "● {} {:.0}s",
                lang.t("数据陈旧", "stale"),
                age.unwrap_or(0.0)
            ),
            RED,
        ),
        FeedStatus::Connecting => (lang.t("● 连接中", "● connecting").into(), AMBER),
        FeedStatus::Reconnecting {
            attempt, retry_ms, ..
        } => (
            format!(
                "● {} #{attempt} · {:.1}s",
                lang.t("重连中", "reconnecting"),
                *retry_ms as f32 / 1000.0
            ),
            RED,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn kpis(
    ui: &mut Ui,
    lang: UiLang,
    m: &crate::feed::Mirror,
    map: Option<&MapLayers>,
    columns: usize,
    hot_rows: usize,
    with_warnings: bool,
    out: &mut Vec<UiAction>,
) {
    super::kpi_view::figures(ui, lang, m.kpis.as_ref(), map, columns, hot_rows);
    if with_warnings {
        super::warnings::list(ui, lang, m, out);
    }
    ui.add_space(10.0);
    let on = m.units.values().filter(|u| u.on_duty).count();
    ui.label(
        RichText::new(format!(
            "{} {on}/{}",
            lang.t("联动单位在岗", "Units on duty"),
            m.units.len()
        ))
        .size(18.0)
        .color(DIM),
    );
    // The legend only where it fits whole: a region never shows half of it.
    if ui.available_height() < 170.0 {
        return;
    }
    ui.add_space(10.0);
    ui.label(RichText::new(lang.t("图例", "Legend")).font(bold(18.0)));
    let row = |ui: &mut Ui, items: &[(Color32, &str, &str)]| {
        ui.horizontal_wrapped(|ui| {
            for (c, zh, en) in items {
                ui.label(
                    RichText::new(format!("● {}", lang.t(zh, en)))
                        .size(17.0)
                        .color(*c),
                );
            }
        });
    };
    row(
        ui,
        &[
            (
                Color32::from_rgb(237, 245, 255),
                "待分拨",
                "awaiting dispatch",
            ),
            (
                Color32::from_rgb(90, 176, 255),
                "已分拨/签收",
                "assigned/accepted",
            ),
            (Color32::from_rgb(70, 224, 176), "处置中", "in progress"),
            (RED, "超期", "overdue"),
        ],
    );
    ui.label(
        RichText::new(lang.t("四色网格 (地图底色)", "Four-colour risk (map fill)"))
            .size(17.0)
            .color(DIM),
    );
    use super::rollup::Rating;
    let ratings = [Rating::Red, Rating::Orange, Rating::Yellow, Rating::Green];
    let names = [
        ("红 高风险", "red: high"),
        ("橙 较高", "orange"),
        ("黄 一般", "yellow"),
        ("绿 平稳", "green: calm"),
    ];
    let items: Vec<(Color32, &str, &str)> = ratings
        .iter()
        .zip(names)
        .map(|(r, (zh, en))| (super::drill::rating_color(*r), zh, en))
        .collect();
    row(ui, &items);
}

/// The breadcrumb of the drill-down, over the map's top-left corner.
fn drill_bar(
    ctx: &egui::Context,
    rect: egui::Rect,
    lang: UiLang,
    map: &MapLayers,
    (rolls, focus, rewind, now): (&RollUps, &Focus, Option<&super::rewind::Rewind>, i64),
    out: &mut Vec<UiAction>,
) {
    // Below the band where a red warning's banner appears.
    wall_area("drill-bar", egui::Order::Middle)
        .fixed_pos(rect.left_top() + egui::vec2(12.0, 96.0))
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(BG)
                .corner_radius(6.0)
                .inner_margin(8.0)
                .show(ui, |ui| {
                    super::drill::breadcrumb(ui, lang, Some(map), rolls, focus, out);
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
                                        out.push(UiAction::Rewind(Some(now - 2 * 3_600_000)));
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

/// The status donuts (zoomed out), then the names of the regions: the focus's children,
/// or the districts and, zoomed in, the towns. Each name has a dark halo, and one that would
/// cover a name already placed moves down clear of it. Returns where the donuts are.
fn labels(
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
    let hits = super::drill::donuts(&p, rect, ctx.zoom_factor(), map, view, rolls, focus);
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
    let depth = super::rollup::depth(focus);
    let mut name = |c: &super::layers::Cell, font: FontId, color: Color32| {
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

/// How much larger the wall's type is than the desk's, on a 1080p panel.
const WALL_ZOOM: f32 = 1.45;

/// The wall's layout, when it runs on one (`--layout`).
#[derive(Resource, Default)]
pub struct WallLayout(pub Option<Layout>);

/// An area of the wall: it never fades in (a panel re-shown must be readable at once)
/// and stays where it is placed even when its content runs long (egui would otherwise
/// move it over its neighbour; the content is clipped instead).
fn wall_area(id: impl std::hash::Hash + std::fmt::Debug, order: egui::Order) -> egui::Area {
    egui::Area::new(egui::Id::new(id))
        .order(order)
        .fade_in(false)
        .constrain(false)
}

/// One region of a layout: a framed area at a fixed place. The burn-in guard moves it by
/// `shift` inside its place (shrunk by `margin` on every side), so it never crosses a
/// bezel.
fn region(
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

#[allow(clippy::too_many_arguments)]
fn queue_region(
    ui: &mut Ui,
    lang: UiLang,
    queue: &Queue,
    m: &crate::feed::Mirror,
    sel: &Selection,
    now: i64,
    live: bool,
    out: &mut Vec<UiAction>,
) {
    ui.label(
        RichText::new(format!(
            "{} · {}",
            lang.t("工单队列", "Ticket queue"),
            queue.rows.len()
        ))
        .font(bold(22.0)),
    );
    if let Some(id) = queue_table(ui, lang, queue, m, sel.ticket, now, live) {
        out.push(UiAction::Select(id));
    }
}

/// A new red warning cannot be missed: a banner over the map until someone acknowledges it.
fn red_banner(
    ctx: &egui::Context,
    rect: egui::Rect,
    lang: UiLang,
    m: &crate::feed::Mirror,
    out: &mut Vec<UiAction>,
) {
    use crate::protocol::{Command, WarningStatus};
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
fn supervision_notices(
    ctx: &egui::Context,
    rect: egui::Rect,
    lang: UiLang,
    notices: &Notices,
    now: i64,
    out: &mut Vec<UiAction>,
) {
    let recent: Vec<_> = notices
        .0
        .iter()
        .rev()
        .filter(|(_, _, a)| now - a.at_ms < 600_000)
        .take(3)
        .collect();
    if recent.is_empty() {
        return;
    }
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
                    ui.label(
                        RichText::new(
                            lang.t("督办提醒 · 系统自动督办", "Supervised by the gateway"),
                        )
                        .font(bold(20.0))
                        .color(AMBER),
                    );
                    for (id, title, a) in recent {
                        let text =
                            format!("{} #{id} {title} · {}", super::text::hhmm(a.at_ms), a.note);
                        if ui
                            .add(
                                egui::Label::new(RichText::new(text).size(17.0))
                                    .sense(egui::Sense::click()),
                            )
                            .clicked()
                        {
                            out.push(UiAction::Select(*id));
                        }
                    }
                });
        });
}

/// A replay never passes for live: a badge with the recorded clock and the speed.
fn replay_badge(
    ctx: &egui::Context,
    rect: egui::Rect,
    lang: UiLang,
    (clock, speed, done): (i64, f64, bool),
) {
    let (y, mo, d, h, mi, s) = beijing(clock);
    let text = format!(
        "{} ×{speed} · {y}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{}",
        lang.t("回放", "REPLAY"),
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

/// Tour mode: the caption and the step over the map's foot, and for the figures and the
/// warnings steps their panels, large, over the map.
#[allow(clippy::too_many_arguments)]
fn tour_overlay(
    ctx: &egui::Context,
    rect: egui::Rect,
    lang: UiLang,
    tour: &TourState,
    m: &crate::feed::Mirror,
    map: Option<&MapLayers>,
    now: i64,
    out: &mut Vec<UiAction>,
) {
    use super::tour::View;
    let step = tour.current();
    let big = rect.shrink2(egui::vec2(rect.width() * 0.08, rect.height() * 0.12));
    if matches!(step.view, View::Kpis | View::Warnings) {
        wall_area("tour-panel", egui::Order::Middle)
            .fixed_pos(big.min)
            .show(ctx, |ui| {
                egui::Frame::new()
                    .fill(Color32::from_rgb(8, 14, 24))
                    .stroke(egui::Stroke::new(2.0, Color32::from_rgb(60, 120, 170)))
                    .corner_radius(10.0)
                    .inner_margin(20.0)
                    .show(ui, |ui| {
                        ui.set_min_size(big.size() - egui::vec2(40.0, 40.0));
                        ui.set_max_size(big.size() - egui::vec2(40.0, 40.0));
                        if step.view == View::Kpis {
                            super::kpi_view::figures(ui, lang, m.kpis.as_ref(), map, 4, 10);
                            ui.add_space(16.0);
                            super::kpi_view::charts(ui, lang, m.kpis.as_ref(), map, 4, 1);
                        } else {
                            super::warnings::board(ui, lang, m, map, now, out);
                        }
                    });
            });
    }
    let caption = if lang.0 == super::config::Lang::Zh || step.caption_en.is_empty() {
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

fn overlays(
    ctx: &egui::Context,
    rect: egui::Rect,
    lang: UiLang,
    health: &FeedHealth,
    demo: bool,
    schematic: bool,
    live: bool,
) {
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
