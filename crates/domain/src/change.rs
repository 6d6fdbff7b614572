//! What a legal ticket command makes: the record after it and what the audit line says;
//! and the refusal of one in a state it does not take. Shared by the lifecycle and the
//! center's workflow.

use super::Refusal;
use protocol::{AuditAction, AuditEntry, ErrorCode, Event, Ticket, TicketStatus};

/// What a legal ticket command does.
pub struct TicketChange {
    pub ticket: Ticket,
    /// The status moved (a transition) rather than only a field (an update).
    pub transitioned: bool,
    pub note: String,
    /// The unit the change concerns, for the audit entry: dispatched to, or returning it.
    pub unit: Option<String>,
}

impl TicketChange {
    /// The event this change is, with its audit entry (`seq`, time and actor given).
    pub fn event(
        self,
        from: TicketStatus,
        action: AuditAction,
        seq: u64,
        at_ms: i64,
        actor: &str,
    ) -> Event {
        let audit = AuditEntry {
            seq,
            at_ms,
            actor: actor.to_string(),
            action,
            from: Some(from),
            to: Some(self.ticket.status),
            note: self.note,
            unit: self.unit,
            field: None,
        };
        if self.transitioned {
            Event::TicketTransitioned {
                ticket: self.ticket,
                audit,
            }
        } else {
            Event::TicketUpdated {
                ticket: self.ticket,
                audit,
            }
        }
    }
}

/// The refusal of `op` on `t` in a state it does not take, saying what it needs.
pub(crate) fn illegal(t: &Ticket, op: &str, needs: &str) -> Refusal {
    Refusal::new(
        ErrorCode::IllegalTransition,
        format!(
            "ticket {} is {} ({}): {op} needs {needs}",
            t.id,
            t.status.zh(),
            t.status.en().to_lowercase()
        ),
    )
}
