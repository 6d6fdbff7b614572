//! The ticket and warning lifecycles as pure functions: given a record and a command,
//! the record after it, or the reason it is refused. No I/O here; `Store` persists.

use crate::protocol::{
    Command, Level, Ticket, TicketStatus as S, Unit, Warning, WarningStatus as W,
};

use super::Refusal;

/// What a legal ticket command does.
pub struct TicketChange {
    pub ticket: Ticket,
    /// The status moved (a transition) rather than only a field (an update).
    pub transitioned: bool,
    pub note: String,
}

fn illegal(t: &Ticket, op: &str, needs: &str) -> Refusal {
    Refusal::new(
        "illegal_transition",
        format!(
            "ticket {} is {} ({}): {op} needs {needs}",
            t.id,
            t.status.zh(),
            t.status.en().to_lowercase()
        ),
    )
}

/// The accept (签收) deadline after a dispatch: this share of the ticket's whole SLA, so
/// a 4-hour urgent ticket must be accepted within 24 minutes and a 72-hour one within
/// 7.2 hours. (A site with fixed stage limits would put them in the policy instead.)
pub const ACCEPT_SHARE: f64 = 0.10;
/// The start-of-work (处置) deadline after acceptance, as a share of the SLA: a ticket
/// accepted and then left idle past it comes back up and is supervised.
pub const START_SHARE: f64 = 0.20;

/// A stage deadline `share` of the ticket's SLA after `now_ms`, never past its resolution
/// deadline.
fn stage_deadline(t: &Ticket, now_ms: i64, share: f64) -> i64 {
    let sla = (t.deadline_ms - t.created_ms).max(60_000);
    (now_ms + (sla as f64 * share) as i64).min(t.deadline_ms)
}

/// Apply a ticket command. `unit` is the looked-up unit for `dispatch`.
pub fn apply_ticket(
    t: &Ticket,
    cmd: &Command,
    unit: Option<&Unit>,
    now_ms: i64,
) -> Result<TicketChange, Refusal> {
    let mut n = t.clone();
    n.updated_ms = now_ms;
    let mut note = String::new();
    match cmd {
        Command::Dispatch { unit: uid, .. } => {
            if !matches!(t.status, S::Received | S::Returned | S::Assigned) {
                return Err(illegal(t, "dispatch", "受理, 已退回 or 已分拨"));
            }
            let u = unit
                .ok_or_else(|| Refusal::new("unknown_unit", format!("no unit with id {uid:?}")))?;
            if !u.on_duty {
                return Err(Refusal::new(
                    "unit_off_duty",
                    format!("unit {} ({}) is off duty: pick another", u.id, u.name),
                ));
            }
            n.status = S::Assigned;
            n.unit = Some(u.id.clone());
            n.stage_deadline_ms = Some(stage_deadline(t, now_ms, ACCEPT_SHARE));
            note = u.id.clone();
        }
        Command::Accept { .. } => {
            if t.status != S::Assigned {
                return Err(illegal(t, "accept", "已分拨 (assigned)"));
            }
            n.status = S::Accepted;
            n.stage_deadline_ms = Some(stage_deadline(t, now_ms, START_SHARE));
        }
        Command::Start { .. } => {
            if t.status != S::Accepted {
                return Err(illegal(t, "start", "已签收 (accepted)"));
            }
            n.status = S::InProgress;
            n.stage_deadline_ms = None;
        }
        Command::Return { reason, .. } => {
            if !matches!(t.status, S::Assigned | S::Accepted) {
                return Err(illegal(t, "return", "已分拨 or 已签收"));
            }
            n.status = S::Returned;
            n.unit = None;
            n.stage_deadline_ms = None;
            note = reason.clone();
        }
        Command::Escalate { reason, .. } => {
            if !t.status.is_open() {
                return Err(illegal(t, "escalate", "an open ticket"));
            }
            let up = t.level.up().ok_or_else(|| {
                Refusal::new(
                    "illegal_transition",
                    format!(
                        "ticket {} is already at city level: nowhere to escalate",
                        t.id
                    ),
                )
            })?;
            n.level = up;
            n.status = S::Received;
            n.unit = None;
            n.stage_deadline_ms = None;
            note = format!("{} → {}: {reason}", t.level.zh(), up.zh());
        }
        Command::Supervise {
            note: why, stage, ..
        } => {
            if !t.status.is_open() {
                return Err(illegal(t, "supervise", "an open ticket"));
            }
            if let Some(s) = stage {
                if t.supervised_stages.contains(s) {
                    return Err(Refusal::new(
                        "already_supervised",
                        format!(
                            "ticket {} is already under supervision for its {} stage",
                            t.id,
                            s.zh()
                        ),
                    ));
                }
                n.supervised_stages.push(*s);
            }
            n.supervised = true;
            note = match stage {
                Some(s) => format!("[{}] {why}", s.zh()),
                None => why.clone(),
            };
        }
        Command::Resolve { note: how, .. } => {
            if !matches!(t.status, S::Accepted | S::InProgress) {
                return Err(illegal(t, "resolve", "已签收 or 处置中"));
            }
            n.status = S::Resolved;
            n.resolved_level = Some(t.level);
            n.resolved_ms = Some(now_ms);
            n.stage_deadline_ms = None;
            note = how.clone();
        }
        Command::Rate { satisfied, .. } => {
            if t.status != S::Resolved {
                return Err(illegal(t, "rate", "已办结 (resolved)"));
            }
            n.status = S::Rated;
            n.satisfied = Some(*satisfied);
            note = if *satisfied { "满意" } else { "不满意" }.into();
        }
        Command::Close { .. } => {
            if !matches!(t.status, S::Resolved | S::Rated) {
                return Err(illegal(t, "close", "已办结 or 已回访"));
            }
            n.status = S::Archived;
        }
        other => {
            return Err(Refusal::new(
                "invalid",
                format!("{} is not a ticket command", other.name()),
            ));
        }
    }
    Ok(TicketChange {
        transitioned: n.status != t.status || n.level != t.level,
        ticket: n,
        note,
    })
}

