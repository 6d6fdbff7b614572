//! The title bar: the center's name, the feed's health (live with its latency, syncing,
//! stale, reconnecting, or a replay), the clock and the demo's mark; or, on a layout
//! without a title region, the same health as a chip over the map.

use std::time::Instant;

use bevy_egui::egui::{self, Align2, Color32, RichText, Ui};

use super::PanelCtx;
use super::frame::{chip, wall_area};
use crate::fonts::bold;
use crate::link::FeedHealth;
use crate::text::UiLang;
use crate::theme::{AMBER, DIM, GREEN, RED};
use domain::time::civil;
use feed::FeedStatus;

pub fn bar(ui: &mut Ui, cx: &PanelCtx, health: &FeedHealth, demo: bool) {
    let (lang, now) = (cx.lang, cx.now);
    let replaying = cx.mirror.replay.map(|r| r.1);
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
            let c = civil(now);
            ui.label(RichText::new(c.hhmmss()).font(bold(30.0)).monospace());
            ui.label(RichText::new(c.date()).size(18.0).color(DIM));
            ui.add_space(24.0);
            let (text, color) = health_text(lang, health, replaying);
            ui.label(RichText::new(text).font(bold(22.0)).color(color));
            ui.add_space(20.0);
            super::duty::on_duty_line(ui, cx);
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

/// Feed health where the layout has no title region: a chip over the map's top right.
pub fn health_chip(
    ctx: &egui::Context,
    map_rect: egui::Rect,
    cx: &PanelCtx,
    health: &FeedHealth,
    demo: bool,
) {
    let lang = cx.lang;
    let (text, color) = health_text(lang, health, cx.mirror.replay.map(|r| r.1));
    wall_area("health-chip", egui::Order::Foreground)
        .anchor(
            Align2::RIGHT_TOP,
            egui::vec2(
                -(ctx.viewport_rect().right() - map_rect.right()) - 12.0,
                map_rect.top() + 12.0,
            ),
        )
        .show(ctx, |ui| {
            chip().show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(civil(cx.now).hhmmss()).font(bold(26.0)));
                    ui.label(RichText::new(text).font(bold(22.0)).color(color));
                    if demo {
                        ui.label(
                            RichText::new(lang.t("演示 · 模拟数据", "DEMO · simulated data"))
                                .font(bold(22.0))
                                .color(AMBER),
                        );
                    }
                });
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
