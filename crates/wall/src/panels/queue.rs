//! The ticket queue: a virtual table (only visible rows are laid out), ordered by priority
//! then deadline, with an SLA countdown that turns red when overdue.

use bevy_egui::egui::{self, Color32, RichText};
use domain::Deadlines;
use egui_extras::{Column, TableBuilder};

use super::PanelCtx;
use crate::action::{QueueFilter, Selection, UiAction};
use crate::fonts::bold;
use crate::state::{Queue, Sla, sla};
use crate::text::{countdown, hhmm};
use crate::theme::{AMBER, DIM, RED};
use crate::view::region_name;
use protocol::{Priority, Stage};

/// The queue's region: its title with the count, the center's boards, then the table; a
/// click selects.
pub fn region(
    ui: &mut egui::Ui,
    cx: &PanelCtx,
    (queue, filter): (&Queue, &QueueFilter),
    sel: &Selection,
    out: &mut Vec<UiAction>,
) {
    title(ui, cx, (queue, filter), out);
    boards(ui, cx, filter, out);
    if let Some(id) = table(ui, cx, queue, sel.ticket) {
        out.push(UiAction::Select(id));
    }
}

/// `工单队列 · 123`, and the filter a figure or a bar set, with one click to clear it.
pub fn title(
    ui: &mut egui::Ui,
    cx: &PanelCtx,
    (queue, filter): (&Queue, &QueueFilter),
    out: &mut Vec<UiAction>,
) {
    let lang = cx.lang;
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!(
                "{} · {}",
                lang.t("工单队列", "Ticket queue"),
                queue.len()
            ))
            .font(bold(22.0)),
        );
        if *filter == QueueFilter::All {
            return;
        }
        let what = match filter {
            QueueFilter::All => String::new(),
            QueueFilter::Overdue => lang.t("办结超期", "overdue").into(),
            QueueFilter::Supervised => lang.t("督办中", "supervised").into(),
            QueueFilter::Region(r) => region_name(cx.map, r),
            QueueFilter::Channel(c) => lang.channel(*c).into(),
            QueueFilter::Category(c) => lang.category(*c).into(),
            QueueFilter::Reviewing => lang.t("待审核", "under review").into(),
            QueueFilter::Callback => lang.t("待回访", "to call back").into(),
            QueueFilter::Extension => lang.t("延期申请", "extension asked").into(),
            QueueFilter::Hard => lang.t("疑难", "hard cases").into(),
            QueueFilter::Suspended => lang.t("挂起", "suspended").into(),
            QueueFilter::Unplaced => lang.t("待定位", "unplaced").into(),
        };
        ui.label(
            RichText::new(format!(
                "{} {what} · {} {}",
                lang.t("筛选", "filter"),
                lang.t("共", "of"),
                queue.total()
            ))
            .font(bold(20.0))
            .color(AMBER),
        );
        if ui
            .button(RichText::new(lang.t("✕ 全部", "✕ all")).font(bold(18.0)))
            .clicked()
        {
            out.push(UiAction::Filter(QueueFilter::All));
        }
    });
}

/// The center's boards, one click each: 待审核, 待回访, 延期申请, 疑难, 挂起, 待定位, with
/// the gateway's counts where its figures have them. 疑难 and 挂起 are off the ordinary
/// queue: a hard case never sits at its top.
pub fn boards(ui: &mut egui::Ui, cx: &PanelCtx, filter: &QueueFilter, out: &mut Vec<UiAction>) {
    let lang = cx.lang;
    let k = cx.mirror.kpis.as_ref();
    let n = |f: fn(&protocol::KpiFigures) -> u64| k.map(f);
    let chips: [(QueueFilter, &str, &str, Option<u64>); 6] = [
        (
            QueueFilter::Reviewing,
            "待审核",
            "review",
            n(|k| k.reviewing),
        ),
        (QueueFilter::Callback, "待回访", "callback", None),
        (
            QueueFilter::Extension,
            "延期申请",
            "extension",
            n(|k| k.extension_requests),
        ),
        (QueueFilter::Hard, "疑难", "hard", n(|k| k.hard)),
        (
            QueueFilter::Suspended,
            "挂起",
            "suspended",
            n(|k| k.suspended),
        ),
        (QueueFilter::Unplaced, "待定位", "unplaced", None),
    ];
    ui.horizontal_wrapped(|ui| {
        for (f, zh, en, count) in chips {
            let label = match count {
                Some(c) => format!("{} {c}", lang.t(zh, en)),
                None => lang.t(zh, en).to_string(),
            };
            let on = *filter == f;
            let text = RichText::new(label).size(16.0);
            let text = if on { text.color(Color32::BLACK) } else { text };
            let mut b = egui::Button::new(text);
            if on {
                b = b.fill(AMBER);
            }
            if ui.add(b).clicked() {
                out.push(UiAction::Filter(if on { QueueFilter::All } else { f }));
            }
        }
    });
}