/// Apply a warning command.
pub fn apply_warning(w: &Warning, cmd: &Command, now_ms: i64) -> Result<Warning, Refusal> {
    let mut n = w.clone();
    n.updated_ms = now_ms;
    let bad = |needs: &str| {
        Refusal::new(
            "illegal_transition",
            format!(
                "warning {} is {:?}: {} needs {needs}",
                w.id,
                w.status,
                cmd.name()
            ),
        )
    };
    match cmd {
        Command::AckWarning { .. } => {
            if w.status != W::Raised {
                return Err(bad("raised"));
            }
            n.status = W::Acknowledged;
        }
        Command::AssignTaskForce { team, .. } => {
            if !matches!(w.status, W::Raised | W::Acknowledged | W::TaskForce) {
                return Err(bad("a warning that is not lifted"));
            }
            if team.trim().is_empty() {
                return Err(Refusal::new("invalid", "task force name is empty"));
            }
            n.status = W::TaskForce;
            n.task_force = Some(team.clone());
        }
        Command::LiftWarning { .. } => {
            if w.status == W::Lifted {
                return Err(bad("a warning that is not lifted"));
            }
            n.status = W::Lifted;
        }
        other => {
            return Err(Refusal::new(
                "invalid",
                format!("{} is not a warning command", other.name()),
            ));
        }
    }
    Ok(n)
}

/// The level a new ticket starts at: emergencies go to the county, petitions and 110 calls
/// to the town (the police station, the town's petition office), everything else to the
/// village (小事不出村).
pub fn initial_level(t: &crate::protocol::NewTicket) -> Level {
    use crate::protocol::{Category, Channel};
    match (t.channel, t.category) {
        (_, Category::Emergency) => Level::County,
        (_, Category::Petition) | (Channel::Petition, _) | (Channel::Police110, _) => Level::Town,
        _ => Level::Village,
    }
}

