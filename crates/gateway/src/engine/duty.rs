//! The duty engine's round on the core (the writer's, once a heartbeat): what
//! `domain::duty::round` finds due is applied as `duty_record` commands, and each new
//! round of an escalation goes to the notifier with the people on duty to tell.

use super::*;
use crate::duty::channels::{Message, Recipient};
use protocol::{Command, DutyChange, DutyRole, Escalation, Notice};

/// How a notice that found nobody on duty starts.
const NOBODY: &str = "无人在岗";
/// ... and one that found no channel to send on.
const NO_CHANNEL: &str =
    "未配置通知渠道：no notification channel is configured ([[duty.channels]])";

impl Core {
    pub(super) async fn duty_round(&mut self) {
        if self.cfg.duty.is_none() {
            return;
        }
        let now = domain::time::now_ms();
        if !self.offline.is_empty() {
            self.tell_offline_units(now).await;
        }
        let cfg = self.cfg.clone();
        let Some(cfg) = cfg.duty.as_ref() else {
            return;
        };
        // The ticket rules every tenth second (see `round`).
        let tickets = now / 10_000 != self.duty_scanned / 10_000;
        if tickets {
            self.duty_scanned = now;
        }
        let changes = domain::duty::round::round(self.store.state(), &cfg.rules(), now, tickets);
        if changes.is_empty() {
            return;
        }
        let rounds: Vec<Escalation> = changes
            .iter()
            .filter_map(|c| match c {
                DutyChange::Escalation { escalation } if escalation.closed.is_none() => {
                    Some(escalation.clone())
                }
                _ => None,
            })
            .collect();
        let batch = changes
            .into_iter()
            .enumerate()
            .map(|(i, change)| (None, duty_request(format!("duty-{now}-{i}"), change), None))
            .collect();
        self.apply(batch).await;
        for e in &rounds {
            // Applied as decided (not refused, not changed since): tell its people.
            if self.store.duty().escalation(e.id) == Some(e) {
                self.tell(e, now).await;
            }
        }
        // A round that found nobody on duty is told again as soon as someone is (a
        // roster set, a shift started), not only at the next round.
        let waiting: Vec<Escalation> = self
            .store
            .duty()
            .escalations
            .iter()
            .filter(|e| e.closed.is_none() && !rounds.iter().any(|r| r.id == e.id))
            .filter(|e| {
                e.notices.last().is_some_and(|n| {
                    n.channel == "-" && n.error.as_deref().is_some_and(|x| x.starts_with(NOBODY))
                })
            })
            .filter(|e| !on_duty(self.store.duty(), &e.center, e.level).is_empty())
            .cloned()
            .collect();
        for e in &waiting {
            self.tell(e, now).await;
        }
    }

    /// Say on escalation `e` that nobody was told this round, and why (channel `-`).
    async fn unsent(
        &mut self,
        e: &Escalation,
        key: String,
        (person, name): (String, String),
        error: String,
        now: i64,
    ) {
        let notice = Notice {
            at_ms: now,
            person,
            name,
            role: e.level,
            channel: "-".into(),
            attempt: 1,
            error: Some(error),
        };
        let change = DutyChange::Notice {
            escalation: e.id,
            notice,
        };
        self.apply(vec![(None, duty_request(key, change), None)])
            .await;
    }

    /// Send an escalation's round to the people on duty in its role at its center (or the
    /// nearest center above with someone on duty); with nobody to tell, or no channel,
    /// say so on the escalation itself.
    async fn tell(&mut self, e: &Escalation, now: i64) {
        let people = on_duty(self.store.duty(), &e.center, e.level);
        let notifier = self.notifier.clone();
        let why_not = if people.is_empty() {
            Some(format!(
                "{NOBODY}：no {} on duty at this center or above (check the roster)",
                e.level.zh()
            ))
        } else if notifier.is_empty() {
            Some(NO_CHANNEL.to_string())
        } else {
            None
        };
        if let Some(error) = why_not {
            let (person, name) = people
                .first()
                .map(|p| (p.person.clone(), p.name.clone()))
                .unwrap_or_default();
            let key = format!("notice-{}-{}-none-{}", e.id, e.rounds, e.notices.len());
            self.unsent(e, key, (person, name), error, now).await;
            return;
        }
        let to = people
            .into_iter()
            .map(|mut r| {
                r.link =
                    crate::duty::link::url(&notifier.public_url, &notifier.key, e.id, &r.person);
                r
            })
            .collect();
        notifier.send(Message {
            escalation: e.id,
            title: e.title.clone(),
            rounds: e.rounds,
            to,
            unit: false,
        });
    }

    /// A delta fanned out: an urgent ticket dispatched to a unit with no phone page
    /// connected is noted, to be told by message. (A single gateway only: a cluster
    /// node sees only its own phones; see the closing note of issue 31.)
    pub(super) fn note_offline_dispatch(&mut self, event: &protocol::Event) {
        if self.cfg.duty.is_none() || self.node.is_some() || self.replay.is_some() {
            return;
        }
        let (Some(t), Some(a)) = (event.ticket(), event.audit()) else {
            return;
        };
        if a.action == protocol::AuditAction::Dispatch
            && t.priority == protocol::Priority::Urgent
            && let Some(u) = &t.unit
            && !self.phones.connected(u)
        {
            self.offline.push((t.id, u.clone()));
        }
    }

