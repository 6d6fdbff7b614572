//! One-click dispatch: the selected ticket, its details and audit trail, the recommended
//! unit with alternatives, and commands armed behind a short undo window. A click never
//! edits state: it arms a command; when the window passes, the command goes to the
//! gateway and its outcome comes back through the feed.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, RichText};

use super::WallSet;
use super::fonts::bold;
use super::link::{AuditTrails, CommandState, FeedLink, Outbox, WallMirror};
use super::map::{CameraGoal, MapLayers};
use super::table::{AMBER, DIM, RED};
use super::text::{UiLang, countdown, hhmm};
use crate::feed::Mirror;
use crate::protocol::{ClientMsg, Command, TicketStatus, Unit, dispatch::rank_units};

/// What the wall's widgets ask for; applied by `act` in one place.
#[derive(Message, Clone, Debug, PartialEq)]
pub enum UiAction {
    Select(u64),
    Deselect,
    /// Arm a command: it is sent when the undo window has passed.
    Arm {
        command: Command,
        label: String,
    },
    Undo,
    /// Send a command at once (acknowledgements and the like, which take nothing back).
    Send(Command),
    /// Drill down (or up) to a region: "" is the whole city. View state, no command.
    Focus(String),
    /// Watch a replay of the gateway's history from this time (`None`: back to live).
    Rewind(Option<i64>),
}

#[derive(Clone, Debug)]
pub struct Armed {
    pub command: Command,
    pub label: String,
    pub at: Instant,
}

/// The operator's selection and the command in flight for it. UI state, not domain state.
#[derive(Resource, Default)]
pub struct Selection {
    pub ticket: Option<u64>,
    pub armed: Option<Armed>,
    /// The last command sent from the panel: its key and label.
    pub sent: Option<(String, String)>,
}

/// How long a click can be taken back.
#[derive(Resource)]
pub struct UndoWindow(pub Duration);

impl Default for UndoWindow {
    fn default() -> Self {
        UndoWindow(Duration::from_secs(3))
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Selection>()
        .init_resource::<UndoWindow>()
        .add_message::<UiAction>()
        .add_systems(Update, (act, fire_armed).chain().in_set(WallSet::Derive));
}

/// The command the dispatch button sends for this ticket: to the best-ranked unit.
pub fn dispatch_command(mirror: &Mirror, ticket: u64) -> Option<Command> {
    let t = mirror.tickets.get(&ticket)?;
    if !matches!(
        t.status,
        TicketStatus::Received | TicketStatus::Returned | TicketStatus::Assigned
    ) {
        return None;
    }
    let unit = rank_units(mirror.units.values(), t).first()?.id.clone();
    Some(Command::Dispatch { ticket, unit })
}

fn act(
    mut actions: MessageReader<UiAction>,
    mut sel: ResMut<Selection>,
    link: Option<Res<FeedLink>>,
    mirror: Res<WallMirror>,
    map: Option<Res<MapLayers>>,
    goal: Option<ResMut<CameraGoal>>,
    mut outbox: ResMut<Outbox>,
) {
    let mut goal = goal;
    for a in actions.read() {
        match a {
            UiAction::Select(id) => {
                if sel.ticket != Some(*id) {
                    sel.armed = None;
                    sel.sent = None;
                }
                sel.ticket = Some(*id);
                if let Some(link) = &link {
                    let _ = link
                        .commands
                        .try_send(ClientMsg::AuditQuery { ticket: *id });
                }
                if let (Some(t), Some(map), Some(goal)) =
                    (mirror.0.tickets.get(id), &map, goal.as_mut())
                {
                    goal.0 = Some((map.proj.to_world(t.lon, t.lat), 0.01));
                }
            }
            UiAction::Deselect => {
                sel.ticket = None;
                sel.armed = None;
            }
            UiAction::Arm { command, label } => {
                sel.armed = Some(Armed {
                    command: command.clone(),
                    label: label.clone(),
                    at: Instant::now(),
                });
                sel.sent = None;
            }
            UiAction::Undo => sel.armed = None,
            UiAction::Send(command) => {
                if let Some(link) = &link {
                    outbox.send(link, command.clone());
                }
            }
            // The drill-down and the rewind apply these (drill.rs, rewind.rs).
            UiAction::Focus(_) | UiAction::Rewind(_) => {}
        }
    }
}

fn fire_armed(
    mut sel: ResMut<Selection>,
    window: Res<UndoWindow>,
    link: Option<Res<FeedLink>>,
    mut outbox: ResMut<Outbox>,
) {
    let Some(link) = link else { return };
    let due = sel
        .armed
        .as_ref()
        .is_some_and(|a| a.at.elapsed() >= window.0);
    if due && let Some(a) = sel.armed.take() {
        let key = outbox.send(&link, a.command);
        sel.sent = Some((key, a.label));
    }
}

/// The panel for the selected ticket.
#[allow(clippy::too_many_arguments)]
pub fn panel(
    ui: &mut egui::Ui,
    lang: UiLang,
    mirror: &Mirror,
    sel: &Selection,
    trails: &AuditTrails,
    outbox: &Outbox,
    undo: Duration,
    now_ms: i64,
    live: bool,
    actions: &mut Vec<UiAction>,
) {
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
            crate::protocol::Priority::Urgent => RED,
            crate::protocol::Priority::Important => AMBER,
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
        .unwrap_or((crate::protocol::Stage::Resolve, t.deadline_ms));
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
                lang.t(t.level.zh(), &format!("{:?}", t.level))
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
        // A closed ticket's deadline no longer counts down.
        if t.status.is_open() {
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
    ui.separator();

    // Dispatch: the recommended unit and alternatives.
    let mut ranked: Vec<&Unit> = rank_units(mirror.units.values(), t);
    // A unit that returned this ticket (the one it was last dispatched to before a return)
    // goes to the back of the list: it has said the ticket is not its own.
    if let Some(entries) = trails.0.get(&t.id) {
        let mut returned_by: Option<&str> = None;
        let mut last_unit: Option<&str> = None;
        for a in entries {
            match a.action.as_str() {
                "dispatch" => last_unit = Some(a.note.as_str()),
                "return" => returned_by = last_unit,
                _ => {}
            }
        }
        if let Some(r) = returned_by {
            ranked.sort_by_key(|u| u.id == r);
        }
    }
    let can_dispatch = matches!(
        t.status,
        TicketStatus::Received | TicketStatus::Returned | TicketStatus::Assigned
    );
    if can_dispatch {
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
        let can_up = open && t.level < crate::protocol::Level::City;
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
                incident: crate::protocol::Incident::Ticket { id: t.id },
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
                Color32::from_rgb(90, 220, 140),
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
                            "{}  {}  {}  {}  {}",
                            hhmm(a.at_ms),
                            a.actor,
                            super::text::action(lang, &a.action),
                            to,
                            // A dispatch's note is the unit's id: show its name.
                            mirror
                                .units
                                .get(&a.note)
                                .map(|u| u.name.as_str())
                                .unwrap_or(&a.note)
                        ))
                        .size(15.0),
                    );
                }
            }
        });
}
