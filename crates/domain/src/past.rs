//! A past as the simulator makes it and the store imports it (`Store::import_history`):
//! the records as they ended, and the audit entries as they were made. It lives here, the
//! layer both use, so that the simulator never imports the store.

use protocol::{AuditEntry, Ticket, Unit, Warning};

/// A record of the past as it is made: an audit entry (of ticket id), or a ticket that was
/// archived (its last record).
#[derive(Clone, Debug)]
pub enum Past {
    Audit(u64, AuditEntry),
    Archived(Ticket),
}

/// A past to import (`Store::import_history`): records as they ended and the last
/// sequence number used (the audit entries come separately, as they are made).
#[derive(Clone, Debug, Default)]
pub struct History {
    pub tickets: Vec<Ticket>,
    pub warnings: Vec<Warning>,
    pub units: Vec<Unit>,
    pub last_seq: u64,
}
