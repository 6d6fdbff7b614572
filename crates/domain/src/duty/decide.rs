//! Deciding the duty room's commands against the live state: the change each makes, or
//! why it is refused. (Who may send which is `access::authorize`'s.)

use protocol::{Command, DutyChange, ErrorCode, Escalation, Handover, Person};

use crate::access::{Access, Role};
use crate::text::check_text;
use crate::{Refusal, State};

/// Notices kept on one escalation (the oldest go first; all stay in the log).
pub const MAX_NOTICES: usize = 200;

fn refuse(code: ErrorCode, msg: impl Into<String>) -> Refusal {
    Refusal::new(code, msg)
}

/// The change a duty command makes. `region_ok`: is a center's id one of the city's regions.
pub fn decide(
    state: &State,
    cmd: &Command,
    actor: &str,
    access: &Access,
    now_ms: i64,
    region_ok: &dyn Fn(&str) -> bool,
) -> Result<DutyChange, Refusal> {
    let duty = &state.duty;
    let in_scope = |center: &str, what: String| {
        if access.covers(center) {
            Ok(())
        } else {
            Err(refuse(
                ErrorCode::Forbidden,
                format!(
                    "{what} belongs to center {center:?}, outside this credential's region {}",
                    access.region
                ),
            ))
        }
    };
    match cmd {
        Command::SetRoster { roster } => {
            let first = duty.roster.shifts.iter().map(|s| s.id).max().unwrap_or(0) + 1;
            let roster = super::roster::check(roster, first, region_ok)?;
            Ok(DutyChange::Roster { roster })
        }
        Command::SwapShift { shift, person } => {
            let s = duty.roster.shift(*shift).ok_or_else(|| {
                refuse(
                    ErrorCode::UnknownShift,
                    format!("no shift {shift} on the roster"),
                )
            })?;
            in_scope(&s.center, format!("shift {shift}"))?;
            if duty.roster.person(person).is_none() {
                return Err(refuse(
                    ErrorCode::UnknownPerson,
                    format!("no person {person} on the roster: import them first"),
                ));
            }
            if s.end_ms <= now_ms {
                return Err(refuse(
                    ErrorCode::AlreadyClosed,
                    format!("shift {shift} has ended"),
                ));
            }
            if let Some(o) = duty.roster.shifts.iter().find(|o| {
                o.id != s.id
                    && &o.person == person
                    && o.start_ms < s.end_ms
                    && s.start_ms < o.end_ms
            }) {
                return Err(refuse(
                    ErrorCode::BadRoster,
                    format!("{person} is on shift {} at that time", o.id),
                ));
            }
            let mut s = s.clone();
            s.person = person.clone();
            Ok(DutyChange::ShiftSwapped { shift: s })
        }
        Command::AckEscalation { escalation } => {
            let e = open_escalation(state, *escalation)?;
            in_scope(&e.center, format!("escalation {escalation}"))?;
            Ok(DutyChange::Escalation {
                escalation: Escalation {
                    acked_by: Some(actor.to_string()),
                    acked_ms: Some(now_ms),
                    closed: Some(format!("{actor} 已确认")),
                    ..e.clone()
                },
            })
        }
        Command::AnnotateHandover { handover, notes } => {
            check_text("notes", notes, 0, 4000)?;
            let h = open_handover(state, *handover)?;
            in_scope(&h.center, format!("handover {handover}"))?;
            own(state, &h.from, actor, access, "add notes to", h.id)?;
            Ok(DutyChange::Handover {
                handover: Handover {
                    notes: notes.clone(),
                    ..h.clone()
                },
            })
        }
        Command::SignHandover { handover } => {
            let h = open_handover(state, *handover)?;
            in_scope(&h.center, format!("handover {handover}"))?;
            if let Some(to) = &h.to {
                own(state, to, actor, access, "sign", h.id)?;
            }
            Ok(DutyChange::Handover {
                handover: Handover {
                    signed_by: Some(actor.to_string()),
                    signed_ms: Some(now_ms),
                    ..h.clone()
                },
            })
        }
        Command::DutyRecord { change } => match &**change {
            DutyChange::Notice { escalation, notice } => {
                let e = duty.escalation(*escalation).ok_or_else(|| {
                    refuse(
                        ErrorCode::UnknownEscalation,
                        format!("no escalation {escalation}"),
                    )
                })?;
                let mut e = e.clone();
                e.notices.push(notice.clone());
                let over = e.notices.len().saturating_sub(MAX_NOTICES);
                e.notices.drain(..over);
                Ok(DutyChange::Escalation { escalation: e })
            }
            other => Ok(other.clone()),
        },
        _ => Err(refuse(
            ErrorCode::Invalid,
            format!("{} is not a duty command", cmd.name()),
        )),
    }
}

fn open_escalation(state: &State, id: u64) -> Result<&Escalation, Refusal> {
    let e = state.duty.escalation(id).ok_or_else(|| {
        refuse(
            ErrorCode::UnknownEscalation,
            format!("no escalation {id} (never opened, or long closed)"),
        )
    })?;
    if let Some(why) = &e.closed {
        return Err(refuse(
            ErrorCode::AlreadyClosed,
            format!("escalation {id} is closed: {why}"),
        ));
    }
    Ok(e)
}

fn open_handover(state: &State, id: u64) -> Result<&Handover, Refusal> {
    let h = state
        .duty
        .handover(id)
        .ok_or_else(|| refuse(ErrorCode::UnknownHandover, format!("no open handover {id}")))?;
    if let Some(by) = &h.signed_by {
        return Err(refuse(
            ErrorCode::AlreadyClosed,
            format!("handover {id} was signed by {by}"),
        ));
    }
    Ok(h)
}

/// Is `actor` the person `person` (by the credential the roster names), or an admin?
fn own(
    state: &State,
    person: &str,
    actor: &str,
    access: &Access,
    what: &str,
    id: u64,
) -> Result<(), Refusal> {
    if access.role == Role::Admin {
        return Ok(());
    }
    match state.duty.roster.person(person) {
        Some(Person { credential, .. }) if credential == actor => Ok(()),
        Some(p) => Err(refuse(
            ErrorCode::Forbidden,
            format!(
                "only {} (credential {}) may {what} handover {id}",
                p.name, p.credential
            ),
        )),
        None => Ok(()),
    }
}