/// A ticket as taken in: id from the store, the intake time (the ticket's own, or now) and
/// the SLA (its own, or the default for its priority: urgent, important, normal minutes).
pub fn new_ticket(
    id: u64,
    n: &crate::protocol::NewTicket,
    now_ms: i64,
    sla_minutes: [u32; 3],
) -> Ticket {
    let created = n.created_ms.unwrap_or(now_ms);
    let sla = n.sla_minutes.unwrap_or(sla_minutes[n.priority as usize]);
    Ticket {
        id,
        channel: n.channel,
        category: n.category,
        subtype: n.subtype.clone(),
        priority: n.priority,
        status: S::Received,
        lon: n.lon,
        lat: n.lat,
        grid: n.grid.clone(),
        title: n.title.trim().to_string(),
        reporter: n.reporter.clone(),
        created_ms: created,
        updated_ms: created,
        deadline_ms: created + sla as i64 * 60_000,
        level: initial_level(n),
        unit: None,
        supervised: false,
        resolved_level: None,
        satisfied: None,
        resolved_ms: None,
        stage_deadline_ms: None,
        supervised_stages: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::examples;

    fn at(status: S) -> Ticket {
        Ticket {
            status,
            ..examples::ticket()
        }
    }

    #[test]
    fn the_happy_path_runs_received_to_archived() {
        let unit = examples::unit();
        let mut t = at(S::Received);
        let steps = [
            Command::Dispatch {
                ticket: t.id,
                unit: unit.id.clone(),
            },
            Command::Accept { ticket: t.id },
            Command::Start { ticket: t.id },
            Command::Resolve {
                ticket: t.id,
                note: "ok".into(),
            },
            Command::Rate {
                ticket: t.id,
                satisfied: true,
            },
            Command::Close { ticket: t.id },
        ];
        let want = [
            S::Assigned,
            S::Accepted,
            S::InProgress,
            S::Resolved,
            S::Rated,
            S::Archived,
        ];
        for (cmd, want) in steps.iter().zip(want) {
            t = apply_ticket(&t, cmd, Some(&unit), 1).unwrap().ticket;
            assert_eq!(t.status, want);
        }
        assert_eq!(t.resolved_level, Some(Level::Village));
        assert_eq!(t.satisfied, Some(true));
    }

    #[test]
    fn illegal_transitions_say_why() {
        let err = apply_ticket(&at(S::Received), &Command::Accept { ticket: 1024 }, None, 1)
            .err()
            .unwrap();
        assert_eq!(err.code, "illegal_transition");
        assert!(err.message.contains("受理"), "{}", err.message);
        let closed = at(S::Archived);
        assert!(
            apply_ticket(
                &closed,
                &Command::Supervise {
                    ticket: 1,
                    note: "x".into(),
                    stage: None,
                },
                None,
                1
            )
            .is_err()
        );
    }

    #[test]
    fn escalation_climbs_one_level_and_stops_at_the_city() {
        let mut t = at(S::InProgress);
        for want in [Level::Town, Level::County, Level::City] {
            let c = apply_ticket(
                &t,
                &Command::Escalate {
                    ticket: 1,
                    reason: "r".into(),
                },
                None,
                1,
            )
            .unwrap();
            assert!(c.transitioned);
            t = c.ticket;
            assert_eq!(
                (t.level, t.status, t.unit.clone()),
                (want, S::Received, None)
            );
        }
        assert!(
            apply_ticket(
                &t,
                &Command::Escalate {
                    ticket: 1,
                    reason: "r".into()
                },
                None,
                1
            )
            .is_err()
        );
    }

    #[test]
    fn dispatch_to_an_off_duty_unit_is_refused() {
        let mut unit = examples::unit();
        unit.on_duty = false;
        let cmd = Command::Dispatch {
            ticket: 1,
            unit: unit.id.clone(),
        };
        let err = apply_ticket(&at(S::Received), &cmd, Some(&unit), 1)
            .err()
            .unwrap();
        assert_eq!(err.code, "unit_off_duty");
    }
}
