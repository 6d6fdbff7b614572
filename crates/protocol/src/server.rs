//! Gateway → client messages: snapshot, deltas, heartbeats, command results, errors.

use serde::{Deserialize, Serialize};

use super::codes::ErrorCode;
use super::kpi::KpiFigures;
use super::records::{AuditEntry, Briefing, Ticket, Unit, Warning};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The whole live state, in parts; part 0 replaces the client's mirror, `last` ends it.
    Snapshot(Snapshot),
    /// One change, in log order.
    Delta {
        epoch: String,
        /// Strictly increasing within an epoch; a region-scoped feed may skip numbers.
        seq: u64,
        /// Gateway stamp, microseconds since the Unix epoch, taken once the change is durable.
        ts_us: i64,
        event: Event,
    },
    /// Once a second: the latest sequence number of the log.
    Heartbeat { epoch: String, seq: u64, ts_us: i64 },
    /// Once a second from a gateway that is replaying a recording: the recorded time it
    /// has reached, the speed, and whether the recording has ended. Walls show a replay
    /// badge and this clock; such a gateway refuses commands (`replay`).
    Replay {
        clock_ms: i64,
        speed: f64,
        done: bool,
    },
    /// Once a second, after the heartbeat: the figures of the client's scope as the
    /// gateway computed them at `seq`, so that every wall shows the same numbers.
    Kpis { seq: u64, figures: Box<KpiFigures> },
    /// The units with a phone page connected now (walls and consoles; at most every 5 s,
    /// when that changed): each with where its last field action stood, and when.
    Live { units: Vec<crate::LiveUnit> },
    /// The answer to a command, after its delta (if any) was sent.
    CommandResult {
        key: String,
        #[serde(flatten)]
        outcome: CommandOutcome,
    },
    /// A ticket's audit trail, oldest first, in answer to `audit_query`.
    Audit {
        ticket: u64,
        entries: Vec<AuditEntry>,
    },
    /// Something the client sent was wrong. `code` is stable, `message` says what to fix.
    Error { code: ErrorCode, message: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub epoch: String,
    /// The last sequence number the snapshot reflects; deltas continue after it.
    pub seq: u64,
    pub part: u32,
    pub last: bool,
    pub tickets: Vec<Ticket>,
    pub warnings: Vec<Warning>,
    pub units: Vec<Unit>,
    /// The briefing running, if any (in part 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub briefing: Option<Briefing>,
    /// The duty room (in part 0): the roster, who is on duty, open escalations and
    /// handovers, channels' health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty: Option<Box<crate::Duty>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CommandOutcome {
    /// Applied and durable. `seq` is the delta it produced, `ticket`/`warning` the id made.
    Ok {
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    /// Refused; nothing changed.
    Refused { code: ErrorCode, message: String },
}

/// What changed. Ticket and warning events carry the whole record after the change, so a
/// mirror applies one by replacing, and the audit line that the change wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    TicketCreated {
        ticket: Ticket,
        audit: AuditEntry,
    },
    TicketTransitioned {
        ticket: Ticket,
        audit: AuditEntry,
    },
    TicketUpdated {
        ticket: Ticket,
        audit: AuditEntry,
    },
    WarningRaised {
        warning: Warning,
    },
    WarningAcknowledged {
        warning: Warning,
    },
    WarningTaskForce {
        warning: Warning,
    },
    WarningLifted {
        warning: Warning,
    },
    /// A live warning changed in place (a CAP `Update`): not a new one.
    WarningUpdated {
        warning: Warning,
    },
    UnitStatus {
        unit: Unit,
    },
    /// A briefing started, changed or (`None`) ended.
    BriefingChanged {
        briefing: Option<Briefing>,
    },
    /// The duty room changed (`DutyChange`: roster, shifts, escalations, handovers,
    /// channels).
    Duty {
        change: Box<crate::DutyChange>,
    },
}

impl Event {
    /// The ticket record a ticket event carries.
    pub fn ticket(&self) -> Option<&Ticket> {
        match self {
            Event::TicketCreated { ticket, .. }
            | Event::TicketTransitioned { ticket, .. }
            | Event::TicketUpdated { ticket, .. } => Some(ticket),
            _ => None,
        }
    }

    /// The warning record a warning event carries.
    pub fn warning(&self) -> Option<&Warning> {
        match self {
            Event::WarningRaised { warning }
            | Event::WarningAcknowledged { warning }
            | Event::WarningTaskForce { warning }
            | Event::WarningLifted { warning }
            | Event::WarningUpdated { warning } => Some(warning),
            _ => None,
        }
    }

    /// The audit line a ticket event carries.
    pub fn audit(&self) -> Option<&AuditEntry> {
        match self {
            Event::TicketCreated { audit, .. }
            | Event::TicketTransitioned { audit, .. }
            | Event::TicketUpdated { audit, .. } => Some(audit),
            _ => None,
        }
    }

    /// The grid this event belongs to, for region scoping (`None` = city-wide).
    pub fn grids(&self) -> Vec<&str> {
        match self {
            Event::TicketCreated { ticket, .. }
            | Event::TicketTransitioned { ticket, .. }
            | Event::TicketUpdated { ticket, .. } => vec![ticket.grid.as_str()],
            Event::WarningRaised { warning }
            | Event::WarningAcknowledged { warning }
            | Event::WarningTaskForce { warning }
            | Event::WarningLifted { warning }
            | Event::WarningUpdated { warning } => {
                warning.grids.iter().map(|g| g.as_str()).collect()
            }
            Event::UnitStatus { unit } => vec![unit.area.as_str()],
            // A briefing is city-wide: every wall turns to it.
            Event::BriefingChanged { .. } => vec![],
            // A center's duty (its shifts, escalations, handovers): that center's region.
            Event::Duty { change } => change.center().map_or(vec![], |c| vec![c]),
        }
    }

    /// Whether a feed scoped to `region` (a grid-id prefix) carries this event.
    pub fn in_region(&self, region: &str) -> bool {
        if region.is_empty() {
            return true;
        }
        // A ticket with no grid (taken in by its address alone, 待定位) is in no region
        // but the city's: "" is not an area that contains every region here.
        if self.ticket().is_some_and(|t| t.grid.is_empty()) {
            return false;
        }
        // A center's duty goes to the walls inside it and to the centers above it: a
        // town's wall shows its town's duty and the city's escalations are not its own.
        if let Event::Duty { change } = self {
            return match change.center() {
                None => true,
                Some(c) => super::within(region, c) || super::within(c, region),
            };
        }
        let grids = self.grids();
        // City-wide warnings and units (no grid, or an area that contains the region)
        // go to every scope.
        grids.is_empty()
            || grids
                .iter()
                .any(|g| super::within(g, region) || super::within(region, g))
    }
}

/// One line of a recording (`yiping record`): a message as a client received it, with the
/// receipt time. A recording holds the snapshot's parts, then the deltas, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordLine {
    /// Microseconds since the Unix epoch, when the recorder received it.
    pub at_us: i64,
    pub msg: ServerMsg,
}
