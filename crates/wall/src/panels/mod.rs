//! The wall's panels (egui), one file per kind: the title bar, the figures and charts,
//! the queue, the selected ticket, the warnings board, the briefing board, the map's
//! labels and breadcrumb, the overlays over the map (banners, notices, badges), the tour's
//! caption. Widgets only read state (`PanelCtx` and the resources they are handed) and
//! emit `UiAction`s; one system lays them out, by the wall's layout or the desk's panels.

mod briefing;
mod duty;
mod field;
mod frame;
pub mod kpis;
mod map_labels;
mod overlays;
mod plot;
pub mod queue;
mod ticket;
mod top_bar;
mod tour;
pub mod trends;
mod warnings;
mod workflow;

use std::time::Instant;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, LayerId, Ui, UiBuilder};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

pub use frame::WallLayout;

use super::DemoMode;
use super::action::{Selection, UiAction, UndoWindow};
use super::clock::WallClock;
use super::fonts::{FontsReady, install};
use super::layout::RegionKind;
use super::link::{AuditTrails, FeedHealth, Notices, Outbox, WallMirror};
use super::rewind::Rewind;
use super::rollup::RollUps;
use super::screen::ScreenCare;
use super::state::Queue;
use super::text::UiLang;
use super::tour::TourState;
use super::view::{DonutHits, Focus, MapLayers, MapRect, MapView};
use feed::Mirror;
use frame::{WALL_ZOOM, region, style, wall_area};

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<FontsReady>()
        .init_resource::<WallLayout>()
        .add_systems(EguiPrimaryContextPass, wall_ui);
}

/// What every panel reads this frame.
#[derive(Clone, Copy)]
pub struct PanelCtx<'a> {
    pub lang: UiLang,
    pub mirror: &'a Mirror,
    pub map: Option<&'a MapLayers>,
    pub trails: &'a AuditTrails,
    /// The wall's clock: countdowns and ages count against it (the recorded clock during
    /// a replay).
    pub now: i64,
    /// The feed is live: countdowns are coloured; stale, they are dimmed.
    pub live: bool,
    /// Field photos (thumbnails and the large view).
    pub photos: &'a crate::photos::WallPhotos,
}

/// The state the panels read, as one system parameter.
#[derive(SystemParam)]
struct WallData<'w> {
    lang: Res<'w, UiLang>,
    clock: Res<'w, WallClock>,
    mirror: Res<'w, WallMirror>,
    health: Res<'w, FeedHealth>,
    queue: Res<'w, Queue>,
    sel: Res<'w, Selection>,
    trails: Res<'w, AuditTrails>,
    outbox: Res<'w, Outbox>,
    layout: Res<'w, WallLayout>,
    undo: Res<'w, UndoWindow>,
    demo: Res<'w, DemoMode>,
    map: Option<Res<'w, MapLayers>>,
    view: Res<'w, MapView>,
    rolls: Res<'w, RollUps>,
    focus: Res<'w, Focus>,
    care: Res<'w, ScreenCare>,
    notices: Res<'w, Notices>,
    tour: Option<Res<'w, TourState>>,
    rewind: Option<Res<'w, Rewind>>,
    base: Option<Res<'w, super::basemap::BaseMap>>,
    filter: Res<'w, super::action::QueueFilter>,
    incident: Res<'w, super::briefing::IncidentView>,
    photos: Res<'w, crate::photos::WallPhotos>,
    photo_view: Res<'w, crate::photos::PhotoView>,
}

/// What the panels write: the map's area, where the donuts are, the actions.
#[derive(SystemParam)]
struct WallOut<'w> {
    map_rect: ResMut<'w, MapRect>,
    donut_hits: ResMut<'w, DonutHits>,
    actions: MessageWriter<'w, UiAction>,
}

