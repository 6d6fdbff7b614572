//! The briefing board (联合会商): the incident's key numbers in large type, the units
//! engaged and where their tickets stand, the significant-events lane and, for the
//! officer, the whole trail with a star to promote an entry.

use domain::Deadlines;
use std::collections::BTreeSet;

use bevy_egui::egui::{self, Color32, RichText, Ui};

use super::PanelCtx;
use crate::action::UiAction;
use crate::briefing::{IncidentView, incident_region, lane, timeline};
use crate::fonts::bold;
use crate::text::{UiLang, action, countdown, hhmm};
use crate::theme::{AMBER, CYAN, DIM, GREEN, RED, level_color};
use crate::view::region_name;
use protocol::{AuditEntry, Briefing, Command, Incident, Ticket, TicketStatus, Unit};

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

/// The incident as the board draws it this frame, looked up from `IncidentView` (kept up
/// by changes): its tickets, newest first, and the nearest free units with their km.
pub struct Shown<'a> {
    pub tickets: Vec<&'a Ticket>,
    pub free: Vec<(&'a Unit, f64)>,
}

impl<'a> Shown<'a> {
    pub fn of(cx: &PanelCtx<'a>, v: &IncidentView) -> Shown<'a> {
        let m = cx.mirror;
        Shown {
            tickets: v
                .tickets
                .iter()
                .filter_map(|(_, id)| m.tickets.get(id).map(|t| &**t))
                .collect(),
            free: v
                .free
                .iter()
                .filter_map(|(id, km)| m.units.get(id).map(|u| (u, *km)))
                .collect(),
        }
    }
}

/// The board's head: what, where, since when, and the key numbers at `size`.
pub fn head(
    ui: &mut Ui,
    cx: &PanelCtx,
    (b, shown): (&Briefing, &Shown),
    size: f32,
    out: &mut Vec<UiAction>,
) {
    let PanelCtx {
        lang,
        mirror: m,
        map,
        now,
        ..
    } = *cx;
    let tickets = &shown.tickets;
    // Title: what, where, since when.
    let (title, color, since) = match b.incident {
        Incident::Ticket { id } => match m.tickets.get(&id) {
            Some(t) => (
                format!("{} #{} {}", lang.priority(t.priority), t.id, t.title),
                AMBER,
                t.created_ms,
            ),
            None => (format!("#{id} {}", b.title), DIM, b.started_ms),
        },
        Incident::Warning { id } => match m.warnings.get(&id) {
            Some(w) => (
                format!("{}{} {}", w.level.zh(), lang.t("预警", " warning"), w.title),
                level_color(w.level),
                w.raised_ms,
            ),
            None => (
                format!("{} · {}", b.title, lang.t("预警已解除", "warning lifted")),
                DIM,
                b.started_ms,
            ),
        },
    };
    // Whole points only: every fractional size is another set of glyphs in egui's atlas.
    let scale = size / 48.0;
    let pt = |x: f32| x.round();
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(lang.t("联合会商", "JOINT BRIEFING"))
                .font(bold(pt(30.0 * scale)))
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
                .size(pt(18.0 * scale.min(1.3)))
                .color(DIM),
            );
        });
    });
    ui.add(
        egui::Label::new(
            RichText::new(title)
                .font(bold(pt(34.0 * scale)))
                .color(color),
        )
        .wrap(),
    );
    let place = incident_region(b);
    if !place.is_empty() {
        ui.label(
            RichText::new(format!(
                "{} {}",
                lang.t("区域", "Area"),
                region_name(map, &place)
            ))
            .size(pt(20.0 * scale))
            .color(DIM),
        );
    }
    ui.add_space(8.0 * scale);
    // Key numbers, large.
    let open = tickets.iter().filter(|t| t.status.is_open()).count();
    let next_due = tickets
        .iter()
        .filter_map(|t| t.current_deadline())
        .map(|(_, d)| d)
        .min();
    let units: BTreeSet<&str> = tickets.iter().filter_map(|t| t.unit.as_deref()).collect();
    let number = |ui: &mut Ui, label: &str, value: String, color: Color32| {
        ui.vertical(|ui| {
            ui.label(
                RichText::new(label)
                    .size(pt(20.0 * scale.min(1.4)))
                    .color(DIM),
            );
            ui.label(RichText::new(value).font(bold(size)).color(color));
        });
    };
    // Four across at a desk; two across in wall type, where a countdown is wide.
    let cols = if size > 50.0 || ui.available_width() < 700.0 {
        2
    } else {
        4
    };
    let cells: [(String, String, Color32); 4] = [
        (
            lang.t("已持续", "Elapsed").into(),
            elapsed(now - since),
            Color32::WHITE,
        ),
        (
            lang.t("工单 在办/总数", "Tickets open/all").into(),
            format!("{open}/{}", tickets.len()),
            if open > 0 { AMBER } else { GREEN },
        ),
        match next_due {
            Some(d) => (
                lang.t("最近时限", "Next deadline").into(),
                countdown(d - now),
                if d < now { RED } else { AMBER },
            ),
            None => (
                lang.t("最近时限", "Next deadline").into(),
                "—".into(),
                GREEN,
            ),
        },
        (
            lang.t("联动单位", "Units engaged").into(),
            units.len().to_string(),
            CYAN,
        ),
    ];
    for row in cells.chunks(cols) {
        ui.columns(cols, |c| {
            for (i, (label, value, color)) in row.iter().enumerate() {
                number(&mut c[i], label, value.clone(), *color);
            }
        });
        ui.add_space(6.0 * scale);
    }
    if size > 50.0 {
        stages(ui, cx, tickets, scale);
    }
}

