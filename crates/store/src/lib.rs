//! The durable store: tickets, warnings, units and the audit trail, with the event log
//! that gives the feed its sequence numbers.
//!
//! The live state is held in memory for reads; every change is written to SQLite (WAL,
//! `synchronous=FULL`) in the same transaction as its event-log row, its audit line and its
//! idempotency key, and nothing is acknowledged until that transaction commits. Commands
//! arrive in batches so that one commit (one fsync) covers many of them.

pub mod accounts;
mod backend;
mod book;
mod checkpoint;
mod follow;
pub mod gauges;
mod log_reader;
mod postgres;
mod replayed;
mod scopes;
mod sql;
mod sqlite;

use domain::Deadlines;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;

use domain::access::Access;
use domain::decide::{Ask, Bounds, Decider, Decision, NextIds};
use domain::kpi::Kpis;
use domain::sla::DEFAULT_SLA_MINUTES;
use domain::time::{DAY_MS, now_ms};
use domain::{self, Change as Changed, Refusal, State};
use protocol::compact;
use protocol::{
    AuditEntry, Briefing, Command, CommandOutcome, Event, KpiFigures, ServerMsg, Ticket,
    TicketStatus, Unit, Warning, within,
};

pub use backend::{Backend, StoredDelta};
pub use book::AccountBook;
pub use log_reader::LogReader;
pub use scopes::{ScopeRead, ScopeSum};

#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Pg(String),
    #[error("a stored row does not decode ({0}); was the file written by another program?")]
    Corrupt(String),
    /// The database's schema is not one this build can open (`sql::MIGRATIONS`).
    #[error("{0}")]
    Schema(String),
}

/// Site rules the store enforces on intake.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Default SLA in minutes for urgent, important and normal tickets.
    pub sla_minutes: [u32; 3],
    /// Where the city accepts tickets, warnings and units (the box, and its grids when
    /// the gateway knows its layers): what `domain::decide` checks against.
    pub bounds: Bounds,
    /// How long an idempotency key is remembered, ms.
    pub key_ttl_ms: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            sla_minutes: DEFAULT_SLA_MINUTES,
            bounds: Bounds::default(),
            key_ttl_ms: DAY_MS,
        }
    }
}

/// One command as the gateway hands it over: who sent it, its key, what it asks.
#[derive(Clone, Debug)]
pub struct Request {
    /// Who, as written in the audit trail.
    pub actor: String,
    /// The credential that sent it: idempotency keys are its own.
    pub credential: String,
    /// What that credential may do, where.
    pub access: Access,
    pub key: String,
    pub command: Command,
    /// Sent from the field (the phone page): where, when by the phone, which photos.
    pub field: Option<protocol::FieldMark>,
}

pub use domain::past::{History, Past};

/// A change made durable: its sequence number, the event, and the delta frame as sent.
#[derive(Clone, Debug)]
pub struct Delta {
    pub seq: u64,
    pub event: Event,
    /// The `ServerMsg::Delta` JSON, serialized once, stored and fanned out as it is.
    pub frame: String,
}

/// What one request came to.
#[derive(Clone, Debug)]
pub struct Applied {
    pub key: String,
    pub outcome: CommandOutcome,
    /// The delta it produced; `None` when refused or a repeat of an applied key.
    pub delta: Option<Delta>,
}

/// Live tickets' compact rows by id (see `Store::rows`).
pub type Rows = imbl::OrdMap<u64, Arc<[u8]>>;