fn wall_ui(
    mut contexts: EguiContexts,
    mut fonts: ResMut<FontsReady>,
    mut warmed: Local<bool>,
    d: WallData,
    mut w: WallOut,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    if !fonts.0 {
        // Fonts take effect on the next pass: draw nothing until then.
        install(&ctx);
        style(&ctx);
        if let Some(l) = &d.layout.0 {
            // Type for reading at 5 m: body ≥ 24 px and figures ≥ 48 px on a 1080p panel.
            ctx.set_zoom_factor(l.zoom.unwrap_or(WALL_ZOOM) * l.panel.height as f32 / 1080.0);
        }
        fonts.0 = true;
        return Ok(());
    }
    if !*warmed {
        // The figures' digits at every size the wall shows them, laid out once before
        // any figure needs them: a digit used for the first time showed blank for the
        // frame it appeared in ("3 1" for 301 in a screenshot at 5760x3240).
        ctx.fonts_mut(|f| {
            for size in [34.0, 40.0, 48.0, 56.0, 64.0, 75.0, 106.0] {
                f.layout_no_wrap(
                    "0123456789%.:/-—".into(),
                    super::fonts::bold(size),
                    Color32::WHITE,
                );
            }
        });
        *warmed = true;
    }
    let cx = PanelCtx {
        lang: *d.lang,
        mirror: &d.mirror.0,
        map: d.map.as_deref(),
        trails: &d.trails,
        now: d.clock.now_ms,
        live: d.health.is_live(Instant::now()),
        photos: &d.photos,
    };
    let mut out = Vec::new();
    // A briefing takes a video wall (of more than one panel) over; a console keeps its
    // panels and shows the board, with the whole trail, over the map.
    let took_wall = match (&d.layout.0, &cx.mirror.briefing) {
        (Some(l), Some(_)) => l.columns * l.rows > 1,
        _ => false,
    };
    let map_rect = match (&d.layout.0, &cx.mirror.briefing) {
        (Some(l), Some(b)) if took_wall => briefing_wall(&ctx, &d, &cx, (l, b), &mut out),
        (Some(_), _) => wall_regions(&ctx, &d, &cx, &mut out),
        (None, _) => desk_panels(&ctx, &d, &cx, &mut out),
    };
    // The map camera works in window pixels; egui in points (pixels / zoom).
    let z = ctx.zoom_factor();
    w.map_rect.0 = Some((
        Vec2::new(map_rect.min.x, map_rect.min.y) * z,
        Vec2::new(map_rect.max.x, map_rect.max.y) * z,
    ));
    if let Some(map) = cx.map {
        w.donut_hits.0 = map_labels::labels(&ctx, map_rect, map, &d.view, &d.rolls, &d.focus.0);
        map_labels::drill_bar(
            &ctx,
            map_rect,
            &cx,
            (&d.rolls, &d.focus, d.rewind.as_deref()),
            &mut out,
        );
    }
    let schematic = cx.map.is_some_and(|m| m.schematic);
    overlays::watermarks(&ctx, map_rect, &cx, &d.health, d.demo.0, schematic);
    if let Some(r) = cx.mirror.replay {
        overlays::replay_badge(&ctx, map_rect, cx.lang, r);
    }
    if let Some(base) = &d.base {
        overlays::base_map(&ctx, map_rect, &cx, base, &d.view, &mut out);
    }
    overlays::red_areas(&ctx, map_rect, &cx, &d.view);
    field::marks(&ctx, map_rect, &cx, &d.view, d.sel.ticket);
    overlays::red_banner(&ctx, map_rect, &cx, &mut out);
    overlays::supervision_notices(&ctx, map_rect, &cx, &d.notices, &mut out);
    duty::board(&ctx, map_rect, &cx, &mut out);
    if let Some(b) = &cx.mirror.briefing
        && !took_wall
    {
        let shown = briefing::Shown::of(&cx, &d.incident);
        briefing_area(&ctx, map_rect, |ui| {
            briefing::board(ui, &cx, (b, &shown), &mut out)
        });
    } else if let Some(t) = &d.tour {
        tour::overlay(&ctx, map_rect, &cx, t, &mut out);
    }
    crate::photos::viewer(&ctx, map_rect, &d.photos, &d.photo_view, &mut out);
    overlays::dimming(&ctx, d.care.dimming(Instant::now()));
    for a in out {
        w.actions.write(a);
    }
    Ok(())
}