/// Draw the queue; returns the ticket clicked, if any.
pub fn table(
    ui: &mut egui::Ui,
    cx: &PanelCtx,
    queue: &Queue,
    selected: Option<u64>,
) -> Option<u64> {
    let PanelCtx {
        lang,
        mirror,
        now: now_ms,
        live,
        ..
    } = *cx;
    let mut clicked = None;
    let row_h = 30.0;
    let text = |s: String| RichText::new(s).size(17.0);
    TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::exact(64.0))
        .column(Column::exact(56.0))
        .column(Column::exact(96.0))
        .column(Column::exact(110.0))
        .column(Column::remainder().at_least(120.0).clip(true))
        .column(Column::exact(78.0))
        .column(Column::exact(96.0))
        .header(30.0, |mut h| {
            for (zh, en) in [
                ("编号", "ID"),
                ("时间", "Time"),
                ("来源", "Channel"),
                ("类别", "Category"),
                ("网格 / 事项", "Grid / subject"),
                ("状态", "Status"),
                ("时限", "SLA"),
            ] {
                h.col(|ui| {
                    ui.label(RichText::new(lang.t(zh, en)).size(16.0).color(DIM));
                });
            }
        })
        .body(|body| {
            body.rows(row_h, queue.len(), |mut row| {
                let Some(t) = queue
                    .row(row.index())
                    .and_then(|id| mirror.tickets.get(&id))
                else {
                    return;
                };
                row.set_selected(selected == Some(t.id));
                let (stage, due) = t
                    .current_deadline()
                    .unwrap_or((Stage::Resolve, t.deadline_ms));
                let left = due - now_ms;
                let sla_color = match sla(t, now_ms) {
                    Sla::Overdue => RED,
                    Sla::Soon => AMBER,
                    Sla::Ok => Color32::LIGHT_GRAY,
                };
                let id_color = match t.priority {
                    Priority::Urgent => RED,
                    Priority::Important => AMBER,
                    Priority::Normal => Color32::LIGHT_GRAY,
                };
                row.col(|ui| {
                    ui.label(text(format!("{}", t.id)).color(id_color));
                });
                row.col(|ui| {
                    ui.label(text(hhmm(t.created_ms)));
                });
                row.col(|ui| {
                    ui.label(text(lang.channel(t.channel).into()));
                });
                row.col(|ui| {
                    ui.label(text(lang.category(t.category).into()));
                });
                row.col(|ui| {
                    // One mark, the weightiest: 疑难, 延期申请, 重办, 督办.
                    let mark = if t.work.hard.is_some() {
                        Some(lang.t("【疑难】", "[hard]"))
                    } else if t.work.extension_asked.is_some() {
                        Some(lang.t("【延期申请】", "[extension?]"))
                    } else if t.work.rework > 0 {
                        Some(lang.t("【重办】", "[reopened]"))
                    } else if t.supervised {
                        Some(lang.t("【督办】", "[supervised]"))
                    } else {
                        None
                    };
                    let s = match mark {
                        Some(m) => format!("{m} {}", t.title),
                        None => t.title.clone(),
                    };
                    ui.label(text(s));
                });
                row.col(|ui| {
                    // An accepted ticket left idle past its start deadline says so.
                    if stage == Stage::Handle && left < 0 {
                        ui.label(text(lang.t("签收未处置", "idle").into()).color(RED));
                    } else {
                        ui.label(text(lang.status(t.status).into()));
                    }
                });
                row.col(|ui| {
                    // On a board (疑难, 挂起, 待审核, 待回访) the clock stands: its age.
                    if t.current_deadline().is_none() {
                        let age = countdown(now_ms - t.created_ms);
                        ui.label(text(age).color(DIM).monospace());
                        return;
                    }
                    // A stale feed cannot vouch for a countdown: grey it out.
                    let c = if live { sla_color } else { DIM };
                    ui.label(text(countdown(left)).color(c).monospace());
                });
                if row.response().clicked() {
                    clicked = Some(t.id);
                }
            });
        });
    clicked
}
