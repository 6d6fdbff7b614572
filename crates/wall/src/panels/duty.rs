//! The duty room on the wall: who is on duty now (the title bar's line), and over the
//! map's bottom-left corner the escalations nobody has acknowledged yet (who was told,
//! when, on which channel, and a 确认 button), handovers waiting for their signature
//! (签收), and notification channels that keep failing: a failure shows, not silently.

use bevy_egui::egui::{self, Align2, Color32, RichText, Ui};

use super::PanelCtx;
use super::frame::wall_area;
use crate::action::UiAction;
use crate::fonts::bold;
use crate::text::hhmm;
use crate::theme::{AMBER, BG, CYAN, DIM, RED};
use protocol::{CHANNEL_FAILING, Command, Duty, Shift};

/// The shifts on duty the wall names: its own center's (the city's for a city wall), or
/// the widest center that has someone; in role order.
fn shown(d: &Duty) -> Vec<&Shift> {
    let mut on: Vec<&Shift> = d
        .on_duty
        .iter()
        .filter_map(|id| d.roster.shift(*id))
        .collect();
    let widest = on.iter().map(|s| s.center.len()).min().unwrap_or(0);
    on.retain(|s| s.center.len() == widest);
    on.sort_by_key(|s| std::cmp::Reverse(s.role));
    on
}

/// 值班领导 李强 · 值班长 张伟 · 值班员 王敏, in the title bar (nothing without a roster).
pub fn on_duty_line(ui: &mut Ui, cx: &PanelCtx) {
    let d = &cx.mirror.duty;
    let on = shown(d);
    if on.is_empty() {
        if !d.roster.shifts.is_empty() {
            ui.label(
                RichText::new(cx.lang.t("无人在岗", "nobody on duty"))
                    .font(bold(20.0))
                    .color(RED),
            );
        }
        return;
    }
    for s in on.iter().take(3) {
        let name = d
            .roster
            .person(&s.person)
            .map_or(s.person.as_str(), |p| p.name.as_str());
        ui.label(RichText::new(name).font(bold(20.0)).color(CYAN));
        ui.label(
            RichText::new(cx.lang.t(s.role.zh(), s.role.as_str()))
                .size(16.0)
                .color(DIM),
        );
        ui.add_space(6.0);
    }
    ui.label(
        RichText::new(cx.lang.t("值班", "On duty"))
            .size(16.0)
            .color(DIM),
    );
}

/// Escalations, unsigned handovers and failing channels, over the map's bottom-left.
pub fn board(ctx: &egui::Context, rect: egui::Rect, cx: &PanelCtx, out: &mut Vec<UiAction>) {
    let (lang, d) = (cx.lang, &cx.mirror.duty);
    let open: Vec<_> = d
        .escalations
        .iter()
        .filter(|e| e.closed.is_none())
        .collect();
    let unsigned: Vec<_> = d
        .handovers
        .iter()
        .filter(|h| h.signed_by.is_none())
        .collect();
    let failing: Vec<_> = d
        .channels
        .iter()
        .filter(|c| c.failures >= CHANNEL_FAILING)
        .collect();
    if open.is_empty() && unsigned.is_empty() && failing.is_empty() {
        return;
    }
    let name = |id: &str| {
        d.roster
            .person(id)
            .map_or(id.to_string(), |p| p.name.clone())
    };
    wall_area("duty-board", egui::Order::Foreground)
        .pivot(Align2::LEFT_BOTTOM)
        .fixed_pos(rect.left_bottom() + egui::vec2(12.0, -36.0))
        .show(ctx, |ui| {
            egui::Frame::new()
                .fill(BG)
                .stroke(egui::Stroke::new(
                    2.0,
                    if open.is_empty() { AMBER } else { RED },
                ))
                .corner_radius(8.0)
                .inner_margin(10.0)
                .show(ui, |ui| {
                    // The supervision notices take at most 38% on the right.
                    ui.set_width(rect.width() * 0.4);
                    for c in &failing {
                        ui.label(
                            RichText::new(format!(
                                "{} {} {} {}：{}",
                                lang.t("通知渠道", "Channel"),
                                c.channel,
                                lang.t("连续失败", "failed"),
                                c.failures,
                                c.last_error.chars().take(60).collect::<String>()
                            ))
                            .size(18.0)
                            .color(RED),
                        );
                    }
                    for e in open.iter().take(4) {
                        // Wrapped to the box: a long title must not push it over the
                        // supervision notices on the map's other corner.
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!(
                                    "{} {}",
                                    lang.t("升级提醒", "Escalation"),
                                    e.title
                                ))
                                .font(bold(20.0))
                                .color(Color32::WHITE),
                            )
                            .wrap(),
                        );
                        // Who was told last, when, how it went.
                        let told: Vec<String> = e
                            .notices
                            .iter()
                            .rev()
                            .take(3)
                            .map(|n| match (&n.error, n.channel.as_str()) {
                                // Nobody to tell, or nothing to tell them with: say which.
                                (Some(err), "-") => format!(
                                    "{} {}",
                                    hhmm(n.at_ms),
                                    err.split(['：', ':']).next().unwrap_or(err)
                                ),
                                (e, _) => format!(
                                    "{} {} {}{} {}",
                                    hhmm(n.at_ms),
                                    n.channel,
                                    n.role.zh(),
                                    n.name,
                                    if e.is_none() { "✓" } else { "✕" }
                                ),
                            })
                            .collect();
                        ui.horizontal_wrapped(|ui| {
                            if ui
                                .button(
                                    RichText::new(lang.t("确认", "Acknowledge")).font(bold(18.0)),
                                )
                                .clicked()
                            {
                                out.push(UiAction::Send(Command::AckEscalation {
                                    escalation: e.id,
                                }));
                            }
                            ui.label(
                                RichText::new(format!(
                                    "{} {} {} · {}",
                                    lang.t("第", "round"),
                                    e.rounds,
                                    lang.t("轮", ""),
                                    if told.is_empty() {
                                        lang.t("通知中…", "notifying…").to_string()
                                    } else {
                                        told.join(" · ")
                                    }
                                ))
                                .size(16.0)
                                .color(DIM),
                            );
                        });
                        ui.add_space(4.0);
                    }
                    if open.len() > 4 {
                        ui.label(
                            RichText::new(format!("+{}", open.len() - 4))
                                .size(16.0)
                                .color(DIM),
                        );
                    }
                    for h in unsigned.iter().take(2) {
                        ui.horizontal_wrapped(|ui| {
                            ui.label(
                                RichText::new(lang.t("交接班待签收", "Handover to sign"))
                                    .font(bold(18.0))
                                    .color(AMBER),
                            );
                            ui.label(
                                RichText::new(format!(
                                    "#{} {} {} → {}",
                                    h.id,
                                    hhmm(h.drafted_ms),
                                    name(&h.from),
                                    h.to.as_deref().map_or("—".into(), name)
                                ))
                                .size(18.0),
                            );
                            if ui
                                .button(RichText::new(lang.t("签收", "Sign")).font(bold(16.0)))
                                .clicked()
                            {
                                out.push(UiAction::Send(Command::SignHandover { handover: h.id }));
                            }
                        });
                    }
                });
        });
}