    /// Tell the units noted by `note_offline_dispatch`: an escalation of rule
    /// `unit_offline` (on the wall's duty board, in the log), and a message to the unit's
    /// phone number on every channel; it closes when the ticket is accepted.
    async fn tell_offline_units(&mut self, now: i64) {
        let noted = std::mem::take(&mut self.offline);
        let mut next = self.store.duty().next_id.max(1);
        let mut opened = Vec::new();
        for (ticket, unit) in noted {
            let state = self.store.state();
            let Some(t) = state.tickets.get(&ticket) else {
                continue;
            };
            if t.status != protocol::TicketStatus::Assigned
                || t.unit.as_deref() != Some(unit.as_str())
                || self.phones.connected(&unit)
            {
                continue;
            }
            let name = state
                .units
                .get(&unit)
                .map_or(unit.clone(), |u| u.name.clone());
            let e = Escalation {
                id: next,
                rule: protocol::EscalationRule::UnitOffline,
                subject: protocol::Subject::Ticket { id: ticket },
                center: domain::kpi::district_of(&t.grid).to_string(),
                title: format!("紧急工单 #{} {} 已派 {name}，其手机页未在线", t.id, t.title),
                opened_ms: now,
                level: DutyRole::Officer,
                rounds: 1,
                next_ms: i64::MAX,
                notices: vec![],
                acked_by: None,
                acked_ms: None,
                closed: None,
            };
            next += 1;
            opened.push((e, unit));
        }
        if opened.is_empty() {
            return;
        }
        let batch = opened
            .iter()
            .map(|(e, _)| {
                let change = DutyChange::Escalation {
                    escalation: e.clone(),
                };
                (
                    None,
                    duty_request(format!("offline-{}-{now}", e.id), change),
                    None,
                )
            })
            .collect();
        self.apply(batch).await;
        for (e, unit) in opened {
            if self.store.duty().escalation(e.id) != Some(&e) {
                continue;
            }
            let u = self.store.units().get(&unit).cloned();
            let phone = u.as_ref().map(|u| u.phone.clone()).unwrap_or_default();
            let why_not = if phone.is_empty() {
                Some("单位未登记手机号：the unit has no phone number (upsert_unit phone)")
            } else if self.notifier.is_empty() {
                Some(NO_CHANNEL)
            } else {
                None
            };
            if let Some(error) = why_not {
                let key = format!("notice-{}-offline-none", e.id);
                let name = u.map(|u| u.name).unwrap_or_default();
                self.unsent(&e, key, (unit, name), error.into(), now).await;
                continue;
            }
            let base = self.notifier.public_url.trim_end_matches('/');
            let link = if base.is_empty() {
                String::new()
            } else {
                format!("{base}/m/")
            };
            self.notifier.send(Message {
                escalation: e.id,
                title: e.title.clone(),
                rounds: 1,
                to: vec![Recipient {
                    person: unit.clone(),
                    name: u.map(|u| u.name).unwrap_or_default(),
                    phone,
                    role: DutyRole::Officer,
                    link,
                }],
                unit: true,
            });
        }
    }

    /// What a report of `region` is made of, as of now.
    pub(super) fn report_inputs(
        &mut self,
        region: &str,
    ) -> Result<Box<crate::report::Inputs>, String> {
        let now = domain::time::now_ms();
        self.store.track_scope(region).map_err(|e| e.to_string())?;
        let figures = self
            .store
            .kpi_figures(region, now)
            .ok_or_else(|| format!("no figures for region {region}"))?;
        let state = self.store.state();
        let warnings = state
            .warnings
            .values()
            .filter(|w| domain::duty::in_center(&w.grids, region))
            .cloned()
            .collect();
        let mut hard: Vec<protocol::Ticket> = state
            .tickets
            .values()
            .filter(|t| t.work.hard.is_some() && protocol::within(&t.grid, region))
            .filter(|t| domain::duty::is_open(t.status))
            .map(|t| (**t).clone())
            .collect();
        hard.sort_by_key(|t| t.id);
        Ok(Box::new(crate::report::Inputs {
            region: region.to_string(),
            at_ms: now,
            figures,
            duty: state.duty.clone(),
            warnings,
            hard,
        }))
    }
}

/// A command from the duty engine.
pub(super) fn duty_request(key: String, change: DutyChange) -> Request {
    Request {
        actor: protocol::DUTY_SYSTEM.into(),
        credential: protocol::DUTY_SYSTEM.into(),
        access: Access::city(domain::access::Role::System),
        key,
        command: Command::DutyRecord {
            change: Box::new(change),
        },
        field: None,
    }
}

/// The people on duty in `role` at `center`, or at the nearest center above it that has
/// someone (a town's, then its district's, then the city's).
pub fn on_duty(duty: &protocol::Duty, center: &str, role: DutyRole) -> Vec<Recipient> {
    let mut at = center.to_string();
    loop {
        let found: Vec<Recipient> = duty
            .on_duty_at(&at)
            .into_iter()
            .filter(|s| s.role == role)
            .filter_map(|s| duty.roster.person(&s.person))
            .map(|p| Recipient {
                person: p.id.clone(),
                name: p.name.clone(),
                phone: p.phone.clone(),
                role,
                link: String::new(),
            })
            .collect();
        if !found.is_empty() || at.is_empty() {
            return found;
        }
        at = match at.rfind('-') {
            Some(i) => at[..i].to_string(),
            None => String::new(),
        };
    }
}
