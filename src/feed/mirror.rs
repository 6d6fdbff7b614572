//! A local copy of the gateway's live state, built only from feed messages.

use std::collections::{BTreeMap, HashMap};

use crate::protocol::{
    Briefing, Event, KpiFigures, ServerMsg, Ticket, Unit, Warning, WarningStatus,
};

/// What applying one message changed, for the views that keep derived state.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Everything was replaced (snapshot part 0) or extended (later parts).
    Snapshot {
        last: bool,
    },
    /// One ticket changed; `before` is its previous version, if there was one.
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
    /// Nothing in the state (heartbeat, results, errors, audit answers).
    None,
}

#[derive(Default)]
pub struct Mirror {
    pub epoch: String,
    /// The last sequence number applied.
    pub seq: u64,
    /// Gateway stamp of the last delta or heartbeat.
    pub last_ts_us: i64,
    /// A snapshot is being received (parts so far are applied, the rest are coming).
    pub loading: bool,
    pub tickets: HashMap<u64, Ticket>,
    pub warnings: BTreeMap<u64, Warning>,
    pub units: BTreeMap<String, Unit>,
    /// The gateway's latest figures for this scope (it sends them once a second).
    pub kpis: Option<KpiFigures>,
    /// Set when the gateway is replaying a recording: (recorded clock ms, speed, ended).
    pub replay: Option<(i64, f64, bool)>,
    /// The briefing running, if any.
    pub briefing: Option<Briefing>,
}

impl Mirror {
    pub fn apply(&mut self, msg: &ServerMsg) -> Change {
        match msg {
            ServerMsg::Snapshot(s) => {
                if s.part == 0 {
                    self.tickets.clear();
                    self.warnings.clear();
                    self.units.clear();
                    self.epoch = s.epoch.clone();
                    self.briefing = s.briefing.clone();
                    // A new feed (a rewind, or back to live): its gateway sends its own
                    // figures and replay clock within a second.
                    self.replay = None;
                    self.kpis = None;
                }
                self.seq = s.seq;
                self.loading = !s.last;
                self.tickets
                    .extend(s.tickets.iter().map(|t| (t.id, t.clone())));
                self.warnings
                    .extend(s.warnings.iter().map(|w| (w.id, w.clone())));
                self.units
                    .extend(s.units.iter().map(|u| (u.id.clone(), u.clone())));
                Change::Snapshot { last: s.last }
            }
            ServerMsg::Delta {
                epoch,
                seq,
                ts_us,
                event,
            } => {
                if epoch != &self.epoch || *seq <= self.seq {
                    // Another log's or an old delta: the client resubscribes on epoch
                    // change, so this only guards against misuse.
                    return Change::None;
                }
                self.seq = *seq;
                self.last_ts_us = *ts_us;
                self.apply_event(event)
            }
            ServerMsg::Heartbeat { ts_us, .. } => {
                self.last_ts_us = *ts_us;
                Change::None
            }
            ServerMsg::Replay {
                clock_ms,
                speed,
                done,
            } => {
                self.replay = Some((*clock_ms, *speed, *done));
                Change::None
            }
            ServerMsg::Kpis { figures, .. } => {
                self.kpis = Some((**figures).clone());
                Change::None
            }
            _ => Change::None,
        }
    }

    fn apply_event(&mut self, event: &Event) -> Change {
        match event {
            Event::TicketCreated { ticket, .. }
            | Event::TicketTransitioned { ticket, .. }
            | Event::TicketUpdated { ticket, .. } => {
                let before = if ticket.status == crate::protocol::TicketStatus::Archived {
                    self.tickets.remove(&ticket.id)
                } else {
                    self.tickets.insert(ticket.id, ticket.clone())
                };
                Change::Ticket {
                    id: ticket.id,
                    before: before.map(Box::new),
                }
            }
            Event::WarningRaised { warning }
            | Event::WarningAcknowledged { warning }
            | Event::WarningTaskForce { warning }
            | Event::WarningLifted { warning } => {
                if warning.status == WarningStatus::Lifted {
                    self.warnings.remove(&warning.id);
                } else {
                    self.warnings.insert(warning.id, warning.clone());
                }
                Change::Warning { id: warning.id }
            }
            Event::UnitStatus { unit } => {
                self.units.insert(unit.id.clone(), unit.clone());
                Change::Unit
            }
            Event::BriefingChanged { briefing } => {
                self.briefing = briefing.clone();
                Change::Briefing
            }
        }
    }
}