/// Where the incident's tickets stand, one large count a stage (wall type only: the
/// console's board has the trail instead).
fn stages(ui: &mut Ui, cx: &PanelCtx, tickets: &[&Ticket], scale: f32) {
    let lang = cx.lang;
    let count = |f: &dyn Fn(TicketStatus) -> bool| tickets.iter().filter(|t| f(t.status)).count();
    let cells = [
        (
            lang.t("待分拨", "To dispatch"),
            count(&|s| matches!(s, TicketStatus::Received | TicketStatus::Returned)),
            crate::theme::STATUS[0],
        ),
        (
            lang.t("已派/签收", "Assigned"),
            count(&|s| matches!(s, TicketStatus::Assigned | TicketStatus::Accepted)),
            crate::theme::STATUS[1],
        ),
        (
            lang.t("处置中", "In progress"),
            count(&|s| s == TicketStatus::InProgress),
            crate::theme::STATUS[2],
        ),
        (
            lang.t("已办结", "Resolved"),
            count(&|s| !s.is_open()),
            GREEN,
        ),
    ];
    ui.add_space(6.0 * scale);
    ui.label(
        RichText::new(lang.t("处置进度", "Where the tickets stand"))
            .size((22.0 * scale.min(1.4)).round())
            .color(DIM),
    );
    ui.columns(4, |c| {
        for (i, (label, n, color)) in cells.iter().enumerate() {
            c[i].label(
                RichText::new(n.to_string())
                    .font(bold((40.0 * scale).round()))
                    .color(*color),
            );
            c[i].label(
                RichText::new(*label)
                    .size((18.0 * scale.min(1.4)).round())
                    .color(DIM),
            );
        }
    });
}

/// The units engaged (and where their tickets stand), then the nearest free ones.
pub fn units(ui: &mut Ui, cx: &PanelCtx, shown: &Shown, size: f32, rows: usize) {
    let PanelCtx {
        lang, mirror: m, ..
    } = *cx;
    let tickets = &shown.tickets;
    if tickets.is_empty() {
        return;
    }
    ui.label(
        RichText::new(lang.t("处置力量", "Units engaged"))
            .font(bold(size * 1.1))
            .color(CYAN),
    );
    // One line a unit: its name, how many of the incident's tickets it holds, the worst
    // status among them.
    let mut by_unit: Vec<(&str, usize, TicketStatus)> = vec![];
    for t in tickets.iter().filter(|t| t.status.is_open()) {
        let u = t.unit.as_deref().unwrap_or("");
        match by_unit.iter_mut().find(|(x, ..)| *x == u) {
            Some(e) => {
                e.1 += 1;
                e.2 = e.2.min(t.status);
            }
            None => by_unit.push((u, 1, t.status)),
        }
    }
    by_unit.sort_by_key(|(u, n, _)| (u.is_empty(), std::cmp::Reverse(*n)));
    let listed = by_unit.len().min(rows);
    for (u, n, status) in &by_unit[..listed] {
        let name = if u.is_empty() {
            lang.t("待分拨", "not yet assigned").to_string()
        } else {
            m.units.get(*u).map_or(u.to_string(), |x| x.name.clone())
        };
        let off = m.units.get(*u).is_some_and(|x| !x.on_duty);
        ui.label(
            RichText::new(format!(
                "{name}{} · {n} {} · {}",
                if off {
                    lang.t("（离岗）", " (off duty)")
                } else {
                    ""
                },
                lang.t("件", "tickets"),
                lang.status(*status)
            ))
            .size(size),
        );
    }
    if by_unit.len() > listed {
        ui.label(
            RichText::new(format!(
                "{} {}",
                lang.t("另有", "and"),
                by_unit.len() - listed
            ))
            .size(size * 0.85)
            .color(DIM),
        );
    }
    let free = &shown.free[..shown.free.len().min(rows.min(5))];
    if !free.is_empty() {
        ui.add_space(size * 0.4);
        ui.label(
            RichText::new(lang.t("最近可调力量", "Nearest free units"))
                .font(bold(size * 1.1))
                .color(GREEN),
        );
        for (u, km) in free {
            ui.label(RichText::new(format!("{} · {km:.1} km", u.name)).size(size));
        }
    }
}