pub struct Store {
    db: Box<dyn Backend>,
    epoch: String,
    seq: u64,
    next_ticket: u64,
    next_warning: u64,
    policy: Policy,
    /// The live state, changed only by `domain::apply` of the events written.
    state: State,
    /// Every live ticket's compact row (`protocol::compact`), in id order: what a
    /// snapshot is made of. A persistent map, so that `rows()` is an O(1) copy that a
    /// snapshot builder reads off the core while the core goes on changing its own.
    rows: Rows,
    /// Open tickets by when their first unsupervised stage falls due (`next_supervision`),
    /// and each one's entry: supervision reads the front, not every ticket.
    due: BTreeSet<(i64, u64)>,
    due_of: HashMap<u64, i64>,
    /// Live tickets by status and overdue ones by stage, for `/metrics`.
    gauges: gauges::Gauges,
    /// Idempotency keys by (credential, key), with their first outcome.
    idem: HashMap<(String, String), CommandOutcome>,
    /// The same keys oldest first, with when they were used, for expiry.
    idem_order: VecDeque<(i64, (String, String))>,
    /// The figures per scope (a grid-id prefix; "" is the whole city), kept up with every
    /// ticket change.
    kpis: HashMap<String, Kpis>,
    /// Scopes whose figures are being summed off the core (`track_scopes_later`), with the
    /// ticket changes since it was asked, (seq, before, after): those after the seq the
    /// read saw are added on arrival.
    building: HashMap<String, Vec<(u64, Option<Ticket>, Ticket)>>,
    /// The accounts' version (`Backend::accounts_version`) when last looked at.
    accounts_version: String,
    /// How long the last COMMIT took (where SQLite fsyncs), for `/metrics`.
    last_commit_seconds: f64,
}

impl Store {
    /// Open (or create) the database at `path` and load the live state.
    pub fn open(path: &Path, policy: Policy) -> Result<Store, StoreError> {
        Store::with_backend(Box::new(sqlite::Sqlite::open(path)?), policy)
    }

    /// Connect to a cluster's PostgreSQL database (creating the tables if need be) and
    /// load the live state from it.
    pub fn open_postgres(url: &str, policy: Policy) -> Result<Store, StoreError> {
        Store::with_backend(Box::new(postgres::Pg::connect(url)?), policy)
    }

    fn with_backend(db: Box<dyn Backend>, policy: Policy) -> Result<Store, StoreError> {
        let mut store = Store {
            db,
            epoch: String::new(),
            seq: 0,
            next_ticket: 1,
            next_warning: 1,
            policy,
            state: State::default(),
            rows: Rows::new(),
            due: BTreeSet::new(),
            due_of: HashMap::new(),
            gauges: gauges::Gauges::default(),
            idem: HashMap::new(),
            idem_order: VecDeque::new(),
            kpis: HashMap::from([(String::new(), Kpis::default())]),
            building: HashMap::new(),
            accounts_version: String::new(),
            last_commit_seconds: 0.0,
        };
        store.reload()?;
        Ok(store)
    }

    /// Rebuild the in-memory state from the file (at open, and after a failed commit).
    fn reload(&mut self) -> Result<(), StoreError> {
        let loaded = self.db.load()?;
        self.epoch = loaded.epoch;
        self.seq = loaded.seq;
        self.next_ticket = loaded.max_ticket + 1;
        self.next_warning = loaded.max_warning + 1;
        self.state.warnings = loaded.warnings.into_iter().map(|w| (w.id, w)).collect();
        self.state.units = loaded
            .units
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        self.idem_order = loaded
            .idem
            .iter()
            .map(|(k, at, _)| (*at, k.clone()))
            .collect();
        self.idem = loaded.idem.into_iter().map(|(k, _, o)| (k, o)).collect();
        self.state.briefing = self.db.briefing()?;
        self.state.duty = self.db.duty()?.unwrap_or_default();
        // Scopes being summed elsewhere are summed here instead: the changes noted for
        // them may include what was just rolled back.
        let scopes: Vec<String> = self
            .kpis
            .keys()
            .chain(self.building.keys())
            .cloned()
            .collect();
        self.building.clear();
        // One read of every ticket: the live ones for memory, all of them for the figures.
        let all = self.db.all_tickets()?;
        self.state.tickets = all
            .iter()
            .filter(|t| t.status != TicketStatus::Archived)
            .map(|t| (t.id, Box::new(t.clone())))
            .collect();
        self.rows = self
            .state
            .tickets
            .values()
            .map(|t| (t.id, Arc::<[u8]>::from(compact::ticket_row(t))))
            .collect();
        self.due_of = self
            .state
            .tickets
            .values()
            .filter_map(|t| Some((t.id, t.next_supervision()?)))
            .collect();
        self.due = self.due_of.iter().map(|(id, d)| (*d, *id)).collect();
        self.gauges = gauges::Gauges::of(self.state.tickets.values().map(|t| &**t));
        let now = now_ms();
        self.kpis = scopes
            .into_iter()
            .map(|s| {
                let k = scopes::scope_kpis(&all, &s, now);
                (s, k)
            })
            .collect();
        Ok(())
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }
    /// The sequence number of the last durable change.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// Live tickets (not archived).
    pub fn tickets(&self) -> &domain::state::Tickets {
        &self.state.tickets
    }
    /// The live tickets' compact rows, as of `seq()`: a copy that costs nothing now and
    /// shares what does not change later.
    pub fn rows(&self) -> Rows {
        self.rows.clone()
    }
    /// Live tickets by status and open ones past a deadline by stage, at `now_ms`.
    pub fn gauges(&mut self, now_ms: i64) -> gauges::Reading {
        self.gauges.read(now_ms)
    }
    /// Open tickets with a stage due for supervision before `now_ms`, earliest first.
    pub fn due_before(&self, now_ms: i64) -> impl Iterator<Item = &Ticket> {
        self.due
            .range(..(now_ms, 0))
            .filter_map(|(_, id)| self.state.tickets.get(id).map(|t| &**t))
    }

