//! Photos from the field on the wall: thumbnails for the ticket panel and the briefing
//! board, and one photo large over the wall when clicked. The panels ask (`thumb`,
//! `large`); the fetcher's threads (`feed::photos`) download and decode; a system here
//! turns what came back into egui textures. A wall without the gateway's HTTP address
//! shows the photos' count and no pictures.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use bevy::prelude::*;
use bevy_egui::egui::{self, ColorImage, TextureHandle, TextureOptions};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use crate::action::UiAction;
use feed::photos::{PhotoAsk, PhotoFetcher};

/// Photos kept as textures at most; past that the oldest go (a long briefing's board).
const KEEP: usize = 120;

#[derive(Resource, Default)]
pub struct WallPhotos {
    fetcher: Option<PhotoFetcher>,
    ready: HashMap<PhotoAsk, TextureHandle>,
    order: Vec<PhotoAsk>,
    /// Asked and not back yet, or failed (not asked again): panels hold `&self`.
    asked: Mutex<HashSet<PhotoAsk>>,
}

impl WallPhotos {
    pub fn new(fetcher: Option<PhotoFetcher>) -> WallPhotos {
        WallPhotos {
            fetcher,
            ..Default::default()
        }
    }

    /// Whether photos can be shown at all.
    pub fn enabled(&self) -> bool {
        self.fetcher.is_some()
    }

    /// The texture for `ask`, or `None` while it is fetched (asked once).
    pub fn get(&self, ask: &PhotoAsk) -> Option<&TextureHandle> {
        if let Some(t) = self.ready.get(ask) {
            return Some(t);
        }
        let fetcher = self.fetcher.as_ref()?;
        if let Ok(mut asked) = self.asked.lock()
            && asked.insert(ask.clone())
            && fetcher.asks.try_send(ask.clone()).is_err()
        {
            // The fetchers are busy: asked again on a later frame.
            asked.remove(ask);
        }
        None
    }
}

/// The photo shown large, if one is.
#[derive(Resource, Default)]
pub struct PhotoView(pub Option<PhotoAsk>);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<WallPhotos>()
        .init_resource::<PhotoView>()
        .add_systems(Update, open_close)
        .add_systems(EguiPrimaryContextPass, receive);
}

fn open_close(mut actions: MessageReader<UiAction>, mut view: ResMut<PhotoView>) {
    for a in actions.read() {
        if let UiAction::ShowPhoto(p) = a {
            view.0 = p.clone();
        }
    }
}

/// What the fetcher brought back, as textures.
fn receive(mut contexts: EguiContexts, mut photos: ResMut<WallPhotos>) -> Result {
    let Some(got) = photos
        .fetcher
        .as_ref()
        .map(|f| f.got.try_iter().collect::<Vec<_>>())
    else {
        return Ok(());
    };
    if got.is_empty() {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?.clone();
    for g in got {
        let Ok((w, h, rgba)) = g.image else {
            continue;
        };
        let image = ColorImage::from_rgba_unmultiplied([w as usize, h as usize], &rgba);
        let name = format!("photo-{}-{}", g.ask.id, g.ask.thumb);
        let tex = ctx.load_texture(name, image, TextureOptions::LINEAR);
        if let Ok(mut asked) = photos.asked.lock() {
            asked.remove(&g.ask);
        }
        photos.order.push(g.ask.clone());
        photos.ready.insert(g.ask, tex);
        while photos.order.len() > KEEP {
            let old = photos.order.remove(0);
            photos.ready.remove(&old);
        }
    }
    Ok(())
}

/// A row of thumbnails (`size` points high) of `photos` of `ticket`; a click shows one
/// large. Before they arrive, grey boxes; without a fetcher, the count.
pub fn strip(
    ui: &mut egui::Ui,
    wall: &WallPhotos,
    ticket: u64,
    photos: &[protocol::PhotoRef],
    size: f32,
    out: &mut Vec<UiAction>,
) {
    ui.horizontal_wrapped(|ui| {
        for p in photos {
            let ask = PhotoAsk {
                id: p.id.clone(),
                ticket,
                thumb: true,
            };
            let resp = match wall.get(&ask) {
                Some(t) => {
                    let [w, h] = t.size();
                    let scale = size / h.max(1) as f32;
                    ui.add(
                        egui::Image::new((t.id(), egui::vec2(w as f32 * scale, size)))
                            .sense(egui::Sense::click()),
                    )
                }
                None => {
                    let (r, resp) =
                        ui.allocate_exact_size(egui::vec2(size * 1.33, size), egui::Sense::click());
                    ui.painter()
                        .rect_filled(r, 4.0, egui::Color32::from_gray(50));
                    resp
                }
            };
            let resp = resp.on_hover_text(p.slot.zh());
            if resp.clicked() {
                out.push(UiAction::ShowPhoto(Some(PhotoAsk {
                    thumb: false,
                    ..ask
                })));
            }
        }
    });
}

/// The photo shown large over `area`, with what it shows; a click anywhere closes it.
pub fn viewer(
    ctx: &egui::Context,
    area: egui::Rect,
    wall: &WallPhotos,
    view: &PhotoView,
    out: &mut Vec<UiAction>,
) {
    let Some(ask) = &view.0 else {
        return;
    };
    egui::Area::new(egui::Id::new("photo-viewer"))
        .order(egui::Order::Foreground)
        .fixed_pos(area.min)
        .show(ctx, |ui| {
            let (r, resp) = ui.allocate_exact_size(area.size(), egui::Sense::click());
            ui.painter()
                .rect_filled(r, 0.0, egui::Color32::from_black_alpha(220));
            match wall.get(ask) {
                Some(t) => {
                    let [w, h] = t.size();
                    let k = (r.width() * 0.92 / w as f32).min(r.height() * 0.88 / h as f32);
                    let shown = egui::Rect::from_center_size(
                        r.center(),
                        egui::vec2(w as f32, h as f32) * k,
                    );
                    ui.painter().image(
                        t.id(),
                        shown,
                        egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                        egui::Color32::WHITE,
                    );
                }
                None => {
                    ui.painter().text(
                        r.center(),
                        egui::Align2::CENTER_CENTER,
                        "加载中… loading",
                        crate::fonts::bold(28.0),
                        egui::Color32::WHITE,
                    );
                }
            }
            ui.painter().text(
                r.center_bottom() - egui::vec2(0.0, 16.0),
                egui::Align2::CENTER_BOTTOM,
                format!(
                    "工单 #{} · 现场照片 · 点击关闭 (click to close)",
                    ask.ticket
                ),
                crate::fonts::bold(20.0),
                egui::Color32::WHITE,
            );
            if resp.clicked() {
                out.push(UiAction::ShowPhoto(None));
            }
        });
}
