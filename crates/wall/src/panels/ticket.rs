//! The selected ticket's panel: its details and countdown, the recommended unit with
//! alternatives (one click dispatches), supervise / escalate / brief, the command in
//! flight behind its undo window (pending, confirmed, or refused in words), and the audit
//! trail. A click arms a command (`UiAction`); it never edits state.

use domain::Deadlines;
use std::time::Duration;

use bevy_egui::egui::{self, Color32, RichText};

use super::PanelCtx;
use crate::action::{Selection, UiAction};
use crate::fonts::bold;
use crate::link::{CommandState, Outbox};
use crate::text::{action, countdown, hhmm};
use crate::theme::{AMBER, DIM, GREEN, RED};
use domain::lifecycle::can_dispatch;
use domain::units::recommend;
use protocol::{Command, Incident, Level, Priority, Stage, Unit};

/// The citizen's words (诉求内容) and the address, where the ticket has them.
fn words(ui: &mut egui::Ui, lang: crate::text::UiLang, t: &protocol::Ticket) {
    if !t.address.is_empty() {
        ui.label(
            RichText::new(format!("{}: {}", lang.t("地址", "Address"), t.address))
                .size(16.0)
                .color(DIM),
        );
    }
    if !t.content.is_empty() {
        egui::ScrollArea::vertical()
            .id_salt("ticket-words")
            .max_height(96.0)
            .show(ui, |ui| {
                ui.label(RichText::new(&t.content).size(17.0));
            });
    }
}

/// What a field action's mark adds to its trail line: where the phone stood, its photos.
fn field_text(lang: crate::text::UiLang, f: &protocol::FieldMark) -> String {
    let mut s = String::from("  · ");
    s.push_str(&match f.pos {
        Some(p) => format!(
            "{} {:.5},{:.5} ±{:.0}m",
            lang.t("现场", "on site"),
            p.lon,
            p.lat,
            p.accuracy_m
        ),
        None => lang.t("未定位", "no position").to_string(),
    });
    if !f.photos.is_empty() {
        s.push_str(&format!(
            " · {} {}",
            lang.t("照片", "photos"),
            f.photos.len()
        ));
    }
    s
}

/// The field's photos under the ticket's words, with their count.
fn photos(ui: &mut egui::Ui, cx: &PanelCtx, t: &protocol::Ticket, actions: &mut Vec<UiAction>) {
    if t.work.photos.is_empty() {
        return;
    }
    ui.label(
        RichText::new(format!(
            "{} {}",
            cx.lang.t("现场照片", "Field photos"),
            t.work.photos.len()
        ))
        .size(16.0)
        .color(DIM),
    );
    if cx.photos.enabled() {
        crate::photos::strip(ui, cx.photos, t.id, &t.work.photos, 72.0, actions);
    }
}