/// A video wall: each region of the layout in its place; returns the map's area.
fn wall_regions(
    ctx: &egui::Context,
    d: &WallData,
    cx: &PanelCtx,
    out: &mut Vec<UiAction>,
) -> egui::Rect {
    let Some(l) = &d.layout.0 else {
        return ctx.viewport_rect();
    };
    let zoom = ctx.zoom_factor();
    let (pw, ph) = (l.panel.width as f32 / zoom, l.panel.height as f32 / zoom);
    let mut map_rect = ctx.viewport_rect();
    let has = |k: RegionKind| l.regions.iter().any(|r| r.kind == k);
    let (has_dispatch, has_warnings) = (has(RegionKind::Dispatch), has(RegionKind::Warnings));
    // The burn-in guard's drift, in points.
    let drift = d.care.shift(Instant::now()) / zoom;
    let guard = (
        egui::vec2(drift.x, drift.y),
        d.care.config.shift_px.max(0.0) / zoom,
    );
    for (i, r) in l.regions.iter().enumerate() {
        let rect = egui::Rect::from_min_size(
            egui::pos2(r.x * pw, r.y * ph),
            egui::vec2(r.w * pw, r.h * ph),
        );
        if r.kind == RegionKind::Map {
            map_rect = rect;
            continue;
        }
        let (w, h) = (r.w * pw, r.h * ph);
        region(ctx, i, rect, guard, |ui| match r.kind {
            RegionKind::Title => top_bar::bar(ui, cx, &d.health, d.demo.0),
            RegionKind::Kpis => kpis::column(
                ui,
                cx,
                kpis::Fit {
                    columns: if w >= 900.0 { 4 } else { 2 },
                    hot_rows: if h >= 700.0 { 10 } else { 5 },
                },
                (!has_warnings, !has_dispatch),
                out,
            ),
            RegionKind::Warnings => warnings::board(ui, cx, out),
            RegionKind::Charts => {
                // A wide, low region takes the four charts in a row.
                let wide = w > 2.5 * h && w > 1200.0;
                let (cols, rows) = if wide { (4, 1) } else { (2, 2) };
                kpis::charts(
                    ui,
                    cx.lang,
                    (cx.mirror.kpis.as_ref(), cx.map),
                    (cols, rows),
                    out,
                )
            }
            RegionKind::Queue => {
                queue::region(ui, cx, (&d.queue, &d.filter), &d.sel, out);
                if !has_dispatch && d.sel.ticket.is_some() {
                    ui.separator();
                    ticket::panel(ui, cx, &d.sel, &d.outbox, d.undo.0, out);
                }
            }
            // No ticket selected: the month behind the figures, not an empty panel.
            RegionKind::Dispatch if d.sel.ticket.is_none() => trends::panel(ui, cx, out),
            RegionKind::Dispatch => ticket::panel(ui, cx, &d.sel, &d.outbox, d.undo.0, out),
            RegionKind::Map => {}
        });
    }
    if !has(RegionKind::Title) {
        // Feed health is always visible: without a title region it sits on the map.
        top_bar::health_chip(ctx, map_rect, cx, &d.health, d.demo.0);
    }
    map_rect
}

/// A briefing on a video wall: the map over every column but the last, framed on the
/// incident; the last column's panels carry the board in wall type: the head and key
/// numbers, the units engaged and the nearest free ones, the significant-events lane
/// (the whole trail stays on the console). Returns the map's area.
fn briefing_wall(
    ctx: &egui::Context,
    d: &WallData,
    cx: &PanelCtx,
    (l, b): (&super::layout::Layout, &protocol::Briefing),
    out: &mut Vec<UiAction>,
) -> egui::Rect {
    let zoom = ctx.zoom_factor();
    let (pw, ph) = (l.panel.width as f32 / zoom, l.panel.height as f32 / zoom);
    let side = (l.columns - 1) as f32 * pw;
    let map_rect =
        egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(side, l.rows as f32 * ph));
    let drift = d.care.shift(Instant::now()) / zoom;
    let guard = (
        egui::vec2(drift.x, drift.y),
        d.care.config.shift_px.max(0.0) / zoom,
    );
    // Sizes in points: the wall's zoom (1.45 on a 1080p panel) makes the lane's 26 pt
    // about 38 px, over the 24 px body a 1080p panel needs from 5 m.
    let shown = briefing::Shown::of(cx, &d.incident);
    let cell = |y: f32, h: f32| {
        egui::Rect::from_min_size(egui::pos2(side, y * ph), egui::vec2(pw, h * ph))
    };
    match l.rows {
        1 => {
            region(ctx, 100, cell(0.0, 0.55), guard, |ui| {
                briefing::head(ui, cx, (b, &shown), 48.0, out);
                briefing::units(ui, cx, &shown, 20.0, 3);
            });
            region(ctx, 101, cell(0.55, 0.45), guard, |ui| {
                briefing::events_lane(ui, cx, b, 24.0);
                briefing::field_photos(ui, cx, &shown, 24.0, out);
                briefing::newest(ui, cx, &shown, 24.0);
            });
        }
        2 => {
            region(ctx, 100, cell(0.0, 1.0), guard, |ui| {
                briefing::head(ui, cx, (b, &shown), 56.0, out);
                ui.add_space(10.0);
                briefing::units(ui, cx, &shown, 22.0, 5);
            });
            region(ctx, 101, cell(1.0, 1.0), guard, |ui| {
                briefing::events_lane(ui, cx, b, 26.0);
                briefing::field_photos(ui, cx, &shown, 26.0, out);
                briefing::newest(ui, cx, &shown, 26.0);
            });
        }
        _ => {
            region(ctx, 100, cell(0.0, 1.0), guard, |ui| {
                briefing::head(ui, cx, (b, &shown), 64.0, out)
            });
            region(ctx, 101, cell(1.0, 1.0), guard, |ui| {
                briefing::units(ui, cx, &shown, 26.0, 8)
            });
            region(ctx, 102, cell(2.0, 1.0), guard, |ui| {
                briefing::events_lane(ui, cx, b, 28.0);
                briefing::field_photos(ui, cx, &shown, 28.0, out);
                briefing::newest(ui, cx, &shown, 28.0);
            });
        }
    }
    top_bar::health_chip(ctx, map_rect, cx, &d.health, d.demo.0);
    map_rect
}