/// The significant-events lane, at `size` (≥ 24 px a 1080p panel on a wall).
pub fn events_lane(ui: &mut Ui, cx: &PanelCtx, b: &Briefing, size: f32) {
    let lang = cx.lang;
    let tl = timeline(b, cx.trails);
    ui.label(
        RichText::new(lang.t("重要事件", "Significant events"))
            .font(bold(size * 1.1))
            .color(AMBER),
    );
    let lane = lane(b, &tl);
    if lane.is_empty() {
        ui.label(
            RichText::new(lang.t(
                "值班员在处置记录中点 ☆ 列入重要事件",
                "The duty officer stars entries of the trail to list them here",
            ))
            .size(size * 0.8)
            .color(DIM),
        );
    }
    for (t, a) in &lane {
        ui.add(egui::Label::new(RichText::new(entry_text(lang, *t, a)).font(bold(size))).wrap());
    }
}

/// The incident's newest tickets, as many as fit: what is coming in (wall type, under the
/// lane, so that the lane's panel is never half empty).
pub fn newest(ui: &mut Ui, cx: &PanelCtx, shown: &Shown, size: f32) {
    let lang = cx.lang;
    let tickets = &shown.tickets;
    if tickets.is_empty() {
        return;
    }
    ui.add_space(size * 0.6);
    ui.label(
        RichText::new(lang.t("最新工单", "Newest tickets"))
            .font(bold(size))
            .color(CYAN),
    );
    let rows = ((ui.available_height() / (size * 1.45)).floor() as usize).max(1);
    for t in tickets.iter().take(rows) {
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "{} #{} {} · {}",
                    hhmm(t.created_ms),
                    t.id,
                    t.title,
                    lang.status(t.status)
                ))
                .size(size * 0.9),
            )
            .truncate(),
        );
    }
}

/// The newest photos from the field among the incident's tickets (six at most), as
/// thumbnails `size` * 3 high; a click shows one large. Nothing when there are none.
pub fn field_photos(ui: &mut Ui, cx: &PanelCtx, shown: &Shown, size: f32, out: &mut Vec<UiAction>) {
    let mut tickets: Vec<&&Ticket> = shown
        .tickets
        .iter()
        .filter(|t| !t.work.photos.is_empty())
        .collect();
    if tickets.is_empty() {
        return;
    }
    tickets.sort_by_key(|t| std::cmp::Reverse(t.updated_ms));
    ui.add_space(size * 0.6);
    ui.label(
        RichText::new(cx.lang.t("现场照片", "From the field"))
            .font(bold(size))
            .color(CYAN),
    );
    let mut left = 6;
    ui.horizontal_wrapped(|ui| {
        for t in tickets {
            let newest: Vec<protocol::PhotoRef> =
                t.work.photos.iter().rev().take(left).cloned().collect();
            left -= newest.len();
            crate::photos::strip(ui, cx.photos, t.id, &newest, size * 3.0, out);
            if left == 0 {
                break;
            }
        }
    });
}

/// The whole audit trail with a star to promote an entry: the console's.
pub fn trail(ui: &mut Ui, cx: &PanelCtx, b: &Briefing, out: &mut Vec<UiAction>) {
    let lang = cx.lang;
    let tl = timeline(b, cx.trails);
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

/// The console's board (a desk, or one panel): all of it in one frame over the map.
pub fn board(ui: &mut Ui, cx: &PanelCtx, (b, shown): (&Briefing, &Shown), out: &mut Vec<UiAction>) {
    head(ui, cx, (b, shown), 48.0, out);
    units(ui, cx, shown, 20.0, 6);
    ui.add_space(8.0);
    events_lane(ui, cx, b, 24.0);
    field_photos(ui, cx, shown, 18.0, out);
    ui.add_space(8.0);
    trail(ui, cx, b, out);
}
