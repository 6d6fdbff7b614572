//! The live state every copy of the truth holds — the gateway's store, a wall's mirror,
//! a replay's writer, the simulator's fast-forward — and the one way an event changes it.
//! The rules for what leaves the live state (an archived ticket, a lifted warning) are
//! written here once.

use std::collections::{BTreeMap, HashMap};

use protocol::{Briefing, Event, Ticket, TicketStatus, Unit, Warning, WarningStatus};

/// Live tickets by id. foldhash, not SipHash: ids are the gateway's own numbers, not
/// input an attacker picks, and at a province's million tickets SipHash's share of a
/// wall's snapshot (one insert and one look-up a ticket) was measurable.
pub type Tickets = IdMap<Box<Ticket>>;

/// A map keyed by the gateway's own ids (tickets', warnings'), with foldhash.
pub type IdMap<V> = HashMap<u64, V, foldhash::fast::RandomState>;

/// Live tickets (not archived), live warnings (not lifted), units, the briefing running.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// Boxed: a hash table keeps spare slots (at a million tickets it has two million),
    /// and a spare slot of 16 bytes costs less than one of a ticket's 250 — 250 MB less
    /// in a wall's mirror at a province's size.
    pub tickets: Tickets,
    pub warnings: BTreeMap<u64, Warning>,
    pub units: BTreeMap<String, Unit>,
    pub briefing: Option<Briefing>,
    /// The duty room: roster, who is on duty, escalations, handovers.
    pub duty: protocol::Duty,
}

/// What applying one message or event changed, for whoever keeps derived state (figures,
/// the wall's queue and roll-ups).
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Everything was replaced (snapshot part 0, `first`) or extended (later parts) by
    /// the tickets `ids`; `last`: the snapshot is whole.
    Snapshot {
        first: bool,
        last: bool,
        ids: Vec<u64>,
    },
    /// One ticket changed; `before` is its previous live version, if there was one.
    Ticket {
        id: u64,
        before: Option<Box<Ticket>>,
    },
    Warning {
        id: u64,
    },
    Unit,
    /// The briefing started, changed or ended.
    Briefing,
    /// The duty room changed.
    Duty,
    /// Nothing in the state (heartbeat, results, errors, audit answers).
    None,
}

impl State {
    /// Forget everything (a new snapshot follows).
    pub fn clear(&mut self) {
        *self = State::default();
    }
}

/// Apply one event: ticket and warning events carry the whole record after the change,
/// so applying replaces; an archived ticket and a lifted warning leave the live state.
pub fn apply(state: &mut State, event: &Event) -> Change {
    match event {
        Event::TicketCreated { ticket, .. }
        | Event::TicketTransitioned { ticket, .. }
        | Event::TicketUpdated { ticket, .. } => {
            let before = if ticket.status == TicketStatus::Archived {
                state.tickets.remove(&ticket.id)
            } else {
                state.tickets.insert(ticket.id, Box::new(ticket.clone()))
            };
            Change::Ticket {
                id: ticket.id,
                before,
            }
        }
        Event::WarningRaised { warning }
        | Event::WarningAcknowledged { warning }
        | Event::WarningTaskForce { warning }
        | Event::WarningLifted { warning }
        | Event::WarningUpdated { warning } => {
            if warning.status == WarningStatus::Lifted {
                state.warnings.remove(&warning.id);
            } else {
                state.warnings.insert(warning.id, warning.clone());
            }
            Change::Warning { id: warning.id }
        }
        Event::UnitStatus { unit } => {
            state.units.insert(unit.id.clone(), unit.clone());
            Change::Unit
        }
        Event::BriefingChanged { briefing } => {
            state.briefing = briefing.clone();
            Change::Briefing
        }
        Event::Duty { change } => {
            crate::duty::apply(&mut state.duty, change);
            Change::Duty
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::examples;

    #[test]
    fn archived_tickets_and_lifted_warnings_leave_the_live_state() {
        let mut s = State::default();
        let t = examples::ticket();
        let audit = examples::audit();
        let c = apply(
            &mut s,
            &Event::TicketCreated {
                ticket: t.clone(),
                audit: audit.clone(),
            },
        );
        assert_eq!(
            c,
            Change::Ticket {
                id: t.id,
                before: None
            }
        );
        let archived = Ticket {
            status: TicketStatus::Archived,
            ..t.clone()
        };
        let c = apply(
            &mut s,
            &Event::TicketTransitioned {
                ticket: archived,
                audit,
            },
        );
        assert_eq!(
            c,
            Change::Ticket {
                id: t.id,
                before: Some(Box::new(t))
            }
        );
        assert!(s.tickets.is_empty());
        let w = examples::warning();
        apply(&mut s, &Event::WarningRaised { warning: w.clone() });
        assert_eq!(s.warnings.len(), 1);
        let lifted = Warning {
            status: WarningStatus::Lifted,
            ..w
        };
        apply(&mut s, &Event::WarningLifted { warning: lifted });
        assert!(s.warnings.is_empty());
    }
}
