//! The duty room's rules (值班): the one way a change alters the duty state, the roster's
//! checks, the engine's round (shifts starting and ending, escalations opening, climbing
//! and closing) and the handover's draft. Pure: the gateway sends what `round` returns
//! as commands (`duty_record`), so every change is in the log and its audit trail.

mod decide;
pub mod handover;
pub mod roster;
pub mod round;

pub use decide::decide;

use protocol::{Duty, DutyChange, DutyFigures, KEEP_CLOSED, TicketStatus, WarningStatus, within};

use crate::State;

/// Apply one change to the duty state (every copy: store, mirror, replay).
pub fn apply(duty: &mut Duty, change: &DutyChange) {
    match change {
        DutyChange::Roster { roster } => {
            duty.roster = roster.clone();
            let known = |id: &u64| roster.shift(*id).is_some();
            duty.on_duty.retain(known);
            duty.started.retain(|(id, _)| known(id));
        }
        DutyChange::ShiftStarted { shift, figures } => {
            if !duty.on_duty.contains(&shift.id) {
                duty.on_duty.push(shift.id);
            }
            duty.started.retain(|(id, _)| *id != shift.id);
            duty.started.push((shift.id, *figures));
        }
        DutyChange::ShiftEnded { shift } => {
            duty.on_duty.retain(|id| *id != shift.id);
            duty.started.retain(|(id, _)| *id != shift.id);
        }
        DutyChange::ShiftSwapped { shift } => {
            if let Some(s) = duty.roster.shifts.iter_mut().find(|s| s.id == shift.id) {
                *s = shift.clone();
            }
        }
        DutyChange::Escalation { escalation } => {
            duty.next_id = duty.next_id.max(escalation.id + 1);
            match duty.escalations.iter_mut().find(|e| e.id == escalation.id) {
                Some(e) => *e = escalation.clone(),
                None => duty.escalations.push(escalation.clone()),
            }
            trim(&mut duty.escalations, |e| e.closed.is_some());
        }
        DutyChange::Handover { handover } => {
            duty.next_id = duty.next_id.max(handover.id + 1);
            match duty.handovers.iter_mut().find(|h| h.id == handover.id) {
                Some(h) => *h = handover.clone(),
                None => duty.handovers.push(handover.clone()),
            }
            trim(&mut duty.handovers, |h| h.signed_by.is_some());
        }
        DutyChange::Channel { health } => {
            match duty
                .channels
                .iter_mut()
                .find(|c| c.channel == health.channel)
            {
                Some(c) => *c = health.clone(),
                None => duty.channels.push(health.clone()),
            }
        }
        // A command's form only: its event is an `Escalation`.
        DutyChange::Notice { .. } => {}
    }
}

/// Keep at most `KEEP_CLOSED` of the closed ones (the oldest go; they stay in the log).
fn trim<T>(v: &mut Vec<T>, closed: impl Fn(&T) -> bool) {
    let n = v.iter().filter(|x| closed(x)).count();
    let mut drop = n.saturating_sub(KEEP_CLOSED);
    v.retain(|x| {
        if drop > 0 && closed(x) {
            drop -= 1;
            false
        } else {
            true
        }
    });
}

/// The figures a handover compares, for `center`'s scope, from the live state.
pub fn figures(state: &State, center: &str, now_ms: i64) -> DutyFigures {
    let mut f = DutyFigures {
        at_ms: now_ms,
        ..Default::default()
    };
    for t in state.tickets.values() {
        if !within(&t.grid, center) || t.merged_into.is_some() || !is_open(t.status) {
            continue;
        }
        f.open += 1;
        if t.work.hard.is_some() {
            f.hard += 1;
        } else if t.deadline_ms < now_ms && t.work.suspended_since_ms.is_none() {
            f.overdue += 1;
        }
        if t.priority == protocol::Priority::Urgent {
            f.urgent_open += 1;
        }
    }
    f.warnings_unacked = state
        .warnings
        .values()
        .filter(|w| w.status == WarningStatus::Raised && in_center(&w.grids, center))
        .count() as u64;
    f
}

/// Not yet resolved.
pub fn is_open(s: TicketStatus) -> bool {
    !matches!(
        s,
        TicketStatus::Resolved | TicketStatus::Rated | TicketStatus::Archived
    )
}

/// Does a warning over `grids` concern `center`?
pub fn in_center(grids: &[String], center: &str) -> bool {
    center.is_empty() || grids.iter().any(|g| within(g, center) || within(center, g))
}

/// The center a set of grids belongs to: their district when they share one, else the
/// city's ("").
pub fn center_of(grids: &[String]) -> String {
    let mut d = grids.iter().map(|g| crate::kpi::district_of(g));
    match d.next() {
        Some(first) if d.all(|x| x == first) => first.to_string(),
        _ => String::new(),
    }
}