/// The panel for the selected ticket.
pub fn panel(
    ui: &mut egui::Ui,
    cx: &PanelCtx,
    sel: &Selection,
    outbox: &Outbox,
    undo: Duration,
    actions: &mut Vec<UiAction>,
) {
    let PanelCtx {
        lang,
        mirror,
        trails,
        now: now_ms,
        live,
        ..
    } = *cx;
    let Some(id) = sel.ticket else {
        ui.label(
            RichText::new(lang.t(
                "点击工单查看详情并派单",
                "Click a ticket to see it and dispatch",
            ))
            .color(DIM)
            .size(18.0),
        );
        return;
    };
    let Some(t) = mirror.tickets.get(&id) else {
        ui.label(
            RichText::new(lang.t(
                &format!("工单 {id} 已办结归档"),
                &format!("Ticket {id} is closed"),
            ))
            .size(18.0),
        );
        if ui.button(lang.t("关闭", "Close")).clicked() {
            actions.push(UiAction::Deselect);
        }
        return;
    };
    ui.horizontal(|ui| {
        let pc = match t.priority {
            Priority::Urgent => RED,
            Priority::Important => AMBER,
            _ => Color32::LIGHT_GRAY,
        };
        ui.label(
            RichText::new(lang.priority(t.priority))
                .color(pc)
                .font(bold(20.0)),
        );
        ui.label(RichText::new(format!("#{} {}", t.id, t.title)).font(bold(20.0)));
        if ui.small_button(lang.t("关闭", "Close")).clicked() {
            actions.push(UiAction::Deselect);
        }
    });
    let (stage, due) = t
        .current_deadline()
        .unwrap_or((Stage::Resolve, t.deadline_ms));
    let left = due - now_ms;
    ui.horizontal_wrapped(|ui| {
        let info = format!(
            "{} · {} / {} · {} · {} · {}",
            lang.channel(t.channel),
            lang.category(t.category),
            t.subtype,
            t.grid,
            t.reporter,
            hhmm(t.created_ms)
        );
        ui.label(RichText::new(info).size(16.0).color(DIM));
    });
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!(
                "{}: {}",
                lang.t("状态", "Status"),
                lang.status(t.status)
            ))
            .size(18.0),
        );
        ui.label(
            RichText::new(format!(
                "{}: {}",
                lang.t("层级", "Level"),
                lang.t(t.level.zh(), t.level.en())
            ))
            .size(18.0),
        );
        let c = if left < 0 {
            RED
        } else if left < 3_600_000 {
            AMBER
        } else {
            Color32::LIGHT_GRAY
        };
        // The countdown is the current stage's: 签收 (accept), 处置 (start work), 办结.
        let label = format!(
            "{}{}",
            lang.t(stage.zh(), stage.en()),
            if left < 0 {
                lang.t("已超期", " overdue")
            } else {
                lang.t("剩余", " left")
            }
        );
        // A closed ticket's deadline no longer counts down, nor does one whose clock
        // stands (疑难, 挂起, 待审核): its age says how long it has waited.
        if t.status.is_open() && !t.clock_runs() {
            ui.label(
                RichText::new(format!(
                    "{} {}",
                    lang.t("已历时", "waiting"),
                    countdown(now_ms - t.created_ms)
                ))
                .size(18.0)
                .color(DIM),
            );
        } else if t.status.is_open() {
            ui.label(
                RichText::new(format!("{label} {}", countdown(left)))
                    .size(18.0)
                    .color(if live { c } else { DIM }),
            );
        }
    });
    if let Some(u) = t.unit.as_ref() {
        let name = mirror.units.get(u).map(|u| u.name.as_str()).unwrap_or(u);
        ui.label(
            RichText::new(format!("{}: {name}", lang.t("承办单位", "Assigned to"))).size(17.0),
        );
    }
    words(ui, lang, t);
    photos(ui, cx, t, actions);
    super::workflow::buttons(ui, lang, t, sel, actions);
    ui.separator();
    duplicates(ui, (t, &mirror.tickets, mirror.seq), lang, sel, actions);

    // Dispatch: the recommended unit and alternatives, in the order the one-click
    // dispatch uses (the unit that returned it last goes to the back).
    let ranked: Vec<&Unit> = recommend(
        mirror.units.values(),
        t,
        trails.0.get(&t.id).map(|v| v.as_slice()),
    );
    if can_dispatch(t.status) {
        if ranked.is_empty() {
            ui.label(
                RichText::new(lang.t(
                    "本辖区无在岗对口单位，请上报",
                    "No unit on duty for this here: escalate",
                ))
                .color(AMBER)
                .size(17.0),
            );
        }
        for (i, u) in ranked.iter().take(4).enumerate() {
            ui.horizontal(|ui| {
                let tag = if i == 0 {
                    lang.t("推荐", "Best")
                } else {
                    lang.t("备选", "Alt")
                };
                let text = RichText::new(format!("{tag}  {}", u.name)).size(18.0);
                let btn = if i == 0 {
                    egui::Button::new(text.color(Color32::BLACK).strong())
                        .fill(Color32::from_rgb(80, 200, 255))
                        .min_size(egui::vec2(300.0, 36.0))
                } else {
                    egui::Button::new(text).min_size(egui::vec2(300.0, 30.0))
                };
                let enabled = sel.armed.is_none();
                if ui.add_enabled(enabled, btn).clicked() {
                    actions.push(UiAction::Arm {
                        command: Command::Dispatch {
                            ticket: t.id,
                            unit: u.id.clone(),
                        },
                        label: format!("{} → {}", lang.t("派单", "Dispatch"), u.name),
                    });
                }
            });
        }
    }
    ui.horizontal(|ui| {
        let open = t.status.is_open();
        if ui
            .add_enabled(
                open && !t.supervised && sel.armed.is_none(),
                egui::Button::new(RichText::new(lang.t("督办", "Supervise")).size(17.0)),
            )
            .clicked()
        {
            actions.push(UiAction::Arm {
                command: Command::Supervise {
                    ticket: t.id,
                    note: lang.t("指挥中心督办", "Supervised by the center").into(),
                    stage: None,
                },
                label: lang.t("督办", "Supervise").into(),
            });
        }
        let can_up = open && t.level < Level::City;
        if ui
            .add_enabled(
                can_up && sel.armed.is_none(),
                egui::Button::new(RichText::new(lang.t("上报", "Escalate")).size(17.0)),
            )
            .clicked()
        {
            actions.push(UiAction::Arm {
                command: Command::Escalate {
                    ticket: t.id,
                    reason: lang.t("指挥中心上报", "Escalated by the center").into(),
                },
                label: lang.t("上报", "Escalate").into(),
            });
        }
        if ui
            .add_enabled(
                open,
                egui::Button::new(RichText::new(lang.t("联合会商", "Brief")).size(17.0)),
            )
            .on_hover_text(lang.t("所有大屏转入此工单的联合会商", "Every wall turns to it"))
            .clicked()
        {
            actions.push(UiAction::Send(Command::StartBriefing {
                incident: Incident::Ticket { id: t.id },
            }));
        }
    });

    // The command in flight: armed (undo), pending, confirmed or refused.
    if let Some(a) = &sel.armed {
        let left = undo.saturating_sub(a.at.elapsed());
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!("{} · {:.1} s", a.label, left.as_secs_f32()))
                    .size(18.0)
                    .color(AMBER),
            );
            if ui
                .button(RichText::new(lang.t("撤销", "Undo")).size(18.0))
                .clicked()
            {
                actions.push(UiAction::Undo);
            }
        });
    } else if let Some((key, label)) = &sel.sent {
        let (text, color) = match outbox.state(key) {
            Some(CommandState::Pending) | None => (
                format!("{label} · {}", lang.t("等待确认…", "pending…")),
                AMBER,
            ),
            Some(CommandState::Confirmed) => (
                format!("{label} · {}", lang.t("已确认", "confirmed")),
                GREEN,
            ),
            Some(CommandState::Refused { message, .. }) => (
                format!("{label} · {}: {message}", lang.t("被拒绝", "refused")),
                RED,
            ),
            Some(CommandState::NotSent(why)) => (
                format!("{label} · {}: {why}", lang.t("未发出", "not sent")),
                RED,
            ),
        };
        ui.label(RichText::new(text).size(18.0).color(color));
    }
    ui.separator();
    ui.label(RichText::new(lang.t("处置记录", "Audit trail")).font(bold(18.0)));
    egui::ScrollArea::vertical()
        .id_salt("audit")
        .max_height(ui.available_height())
        .show(ui, |ui| match trails.0.get(&t.id) {
            None => {
                ui.label(RichText::new(lang.t("加载中…", "loading…")).color(DIM));
            }
            Some(entries) => {
                for a in entries.iter().rev() {
                    let to = a.to.map(|s| lang.status(s)).unwrap_or("");
                    ui.label(
                        RichText::new(format!(
                            "{}  {}  {}  {}  {}{}",
                            hhmm(a.at_ms),
                            a.actor,
                            action(lang, a.action),
                            to,
                            a.note,
                            a.field
                                .as_ref()
                                .map(|f| field_text(lang, f))
                                .unwrap_or_default()
                        ))
                        .size(15.0),
                    );
                }
            }
        });
}

