//! The ticket and warning lifecycles as pure functions: given a record and a command,
//! the record after it and the event that says so, or the reason it is refused. No I/O
//! here: the store persists, the simulator's fast-forward runs it on a virtual clock.

use super::Refusal;
pub use super::change::TicketChange;
use super::change::illegal;
use super::sla::{ACCEPT_SHARE, START_SHARE};
use super::workflow;
use protocol::{
    AuditAction, AuditEntry, CallbackResult, Category, Channel, Command, ErrorCode, Event, Level,
    NewTicket, NewWarning, Ticket, TicketStatus as S, TicketStatus, Unit, Warning,
    WarningStatus as W, WarningStatus,
};

/// Whether a ticket in this state waits for a unit: dispatch (分拨) takes it from here.
/// An assigned ticket may be re-dispatched to another unit before it is accepted.
pub fn can_dispatch(s: TicketStatus) -> bool {
    matches!(s, S::Received | S::Returned | S::Assigned)
}

/// A stage deadline `share` of the ticket's SLA after `now_ms`, never past its resolution
/// deadline.
fn stage_deadline(t: &Ticket, now_ms: i64, share: f64) -> i64 {
    let sla = (t.deadline_ms - t.created_ms).max(60_000);
    now_ms
        .saturating_add((sla as f64 * share) as i64)
        .min(t.deadline_ms)
}

/// Apply a ticket command under the default workflow rules (every level reviewed).
pub fn apply_ticket(
    t: &Ticket,
    cmd: &Command,
    unit: Option<&Unit>,
    now_ms: i64,
) -> Result<TicketChange, Refusal> {
    apply_ticket_with(t, cmd, unit, now_ms, &workflow::Rules::default())
}

