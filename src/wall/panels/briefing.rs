//! The briefing board (联合会商): the incident's key numbers in large type, the units
//! engaged and where their tickets stand, the significant-events lane and, for the
//! officer, the whole trail with a star to promote an entry.

use std::collections::BTreeSet;

use bevy_egui::egui::{self, Color32, RichText, Ui};

use super::PanelCtx;
use crate::protocol::{AuditEntry, Briefing, Command, Incident};
use crate::wall::action::UiAction;
use crate::wall::briefing::{incident_region, lane, timeline};
use crate::wall::fonts::bold;
use crate::wall::text::{UiLang, action, countdown, hhmm};
use crate::wall::theme::{AMBER, CYAN, DIM, GREEN, RED, level_color};
use crate::wall::view::region_name;

/// One audit entry as a line: time, ticket, what was done, by whom, the note.
fn entry_text(lang: UiLang, ticket: u64, a: &AuditEntry) -> String {
    format!(
        "{} #{ticket} {} · {} {}",
        hhmm(a.at_ms),
        action(lang, a.action),
        a.actor,
        a.note
    )
}

fn elapsed(ms: i64) -> String {
    let m = ms.max(0) / 60_000;
    if m >= 60 {
        format!("{}h{:02}m", m / 60, m % 60)
    } else {
        format!("{m}m")
    }
}

fn number(ui: &mut Ui, label: &str, value: String, color: Color32) {
    ui.vertical(|ui| {
        ui.label(RichText::new(label).size(20.0).color(DIM));
        ui.label(RichText::new(value).font(bold(48.0)).color(color));
    });
}

/// The briefing board. `operator`: the wall can send commands, so it shows the whole
/// trail with stars to promote entries, and the end button.
pub fn board(ui: &mut Ui, cx: &PanelCtx, b: &Briefing, out: &mut Vec<UiAction>) {
    let PanelCtx {
        lang,
        mirror: m,
        trails,
        map,
        now,
        ..
    } = *cx;
    let tickets: Vec<&crate::protocol::Ticket> =
        b.tickets.iter().filter_map(|t| m.tickets.get(t)).collect();
    // Title: what, where, since when.
    let (title, color, since) = match b.incident {
        Incident::Ticket { id } => match m.tickets.get(&id) {
            Some(t) => (
                format!("{} #{} {}", lang.priority(t.priority), t.id, t.title),
                AMBER,
                t.created_ms,
            ),
            None => (format!("#{id}"), DIM, b.started_ms),
        },
        Incident::Warning { id } => match m.warnings.get(&id) {
            Some(w) => (
                format!("{}{} {}", w.level.zh(), lang.t("预警", " warning"), w.title),
                level_color(w.level),
                w.raised_ms,
            ),
            None => (
                format!(
                    "{} {id} {}",
                    lang.t("预警", "warning"),
                    lang.t("已解除", "lifted")
                ),
                DIM,
                b.started_ms,
            ),
        },
    };
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(lang.t("联合会商", "JOINT BRIEFING"))
                .font(bold(30.0))
                .color(CYAN),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button(RichText::new(lang.t("结束会商", "End briefing")).font(bold(20.0)))
                .clicked()
            {
                out.push(UiAction::Send(Command::EndBriefing));
            }
            ui.label(
                RichText::new(format!(
                    "{} {} · {}",
                    b.by,
                    lang.t("发起于", "since"),
                    hhmm(b.started_ms)
                ))
                .size(18.0)
                .color(DIM),
            );
        });
    });
    ui.label(RichText::new(title).font(bold(34.0)).color(color));
    let place = incident_region(b);
    if !place.is_empty() {
        ui.label(
            RichText::new(format!(
                "{} {}",
                lang.t("区域", "Area"),
                region_name(map, &place)
            ))
            .size(20.0)
            .color(DIM),
        );
    }
    ui.add_space(8.0);
    // Key numbers, large.
    let open = tickets.iter().filter(|t| t.status.is_open()).count();
    let next_due = tickets
        .iter()
        .filter_map(|t| t.current_deadline())
        .map(|(_, d)| d)
        .min();
    let units: BTreeSet<&str> = tickets.iter().filter_map(|t| t.unit.as_deref()).collect();
    ui.columns(4, |c| {
        number(
            &mut c[0],
            lang.t("已持续", "Elapsed"),
            elapsed(now - since),
            Color32::WHITE,
        );
        number(
            &mut c[1],
            lang.t("工单 在办/总数", "Tickets open/all"),
            format!("{open}/{}", tickets.len()),
            if open > 0 { AMBER } else { GREEN },
        );
        match next_due {
            Some(d) => number(
                &mut c[2],
                lang.t("最近时限", "Next deadline"),
                countdown(d - now),
                if d < now { RED } else { AMBER },
            ),
            None => number(
                &mut c[2],
                lang.t("最近时限", "Next deadline"),
                "—".into(),
                GREEN,
            ),
        }
        number(
            &mut c[3],
            lang.t("联动单位", "Units engaged"),
            units.len().to_string(),
            CYAN,
        );
    });
    // Units and where their tickets stand.
    if !tickets.is_empty() {
        ui.add_space(6.0);
        ui.label(RichText::new(lang.t("处置力量", "Units engaged")).font(bold(22.0)));
        for t in tickets.iter().take(6) {
            let unit = t
                .unit
                .as_deref()
                .map(|u| m.units.get(u).map(|x| x.name.as_str()).unwrap_or(u))
                .unwrap_or(lang.t("待分拨", "not yet assigned"));
            let on_duty = t
                .unit
                .as_deref()
                .and_then(|u| m.units.get(u))
                .map(|u| u.on_duty);
            ui.label(
                RichText::new(format!(
                    "{unit}{} · #{} {}",
                    match on_duty {
                        Some(false) => lang.t("（离岗）", " (off duty)"),
                        _ => "",
                    },
                    t.id,
                    lang.status(t.status)
                ))
                .size(20.0),
            );
        }
    }
    let tl = timeline(b, trails);
    ui.add_space(8.0);
    ui.label(
        RichText::new(lang.t("重要事件", "Significant events"))
            .font(bold(24.0))
            .color(AMBER),
    );
    let lane = lane(b, &tl);
    if lane.is_empty() {
        ui.label(
            RichText::new(lang.t(
                "值班员在下方处置记录中点 ☆ 列入重要事件",
                "The duty officer stars entries below to list them here",
            ))
            .size(18.0)
            .color(DIM),
        );
    }
    for (t, a) in &lane {
        ui.label(RichText::new(entry_text(lang, *t, a)).font(bold(24.0)));
    }
    ui.add_space(8.0);
    ui.label(RichText::new(lang.t("处置记录（全留痕）", "Audit trail")).font(bold(20.0)));
    egui::ScrollArea::vertical()
        .id_salt("briefing-trail")
        .max_height(ui.available_height().max(40.0))
        .show(ui, |ui| {
            for (t, a) in tl.iter().rev() {
                let starred = b.significant.contains(&a.seq);
                ui.horizontal(|ui| {
                    if ui
                        .small_button(if starred { "★" } else { "☆" })
                        .on_hover_text(lang.t("列入/移出重要事件", "Promote / demote"))
                        .clicked()
                    {
                        out.push(UiAction::Send(Command::Promote {
                            seq: a.seq,
                            significant: !starred,
                        }));
                    }
                    ui.label(
                        RichText::new(entry_text(lang, *t, a))
                            .size(17.0)
                            .color(if starred { AMBER } else { Color32::LIGHT_GRAY }),
                    );
                });
            }
        });
}
