//! The duty engine's round on the core (the writer's, once a heartbeat): what
//! `domain::duty::round` finds due is applied as `duty_record` commands, and each new
//! round of an escalation goes to the notifier with the people on duty to tell.

use super::*;
use crate::duty::channels::{Message, Recipient};
use protocol::{Command, DutyChange, DutyRole, Escalation, Notice};

/// How a notice that found nobody on duty starts.
const NOBODY: &str = "无人在岗";

impl Core {
    pub(super) async fn duty_round(&mut self) {
        let Some(cfg) = self.cfg.duty.as_ref() else {
            return;
        };
        let now = domain::time::now_ms();
        let changes = domain::duty::round::round(self.store.state(), &cfg.rules(), now);
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
            Some(
                "未配置通知渠道：no notification channel is configured ([[duty.channels]])"
                    .to_string(),
            )
        } else {
            None
        };
        if let Some(error) = why_not {
            let (person, name) = people
                .first()
                .map(|p| (p.person.clone(), p.name.clone()))
                .unwrap_or_default();
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
            let key = format!("notice-{}-{}-none-{}", e.id, e.rounds, e.notices.len());
            self.apply(vec![(None, duty_request(key, change), None)])
                .await;
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
        });
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