/// Apply a ticket command. `unit` is the looked-up unit for `dispatch`; `rules`, the
/// site's workflow (which levels' results the center reviews, how many extensions).
pub fn apply_ticket_with(
    t: &Ticket,
    cmd: &Command,
    unit: Option<&Unit>,
    now_ms: i64,
    rules: &workflow::Rules,
) -> Result<TicketChange, Refusal> {
    if let Some(m) = t.merged_into
        && !matches!(cmd, Command::Unmerge { .. })
    {
        return Err(Refusal::new(
            ErrorCode::IllegalTransition,
            format!(
                "ticket {} is merged into {m}: act on {m}, or unmerge it first",
                t.id
            ),
        ));
    }
    // The first waves' `rate` is a callback that reached the citizen.
    if let Command::Rate { ticket, satisfied } = cmd {
        let result = if *satisfied {
            CallbackResult::Satisfied
        } else {
            CallbackResult::Unsatisfied
        };
        let callback = Command::Callback {
            ticket: *ticket,
            result,
            words: String::new(),
        };
        return apply_ticket_with(t, &callback, unit, now_ms, rules);
    }
    if let Some(done) = workflow::apply(t, cmd, now_ms, rules) {
        return done;
    }
    let mut n = t.clone();
    n.updated_ms = now_ms;
    let mut note = String::new();
    let mut concerns = None;
    match cmd {
        Command::Dispatch { unit: uid, .. } => {
            if !can_dispatch(t.status) {
                return Err(illegal(t, "dispatch", "受理, 已退回 or 已分拨"));
            }
            let u = unit.ok_or_else(|| {
                Refusal::new(ErrorCode::UnknownUnit, format!("no unit with id {uid}"))
            })?;
            if !u.on_duty {
                return Err(Refusal::new(
                    ErrorCode::UnitOffDuty,
                    format!("unit {} ({}) is off duty: pick another", u.id, u.name),
                ));
            }
            n.status = S::Assigned;
            n.unit = Some(u.id.clone());
            n.stage_deadline_ms = Some(stage_deadline(t, now_ms, ACCEPT_SHARE));
            note = u.name.clone();
            concerns = Some(u.id.clone());
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
            concerns = n.unit.take();
            n.stage_deadline_ms = None;
            note = reason.clone();
        }
        Command::Escalate { reason, .. } => {
            if !t.status.with_unit() {
                return Err(illegal(t, "escalate", "an open ticket"));
            }
            let up = t.level.up().ok_or_else(|| {
                Refusal::new(
                    ErrorCode::IllegalTransition,
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
                        ErrorCode::AlreadySupervised,
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
            // Where the center reviews this level, the result waits for it (待审核); its
            // time is the unit's, so the on-time rate judges the unit, not the review.
            n.status = if rules.reviews(t.level) {
                S::Reviewing
            } else {
                S::Resolved
            };
            n.resolved_level = Some(t.level);
            n.resolved_ms = Some(now_ms);
            n.stage_deadline_ms = None;
            n.work.extension_asked = None;
            note = how.clone();
        }
        Command::Progress { note: what, .. } => {
            if !matches!(t.status, S::Assigned | S::Accepted | S::InProgress) {
                return Err(illegal(t, "progress", "已分拨, 已签收 or 处置中"));
            }
            note = what.clone();
        }
        Command::Close { .. } => {
            if !matches!(t.status, S::Resolved | S::Rated) {
                return Err(illegal(t, "close", "已办结 or 已回访"));
            }
            n.status = S::Archived;
        }
        Command::Merge { into, .. } => {
            if t.merged_into.is_some() || !t.status.is_open() {
                return Err(illegal(t, "merge", "an open ticket not merged yet"));
            }
            n.merged_into = Some(*into);
            note = format!("并入 #{into} (merged into #{into})");
        }
        Command::Unmerge { .. } => {
            let Some(m) = t.merged_into else {
                return Err(illegal(t, "unmerge", "a merged ticket"));
            };
            n.merged_into = None;
            note = format!("撤销并入 #{m} (no longer merged into #{m})");
        }
        other => {
            return Err(Refusal::new(
                ErrorCode::Invalid,
                format!("{} is not a ticket command", other.name()),
            ));
        }
    }
    Ok(TicketChange {
        transitioned: n.status != t.status || n.level != t.level,
        ticket: n,
        note,
        unit: concerns,
    })
}

/// Steps a warning's trail keeps (the newest).
const TRAIL_STEPS: usize = 50;

/// Apply a warning command by `actor`; the change goes on the warning's trail.
pub fn apply_warning(
    w: &Warning,
    cmd: &Command,
    now_ms: i64,
    actor: &str,
) -> Result<Warning, Refusal> {
    let mut n = apply_warning_change(w, cmd, now_ms)?;
    let what = match cmd {
        Command::AckWarning { .. } => "签收".to_string(),
        Command::AssignTaskForce { team, .. } => format!("专班: {team}"),
        Command::LiftWarning { note, .. } => format!("解除: {note}"),
        Command::UpdateWarning { note, .. } => {
            let mut parts = vec![];
            if n.level != w.level {
                parts.push(format!("{} → {}", w.level.zh(), n.level.zh()));
            }
            if n.grids != w.grids {
                let area = |g: &[String]| match g.len() {
                    0 => "全市".to_string(),
                    1..=3 => g.join(","),
                    k => format!("{k} 处"),
                };
                parts.push(format!("区域 {} → {}", area(&w.grids), area(&n.grids)));
            }
            if n.title != w.title {
                parts.push(format!("标题: {}", n.title));
            }
            if n.expires_ms != w.expires_ms {
                parts.push("有效期已改".to_string());
            }
            format!("更新 ({note}): {}", parts.join("; "))
        }
        _ => cmd.name().to_string(),
    };
    n.trail.push(protocol::WarningStep {
        at_ms: now_ms,
        by: actor.to_string(),
        what,
    });
    if n.trail.len() > TRAIL_STEPS {
        n.trail.drain(..n.trail.len() - TRAIL_STEPS);
    }
    Ok(n)
}

fn apply_warning_change(w: &Warning, cmd: &Command, now_ms: i64) -> Result<Warning, Refusal> {
    let mut n = w.clone();
    n.updated_ms = now_ms;
    let bad = |needs: &str| {
        Refusal::new(
            ErrorCode::IllegalTransition,
            format!(
                "warning {} is {} ({}): {} needs {needs}",
                w.id,
                w.status.zh(),
                w.status.en(),
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
                return Err(Refusal::new(ErrorCode::Invalid, "task force name is empty"));
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
        // In place: what it is and where, from the update; who has it in hand stays.
        Command::UpdateWarning { update, .. } => {
            if w.status == W::Lifted {
                return Err(bad("a warning that is not lifted"));
            }
            n.level = update.level;
            n.kind = update.kind;
            n.title = update.title.trim().to_string();
            n.grids = update.grids.clone();
            n.expires_ms = update.expires_ms;
            for r in &update.cap_refs {
                if !n.cap_refs.contains(r) {
                    n.cap_refs.push(r.clone());
                }
            }
        }
        other => {
            return Err(Refusal::new(
                ErrorCode::Invalid,
                format!("{} is not a warning command", other.name()),
            ));
        }
    }
    Ok(n)
}

/// A warning as raised: id from the store, raised now.
pub fn new_warning(id: u64, n: &NewWarning, now_ms: i64) -> Warning {
    Warning {
        id,
        level: n.level,
        status: WarningStatus::Raised,
        kind: n.kind,
        title: n.title.trim().to_string(),
        grids: n.grids.clone(),
        tickets: n.tickets.clone(),
        cap_refs: n.cap_refs.clone(),
        expires_ms: n.expires_ms,
        trail: vec![],
        raised_ms: now_ms,
        updated_ms: now_ms,
        task_force: None,
    }
}

/// The event a warning record after a change is.
pub fn warning_event(w: Warning) -> Event {
    match w.status {
        WarningStatus::Raised => Event::WarningRaised { warning: w },
        WarningStatus::Acknowledged => Event::WarningAcknowledged { warning: w },
        WarningStatus::TaskForce => Event::WarningTaskForce { warning: w },
        WarningStatus::Lifted => Event::WarningLifted { warning: w },
    }
}

/// The event of a ticket taken in, with its audit entry.
pub fn intake_event(t: Ticket, seq: u64, at_ms: i64, actor: &str) -> Event {
    let audit = AuditEntry {
        seq,
        at_ms,
        actor: actor.to_string(),
        action: AuditAction::Intake,
        from: None,
        to: Some(TicketStatus::Received),
        note: String::new(),
        unit: None,
        field: None,
    };
    Event::TicketCreated { ticket: t, audit }
}

/// The level a new ticket starts at: emergencies go to the county, petitions and 110 calls
/// to the town (the police station, the town's petition office), everything else to the
/// village (小事不出村).
pub fn initial_level(t: &NewTicket) -> Level {
    match (t.channel, t.category) {
        (_, Category::Emergency) => Level::County,
        (_, Category::Petition) | (Channel::Petition, _) | (Channel::Police110, _) => Level::Town,
        _ => Level::Village,
    }
}

/// A ticket as taken in: id from the store, the intake time (the ticket's own, or now) and
/// the SLA (its own, or the default for its priority: urgent, important, normal minutes).
pub fn new_ticket(id: u64, n: &NewTicket, now_ms: i64, sla_minutes: [u32; 3]) -> Ticket {
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
        deadline_ms: created.saturating_add(sla as i64 * 60_000),
        level: initial_level(n),
        unit: None,
        supervised: false,
        resolved_level: None,
        satisfied: None,
        resolved_ms: None,
        stage_deadline_ms: None,
        supervised_stages: vec![],
        merged_into: None,
        content: n.content.trim().to_string(),
        address: n.address.trim().to_string(),
        work: Box::new(protocol::Workflow {
            sla_ms: sla as i64 * 60_000,
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::examples;

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
            Command::Review {
                ticket: t.id,
                approve: true,
                note: String::new(),
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
            S::Reviewing,
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
        assert_eq!(err.code, ErrorCode::IllegalTransition);
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
        assert_eq!(err.code, ErrorCode::UnitOffDuty);
    }
}
