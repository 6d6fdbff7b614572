//! The one interface between the store and its database. Two backends: SQLite (`sqlite/`,
//! the embedded default) and PostgreSQL (`postgres/`, the record of a cluster). Both keep
//! the same tables (one schema, `sql.rs`) with the records as JSON beside the queried
//! columns, so the store's logic (decide, apply, figures, keys) is the same code on
//! either.
//!
//! Methods take `&self`: the store reads through it while it holds its own state mutably.

use super::StoreError;
use super::accounts::{AccessEntry, Account};
use protocol::{AuditEntry, Briefing, CommandOutcome, Ticket, Unit, Warning};

/// A delta as kept in the event log: its number, stamp and frame text.
#[derive(Clone, Debug)]
pub struct StoredDelta {
    pub seq: u64,
    pub ts_us: i64,
    pub frame: String,
}

/// What the store loads at open (and after a failed transaction).
pub struct Loaded {
    pub epoch: String,
    pub seq: u64,
    pub max_ticket: u64,
    pub max_warning: u64,
    pub warnings: Vec<Warning>,
    pub units: Vec<Unit>,
    /// (credential, key) → (when, outcome), oldest first.
    pub idem: Vec<((String, String), i64, CommandOutcome)>,
}

/// A read of every ticket made on another thread, in one transaction of its own
/// (`Backend::tickets_later`): the log's last `seq` it saw, and the tickets as of then.
pub type TicketsLater = Box<dyn FnOnce() -> Result<(u64, Vec<Ticket>), StoreError> + Send>;

pub trait Backend: Send {
    /// "sqlite" or "postgresql", for logs and `/metrics`.
    fn kind(&self) -> &'static str;

    fn load(&self) -> Result<Loaded, StoreError>;
    /// Every ticket ever taken in, archived ones included: what the figures sum over.
    fn all_tickets(&self) -> Result<Vec<Ticket>, StoreError>;
    /// One ticket as last written, archived or not.
    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError>;
    /// Every ticket, read later on another thread (on a connection of its own) while this
    /// one goes on writing, with the seq that read is as of; `None`: this backend reads
    /// only on the caller's thread.
    fn tickets_later(&self) -> Result<Option<TicketsLater>, StoreError> {
        Ok(None)
    }
    fn briefing(&self) -> Result<Option<Briefing>, StoreError>;
    fn duty(&self) -> Result<Option<protocol::Duty>, StoreError>;
    fn deltas_after(&self, seq: u64, limit: usize) -> Result<Vec<StoredDelta>, StoreError>;
    fn audit_of(&self, ticket: u64) -> Result<Vec<AuditEntry>, StoreError>;

    fn begin(&self) -> Result<(), StoreError>;
    fn commit(&self) -> Result<(), StoreError>;
    fn rollback(&self);

    fn insert_event(&self, seq: u64, ts_us: i64, frame: &str) -> Result<(), StoreError>;
    fn upsert_ticket(&self, t: &Ticket) -> Result<(), StoreError>;
    fn insert_audit(&self, ticket: u64, a: &AuditEntry) -> Result<(), StoreError>;
    fn upsert_warning(&self, w: &Warning) -> Result<(), StoreError>;
    fn upsert_unit(&self, u: &Unit) -> Result<(), StoreError>;
    fn set_briefing(&self, b: Option<&Briefing>) -> Result<(), StoreError>;
    fn set_duty(&self, d: &protocol::Duty) -> Result<(), StoreError>;
    fn insert_idem(
        &self,
        credential: &str,
        key: &str,
        at_ms: i64,
        outcome: &CommandOutcome,
    ) -> Result<(), StoreError>;
    /// Forget the keys used before `before_ms`; returns how many.
    fn expire_idem(&self, before_ms: i64) -> Result<usize, StoreError>;

    // Accounts and the access log (`yiping account`, the gateway's directory).
    fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    fn insert_account(&self, a: &Account) -> Result<(), StoreError>;
    /// A new token hash for a live account; false if none such.
    fn set_token_hash(&self, id: &str, hash: &str) -> Result<bool, StoreError>;
    /// Revoke a live account; false if none such.
    fn revoke_account(&self, id: &str, at_ms: i64) -> Result<bool, StoreError>;
    fn log_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError>;
    fn recent_access(&self, limit: usize) -> Result<Vec<AccessEntry>, StoreError>;
    /// The access log's first and last line numbers (`sql::ACCESS_ENDS`).
    fn access_ends(&self) -> Result<(i64, i64), StoreError>;
    /// `sql::TRIM_ACCESS`: lines removed.
    fn trim_access(&self, below: i64, before_ms: i64, cap_below: i64) -> Result<u64, StoreError>;
    /// A value that changes whenever another program changed the accounts (SQLite's
    /// `data_version`; a digest of the table in PostgreSQL): the directory is read again.
    fn accounts_version(&self) -> Result<String, StoreError>;

    /// Name the log after another's epoch (a town center's replica of the city's log), on
    /// an empty database only.
    fn set_epoch(&self, epoch: &str) -> Result<(), StoreError>;
    /// Start the log after `seq` (an imported history's last number): the next delta is
    /// `seq + 1`, so the history's audit entries keep their own numbers. A fresh database
    /// only; SQLite only (a cluster's record is imported with its own tools).
    fn set_seq_base(&self, seq: u64) -> Result<(), StoreError>;
    /// Around a bulk import's writes (inside its transaction): `true` before, `false`
    /// after. SQLite builds the audit index once at the end instead of row by row.
    fn bulk_import(&self, _starting: bool) -> Result<(), StoreError> {
        Ok(())
    }

    /// Take the writer's lease of a cluster, if free: true while this connection holds it.
    /// SQLite has one writer by construction (the file's lock): always true.
    fn try_lead(&self) -> Result<bool, StoreError> {
        Ok(true)
    }
    /// Whether the connection still works (a cluster node reconnects when it does not).
    fn is_alive(&self) -> bool {
        true
    }
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(
    what: &str,
    json: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(super) fn encode<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A unit enum's wire name ("in_progress"), for the status columns.
pub(super) fn snake<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    Ok(encode(v)?.trim_matches('"').to_string())
}