/// The same matter reported again: a merged ticket says whose it is (one click unmerges);
/// an open one lists the tickets that look alike (same category, place, time) with one
/// click to merge the later report into the earlier.
fn duplicates(
    ui: &mut egui::Ui,
    (t, tickets, seq): (&protocol::Ticket, &domain::state::Tickets, u64),
    lang: crate::text::UiLang,
    sel: &crate::action::Selection,
    actions: &mut Vec<UiAction>,
) {
    if let Some(m) = t.merged_into {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(lang.t(
                    &format!("已并入 #{m}，随其办理"),
                    &format!("Merged into #{m}"),
                ))
                .size(18.0)
                .color(AMBER),
            );
            let b = egui::Button::new(RichText::new(lang.t("撤销合并", "Unmerge")).size(17.0));
            if ui.add_enabled(sel.armed.is_none(), b).clicked() {
                actions.push(UiAction::Arm {
                    command: Command::Unmerge { ticket: t.id },
                    label: format!("{} #{}", lang.t("撤销合并", "Unmerge"), t.id),
                });
            }
        });
        ui.separator();
        return;
    }
    // A scan of every live ticket: on a new selection, then at most once a second while
    // the mirror changes, never every frame (kept in egui's memory). What is shown is
    // checked again each frame, so a ticket merged meanwhile drops out at once.
    let id = egui::Id::new("duplicate-candidates");
    let now = ui.input(|i| i.time);
    let cached: Option<(u64, u64, f64, Vec<u64>)> = ui.ctx().memory_mut(|m| m.data.get_temp(id));
    let ids = match cached {
        Some((tid, s, at, ids)) if tid == t.id && (s == seq || now - at < 1.0) => ids,
        _ => {
            let ids: Vec<u64> =
                domain::duplicates::candidates(t, tickets.values().map(|b| &**b), 3)
                    .iter()
                    .map(|o| o.id)
                    .collect();
            ui.ctx()
                .memory_mut(|m| m.data.insert_temp(id, (t.id, seq, now, ids.clone())));
            ids
        }
    };
    let alike: Vec<&protocol::Ticket> = ids
        .iter()
        .filter_map(|i| tickets.get(i).map(|b| &**b))
        .filter(|o| domain::duplicates::alike(t, o))
        .collect();
    if alike.is_empty() {
        return;
    }
    ui.label(
        RichText::new(lang.t("疑似重复诉求", "Looks like the same matter"))
            .font(bold(17.0))
            .color(AMBER),
    );
    for o in alike {
        let (master, dup) = domain::duplicates::master_of(t, o);
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!(
                    "#{} {} · {} · {}",
                    o.id,
                    o.title,
                    lang.channel(o.channel),
                    hhmm(o.created_ms)
                ))
                .size(16.0),
            );
            let text = format!("{} #{} → #{}", lang.t("合并", "Merge"), dup.id, master.id);
            let b = egui::Button::new(RichText::new(&text).size(16.0));
            if ui.add_enabled(sel.armed.is_none(), b).clicked() {
                actions.push(UiAction::Arm {
                    command: Command::Merge {
                        ticket: dup.id,
                        into: master.id,
                    },
                    label: text.clone(),
                });
            }
        });
    }
    ui.separator();
}