/// The desk: panels around the map; returns the map's area.
fn desk_panels(
    ctx: &egui::Context,
    d: &WallData,
    cx: &PanelCtx,
    out: &mut Vec<UiAction>,
) -> egui::Rect {
    let mut root = Ui::new(
        ctx.clone(),
        "wall".into(),
        UiBuilder::new()
            .layer_id(LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    egui::Panel::top("top")
        .exact_size(64.0)
        .show(&mut root, |ui| top_bar::bar(ui, cx, &d.health, d.demo.0));
    egui::Panel::left("kpis")
        .exact_size(330.0)
        .show(&mut root, |ui| {
            let fit = kpis::Fit {
                columns: 2,
                hot_rows: 5,
            };
            kpis::column(ui, cx, fit, (true, false), out)
        });
    egui::Panel::right("queue")
        .exact_size(800.0)
        .show(&mut root, |ui| {
            let h = ui.available_height();
            queue::title(ui, cx, (&d.queue, &d.filter), out);
            queue::boards(ui, cx, &d.filter, out);
            let selected = d.sel.ticket.is_some();
            let table_h = (if selected { h * 0.42 } else { h - 76.0 }).max(0.0);
            ui.allocate_ui(egui::vec2(ui.available_width(), table_h), |ui| {
                if let Some(id) = queue::table(ui, cx, &d.queue, d.sel.ticket) {
                    out.push(UiAction::Select(id));
                }
            });
            if selected {
                ui.separator();
                ticket::panel(ui, cx, &d.sel, &d.outbox, d.undo.0, out);
            }
        });
    egui::Panel::bottom("charts")
        .exact_size(250.0)
        .show(&mut root, |ui| {
            kpis::charts(ui, cx.lang, (cx.mirror.kpis.as_ref(), cx.map), (2, 1), out)
        });
    root.available_rect_before_wrap()
}

/// The briefing takes the map's right side; the map shows its area on the left.
fn briefing_area(ctx: &egui::Context, map_rect: egui::Rect, add: impl FnOnce(&mut Ui)) {
    let r = egui::Rect::from_min_max(
        egui::pos2(
            map_rect.center().x - map_rect.width() * 0.02,
            map_rect.top() + 12.0,
        ),
        map_rect.right_bottom() - egui::vec2(12.0, 12.0),
    );
    wall_area("briefing", egui::Order::Middle)
        .fixed_pos(r.min)
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(super::theme::BOARD)
                .stroke(egui::Stroke::new(2.0, Color32::from_rgb(80, 170, 255)))
                .corner_radius(10.0)
                .inner_margin(16.0)
                .show(ui, |ui| {
                    let inner = r.size() - egui::vec2(32.0, 32.0);
                    ui.set_min_size(inner);
                    ui.set_max_size(inner);
                    add(ui);
                });
        });
}

/// A painter under the panels and over the map's cells, clipped to the map's `rect`: what
/// is drawn on the map itself (labels, warnings' areas, base-map places), each on its
/// layer `name`.
pub fn map_painter(ctx: &egui::Context, rect: egui::Rect, name: &'static str) -> egui::Painter {
    ctx.layer_painter(egui::LayerId::new(
        egui::Order::Background,
        egui::Id::new(name),
    ))
    .with_clip_rect(rect)
}
