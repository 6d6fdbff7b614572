//! The center's workflow on the selected ticket: the buttons where it stands (审核 a
//! unit's result, 回访 the citizen, decide an extension, 疑难, 挂起) and what it already
//! carries (the marks, an extension asked for). Each click arms a command, like dispatch:
//! it goes after the undo window and never edits state.

use bevy_egui::egui::{self, Color32, RichText};

use crate::action::{Selection, UiAction};
use crate::text::UiLang;
use crate::theme::{AMBER, DIM, RED};
use protocol::{CallbackResult, Command, Ticket, TicketStatus};

fn arm(out: &mut Vec<UiAction>, command: Command, label: String) {
    out.push(UiAction::Arm { command, label });
}

/// The marks and the buttons for `t`.
pub fn buttons(
    ui: &mut egui::Ui,
    lang: UiLang,
    t: &Ticket,
    sel: &Selection,
    out: &mut Vec<UiAction>,
) {
    let w = &t.work;
    let mut marks = vec![];
    if let Some(why) = &w.hard {
        marks.push((format!("{}: {why}", lang.t("疑难", "Hard case")), RED));
    }
    if w.suspended_since_ms.is_some() {
        marks.push((
            lang.t("挂起中 · 时限暂停", "Suspended · clock stopped")
                .into(),
            AMBER,
        ));
    }
    if w.rework > 0 {
        marks.push((
            format!("{} {}", lang.t("重办次数", "Reopened"), w.rework),
            AMBER,
        ));
    }
    if w.extensions > 0 {
        marks.push((
            format!("{} {}", lang.t("已延期", "Extended"), w.extensions),
            DIM,
        ));
    }
    if let Some(c) = w.callback {
        marks.push((format!("{} {}", lang.t("回访", "Callback"), c.zh()), DIM));
    }
    if t.grid.is_empty() {
        marks.push((
            lang.t("待定位: 请在地图上定位", "Unplaced: place it on the map")
                .into(),
            RED,
        ));
    }
    if !marks.is_empty() {
        ui.horizontal_wrapped(|ui| {
            for (m, c) in marks {
                ui.label(RichText::new(m).size(16.0).color(c));
            }
        });
    }
    let free = sel.armed.is_none();
    let id = t.id;
    let b = |s: &str| egui::Button::new(RichText::new(s).size(17.0));
    if w.hard.is_some() && t.status.is_open() {
        meeting(ui, lang, t, free, out);
    }
    if let Some(ask) = &w.extension_asked {
        ui.label(
            RichText::new(format!(
                "{} {} · {}",
                lang.t("延期申请至", "Extension asked until"),
                domain::time::iso(ask.until_ms),
                ask.reason
            ))
            .size(16.0)
            .color(AMBER),
        );
        ui.horizontal(|ui| {
            for (approve, zh, en) in [(true, "同意延期", "Approve"), (false, "不同意", "Refuse")]
            {
                if ui.add_enabled(free, b(lang.t(zh, en))).clicked() {
                    let command = Command::DecideExtension {
                        ticket: id,
                        approve,
                        note: String::new(),
                    };
                    arm(out, command, lang.t(zh, en).into());
                }
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        match t.status {
            TicketStatus::Reviewing => {
                let ok = b(lang.t("审核通过", "Approve result"));
                if ui
                    .add_enabled(free, ok.fill(Color32::from_rgb(40, 120, 60)))
                    .clicked()
                {
                    let command = Command::Review {
                        ticket: id,
                        approve: true,
                        note: String::new(),
                    };
                    arm(out, command, lang.t("审核通过", "Approve").into());
                }
                if ui
                    .add_enabled(free, b(lang.t("退回重办", "Send back")))
                    .clicked()
                {
                    let command = Command::Review {
                        ticket: id,
                        approve: false,
                        note: lang
                            .t(
                                "处置结果未达要求，请重新办理",
                                "Not done as asked: do it again",
                            )
                            .into(),
                    };
                    arm(out, command, lang.t("退回重办", "Send back").into());
                }
            }
            TicketStatus::Resolved => {
                for r in CallbackResult::ALL {
                    if ui
                        .add_enabled(free, b(lang.t(r.zh(), callback_en(r))))
                        .clicked()
                    {
                        let command = Command::Callback {
                            ticket: id,
                            result: r,
                            words: String::new(),
                        };
                        let label = format!("{} · {}", lang.t("回访", "Callback"), r.zh());
                        arm(out, command, label);
                    }
                }
            }
            _ => {}
        }
        if t.status.is_open()
            && w.hard.is_none()
            && ui
                .add_enabled(free, b(lang.t("标记疑难", "Mark hard")))
                .clicked()
        {
            let command = Command::MarkHard {
                ticket: id,
                reason: lang
                    .t("提交疑难工单协调会", "To the hard-case meeting")
                    .into(),
            };
            arm(out, command, lang.t("标记疑难", "Mark hard").into());
        }
        if t.status.with_unit() {
            let (command, zh, en) = if w.suspended_since_ms.is_some() {
                (Command::Release { ticket: id }, "解除挂起", "Release")
            } else {
                let reason = lang.t("待协调会研究", "Waiting for the meeting").into();
                (Command::Suspend { ticket: id, reason }, "挂起", "Suspend")
            };
            if ui.add_enabled(free, b(lang.t(zh, en))).clicked() {
                arm(out, command, lang.t(zh, en).into());
            }
        }
    });
}

/// A hard case's coordination meeting: put it to one (next week's), or record what the
/// meeting decided (办结 there, or back to its unit with a week).
fn meeting(ui: &mut egui::Ui, lang: UiLang, t: &Ticket, free: bool, out: &mut Vec<UiAction>) {
    let b = |s: &str| egui::Button::new(RichText::new(s).size(17.0));
    let id = t.id;
    let now = domain::time::now_ms();
    match &t.work.meeting {
        None => {
            if ui
                .add_enabled(free, b(lang.t("排入协调会", "To the meeting")))
                .clicked()
            {
                let command = Command::ScheduleMeeting {
                    ticket: id,
                    at_ms: now + 7 * 86_400_000,
                    title: lang.t("疑难工单处置协调会", "Hard-case meeting").into(),
                };
                arm(out, command, lang.t("排入协调会", "To the meeting").into());
            }
        }
        Some(m) => {
            ui.label(
                RichText::new(format!("{} · {}", m.title, domain::time::iso(m.at_ms)))
                    .size(16.0)
                    .color(AMBER),
            );
            ui.horizontal(|ui| {
                let present: Vec<String> = t.unit.iter().cloned().collect();
                if ui
                    .add_enabled(free, b(lang.t("会议办结", "Settled there")))
                    .clicked()
                {
                    let command = Command::MeetingOutcome {
                        ticket: id,
                        units_present: present.clone(),
                        lead_unit: None,
                        deadline_ms: None,
                        resolved: true,
                        note: String::new(),
                    };
                    arm(out, command, lang.t("会议办结", "Settled").into());
                }
                if ui
                    .add_enabled(free, b(lang.t("限期7日办结", "A week to do it")))
                    .clicked()
                {
                    let command = Command::MeetingOutcome {
                        ticket: id,
                        units_present: present,
                        lead_unit: t.unit.clone(),
                        deadline_ms: Some(now + 7 * 86_400_000),
                        resolved: false,
                        note: String::new(),
                    };
                    arm(out, command, lang.t("限期7日办结", "A week").into());
                }
            });
        }
    }
}

fn callback_en(r: CallbackResult) -> &'static str {
    match r {
        CallbackResult::Satisfied => "Satisfied",
        CallbackResult::BasicallySatisfied => "Mostly satisfied",
        CallbackResult::Unsatisfied => "Unsatisfied",
        CallbackResult::Unreached => "No answer",
    }
}