    /// Keep ticket `id`'s compact row and supervision entry as the state has it now.
    fn sync_indexes(&mut self, id: u64) {
        if let Some(d) = self.due_of.remove(&id) {
            self.due.remove(&(d, id));
        }
        match self.state.tickets.get(&id) {
            Some(t) => {
                self.rows
                    .insert(id, Arc::<[u8]>::from(compact::ticket_row(t)));
                if let Some(d) = t.next_supervision() {
                    self.due.insert((d, id));
                    self.due_of.insert(id, d);
                }
            }
            None => {
                self.rows.remove(&id);
            }
        }
    }
    /// Live warnings (not lifted).
    pub fn warnings(&self) -> &BTreeMap<u64, Warning> {
        &self.state.warnings
    }
    pub fn briefing(&self) -> Option<&Briefing> {
        self.state.briefing.as_ref()
    }
    /// The duty room: roster, who is on duty, escalations, handovers.
    pub fn duty(&self) -> &protocol::Duty {
        &self.state.duty
    }
    /// The whole live state (the duty engine's round reads it).
    pub fn state(&self) -> &domain::State {
        &self.state
    }

    pub fn units(&self) -> &BTreeMap<String, Unit> {
        &self.state.units
    }

    /// Write an event's records, then apply it to memory and the figures: the one path
    /// of every change, commanded or replayed.
    fn write_event(&mut self, event: &Event) -> Result<(), StoreError> {
        match event {
            Event::TicketCreated { ticket, audit }
            | Event::TicketTransitioned { ticket, audit }
            | Event::TicketUpdated { ticket, audit } => {
                self.db.upsert_ticket(ticket)?;
                self.db.insert_audit(ticket.id, audit)?;
            }
            Event::WarningRaised { warning }
            | Event::WarningAcknowledged { warning }
            | Event::WarningTaskForce { warning }
            | Event::WarningLifted { warning }
            | Event::WarningUpdated { warning } => self.db.upsert_warning(warning)?,
            Event::UnitStatus { unit } => self.db.upsert_unit(unit)?,
            Event::BriefingChanged { briefing } => self.db.set_briefing(briefing.as_ref())?,
            // The duty room is written whole, after the change.
            Event::Duty { change } => {
                let mut duty = self.state.duty.clone();
                domain::duty::apply(&mut duty, change);
                self.db.set_duty(&duty)?;
            }
        }
        self.remember(event);
        Ok(())
    }

    /// Apply an event to memory and the figures (after it was written, here or by the
    /// cluster's writer).
    fn remember(&mut self, event: &Event) {
        if let Some(t) = event.ticket() {
            self.next_ticket = self.next_ticket.max(t.id + 1);
        }
        if let Some(w) = event.warning() {
            self.next_warning = self.next_warning.max(w.id + 1);
        }
        if let Changed::Ticket { id, before } = domain::apply(&mut self.state, event)
            && let Some(t) = event.ticket()
        {
            self.note_kpis(before.as_deref(), t);
            self.sync_indexes(id);
        }
    }

    /// "sqlite" or "postgresql".
    pub fn backend(&self) -> &'static str {
        self.db.kind()
    }

    /// Deltas after `seq`, oldest first, at most `limit` of them.
    pub fn deltas_after(&self, seq: u64, limit: usize) -> Result<Vec<StoredDelta>, StoreError> {
        self.db.deltas_after(seq, limit)
    }

    /// The audit trail of one ticket (archived ones too), oldest first.
    /// A briefing's audit trail: the trails of its incident's tickets, merged in log
    /// order.
    pub fn briefing_audit(&self, b: &Briefing) -> Result<Vec<AuditEntry>, StoreError> {
        let mut all = vec![];
        for &t in &b.tickets {
            all.extend(self.audit_of(t)?);
        }
        all.sort_by_key(|a| a.seq);
        Ok(all)
    }

    /// A ticket, live or archived.
    pub fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        match self.state.tickets.get(&id) {
            Some(t) => Ok(Some((**t).clone())),
            None => self.db.ticket(id),
        }
    }

    pub fn audit_of(&self, ticket: u64) -> Result<Vec<AuditEntry>, StoreError> {
        self.db.audit_of(ticket)
    }

    /// Apply a batch of requests in one transaction, stamped `ts_us`. On a database error
    /// nothing of the batch is kept, the memory is reloaded from the file, and the error is
    /// returned: the caller answers every request of the batch with it.
    pub fn apply_batch(
        &mut self,
        requests: Vec<Request>,
        ts_us: i64,
    ) -> Result<Vec<Applied>, StoreError> {
        self.in_one_transaction(requests, |s, req| s.apply_one(req, ts_us))
    }

    /// Apply `each` to every item in one transaction: all of it is kept, or (on a
    /// database error) none of it, with the memory reloaded from the file.
    fn in_one_transaction<I, T>(
        &mut self,
        items: Vec<I>,
        mut each: impl FnMut(&mut Self, I) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.db.begin()?;
        let mut out = Vec::with_capacity(items.len());
        let seq_before = self.seq;
        for item in items {
            match each(self, item) {
                Ok(t) => out.push(t),
                Err(e) => return Err(self.abort(e, seq_before)),
            }
        }
        let t = std::time::Instant::now();
        if let Err(e) = self.db.commit() {
            return Err(self.abort(e, seq_before));
        }
        self.last_commit_seconds = t.elapsed().as_secs_f64();
        Ok(out)
    }

    fn abort(&mut self, e: StoreError, seq_before: u64) -> StoreError {
        tracing::error!("store: batch rolled back: {e}");
        self.db.rollback();
        if let Err(reload) = self.reload() {
            tracing::error!("store: reload after rollback failed: {reload}");
            self.seq = seq_before;
        }
        e
    }

    /// Forget the idempotency keys older than the policy keeps them (memory and file);
    /// returns how many. The gateway calls it as time goes on, so memory stays bounded.
    pub fn expire_keys(&mut self, now_ms: i64) -> Result<usize, StoreError> {
        let before = now_ms - self.policy.key_ttl_ms;
        let mut n = 0;
        while let Some((at, _)) = self.idem_order.front()
            && *at < before
        {
            if let Some((_, k)) = self.idem_order.pop_front() {
                self.idem.remove(&k);
                n += 1;
            }
        }
        if n > 0 {
            self.db.expire_idem(before)?;
        }
        Ok(n)
    }

    /// Every account (revoked ones too).
    pub fn accounts(&self) -> Result<Vec<accounts::Account>, StoreError> {
        self.db.accounts()
    }

    /// Whether another program changed the file since the last call (`yiping account`
    /// adding, rotating or revoking): the accounts are then read again.
    pub fn changed_outside(&mut self) -> Result<bool, StoreError> {
        let v = self.db.accounts_version()?;
        let changed = v != self.accounts_version;
        self.accounts_version = v;
        Ok(changed)
    }

    /// Append to the access log (one transaction).
    pub fn log_access(&mut self, entries: &[accounts::AccessEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.db.begin()?;
        match self.db.log_access(entries) {
            Ok(()) => self.db.commit(),
            Err(e) => {
                self.db.rollback();
                Err(e)
            }
        }
    }

    /// Keep the access log within `days` and `rows`: removes at most `chunk` of its
    /// oldest lines a call (a range of the key, never a scan of the table), so the core's
    /// turn stays short; called each minute, it catches up with any backlog. Returns the
    /// lines removed.
    pub fn trim_access(
        &mut self,
        now_ms: i64,
        days: u32,
        rows: u64,
        chunk: u64,
    ) -> Result<u64, StoreError> {
        let (lo, hi) = self.db.access_ends()?;
        if hi == 0 {
            return Ok(0);
        }
        let before_ms = now_ms - i64::from(days) * 86_400_000;
        let cap_below = hi.saturating_sub(rows as i64) + 1;
        self.db
            .trim_access(lo.saturating_add(chunk as i64), before_ms, cap_below)
    }

    /// How long the last transaction's COMMIT took, in seconds.
    pub fn last_commit_seconds(&self) -> f64 {
        self.last_commit_seconds
    }

    /// The first outcome of a credential's key, while it is remembered (`key_ttl_ms`).
    pub fn key_outcome(&self, credential: &str, key: &str) -> Option<&CommandOutcome> {
        self.idem.get(&(credential.to_string(), key.to_string()))
    }

    /// Idempotency keys remembered now.
    pub fn keys_held(&self) -> usize {
        self.idem.len()
    }

    fn apply_one(&mut self, req: Request, ts_us: i64) -> Result<Applied, StoreError> {
        let scoped = (req.credential.clone(), req.key.clone());
        if let Some(first) = self.idem.get(&scoped) {
            return Ok(Applied {
                key: req.key,
                outcome: first.clone(),
                delta: None,
            });
        }
        let now_ms = ts_us / 1000;
        let change = match self.decide(&req, now_ms) {
            Ok(c) => c,
            Err(r) => {
                return Ok(Applied {
                    key: req.key,
                    outcome: CommandOutcome::Refused {
                        code: r.code,
                        message: r.message,
                    },
                    delta: None,
                });
            }
        };
        let seq = self.seq + 1;
        let (event, id) = self.persist(change, seq, now_ms, &req)?;
        let frame = self.log_event(seq, ts_us, &event)?;
        let outcome = CommandOutcome::Ok { seq, id };
        self.db
            .insert_idem(&req.credential, &req.key, now_ms, &outcome)?;
        self.seq = seq;
        self.idem.insert(scoped.clone(), outcome.clone());
        self.idem_order.push_back((now_ms, scoped));
        Ok(Applied {
            key: req.key,
            outcome,
            delta: Some(Delta { seq, event, frame }),
        })
    }

    /// Write an event to the log as the delta frame that is sent (serialized once).
    fn log_event(&self, seq: u64, ts_us: i64, event: &Event) -> Result<String, StoreError> {
        let frame = serde_json::to_string(&ServerMsg::Delta {
            epoch: self.epoch.clone(),
            seq,
            ts_us,
            event: event.clone(),
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.db.insert_event(seq, ts_us, &frame)?;
        Ok(frame)
    }

    /// Check a request against the live state (`domain::decide`); nothing is written here.
    fn decide(&self, req: &Request, now_ms: i64) -> Result<Decision, Refusal> {
        let trail = |b: &Briefing| self.briefing_audit(b).map_err(|e| e.to_string());
        let decider = Decider {
            state: &self.state,
            bounds: &self.policy.bounds,
            trail: &trail,
        };
        let ask = Ask {
            actor: &req.actor,
            access: &req.access,
            key: &req.key,
            command: &req.command,
            field: req.field.as_ref(),
        };
        decider.decide(&ask, now_ms)
    }

    /// Turn a decided change into its event and write it; returns the event and any new
    /// id.
    fn persist(
        &mut self,
        change: Decision,
        seq: u64,
        now_ms: i64,
        req: &Request,
    ) -> Result<(Event, Option<u64>), StoreError> {
        let next = NextIds {
            ticket: self.next_ticket,
            warning: self.next_warning,
        };
        let (mut event, id) = change.event(next, seq, now_ms, &req.actor, self.policy.sla_minutes);
        if let Some(f) = &req.field {
            domain::field::attach(&mut event, f);
        }
        self.write_event(&event)?;
        Ok((event, id))
    }
}

#[cfg(test)]
mod tests;
