//! PostgreSQL, the record of a cluster: the same tables as the SQLite file, with a
//! session advisory lock as the writer's lease.
//!
//! The lease lives and dies with the connection: a node that holds it writes through the
//! same connection, so a writer whose process is killed loses it the moment PostgreSQL
//! sees the socket close, and a writer cut off from PostgreSQL can write nothing more.
//! `synchronous_commit` stays on: COMMIT returns once the WAL is flushed, which is what
//! the gateway acknowledges.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use postgres::{Client, Statement};

use super::StoreError;
use super::accounts::{AccessEntry, Account};
use super::backend::{Backend, Loaded, StoredDelta, TicketsLater, decode, encode, snake};
use super::sql::{self, Dialect};
use domain::access::Role;
use protocol::{AuditEntry, Briefing, CommandOutcome, Ticket, Unit, Warning};

/// Advisory lock keys: one serialises schema creation (several nodes start at once), one is
/// the writer's lease.
const SCHEMA_LOCK: i64 = 0x5950_0001;
const LEASE_LOCK: i64 = 0x5950_0002;

pub struct Pg {
    /// Where it connected, for reads on connections of their own (`tickets_later`).
    url: String,
    /// Always `Some` but in `drop`, which closes the connection from where it may block.
    client: RefCell<Option<Client>>,
    statements: RefCell<HashMap<&'static str, Statement>>,
    leading: Cell<bool>,
    /// Inside a transaction: its writes, sent at COMMIT as one statement per table.
    pending: RefCell<Option<Pending>>,
}

/// Run a blocking PostgreSQL call from wherever the store is: inside the gateway's
/// multi-threaded runtime the worker thread is handed over for the call (the blocking
/// client runs its own small runtime); outside any runtime it just runs.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The client is taken only when the store is dropped: no statement runs after that.
fn closed() -> StoreError {
    StoreError::Pg("the PostgreSQL connection is closed (the store is being dropped)".into())
}

fn pg(e: postgres::Error) -> StoreError {
    // postgres::Error's Display says only "db error": the server's own words are inside.
    match e.as_db_error() {
        Some(d) => StoreError::Pg(format!("{} ({})", d.message(), d.code().code())),
        None => StoreError::Pg(e.to_string()),
    }
}

mod batch;
mod tls;
use batch::Pending;
use tls::redact;

impl Pg {
    /// Connect (a `postgresql://` URL or `host=… port=… user=… dbname=…`), create the tables
    /// and the log's epoch if this is a new database.
    pub fn connect(url: &str) -> Result<Pg, StoreError> {
        let mut client = blocking(|| tls::connect(url))
            .map_err(|e| StoreError::Pg(format!("cannot connect to {}: {e}", redact(url))))?;
        let mut found = 0;
        let refused = blocking(|| -> Result<Result<(), String>, postgres::Error> {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            // Only a database behind this build's version gets DDL: CREATE INDEX IF NOT
            // EXISTS locks its table even when the index is there, and a node joining a
            // running cluster then deadlocked with the writer's batch (seen: 40P01 on a
            // restart under load).
            let has_meta: bool = tx
                .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])?
                .get(0);
            let recorded: Option<String> = if has_meta {
                tx.query_opt(sql::SCHEMA_VERSION, &[])?.map(|r| r.get(0))
            } else {
                None
            };
            found = match recorded.map(|v| v.parse::<u32>()) {
                None => 0,
                Some(Ok(v)) => v,
                Some(Err(_)) => return Ok(Err("schema_version is not a number".to_string())),
            };
            if found > sql::latest() {
                return Ok(Err(sql::too_new(found)));
            }
            for m in sql::MIGRATIONS.iter().filter(|m| m.version > found) {
                tx.batch_execute(&Dialect::Postgres.schema(m.ddl))?;
                tx.execute(sql::SET_SCHEMA_VERSION, &[&m.version.to_string()])?;
            }
            // The epoch names this log (and the JetStream stream that carries it): fixed
            // when the database is created.
            let epoch = format!("{:016x}", rand::random::<u64>());
            tx.execute(sql::NEW_EPOCH, &[&epoch])?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .map_err(pg)?;
        refused.map_err(|why| StoreError::Schema(format!("{}: {why}", redact(url))))?;
        if found < sql::latest() {
            tracing::info!(
                "store: PostgreSQL schema version {found} → {}",
                sql::latest()
            );
        }
        Ok(Pg {
            url: url.to_string(),
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            leading: Cell::new(false),
            pending: RefCell::new(None),
        })
    }

    /// Run `f` with the client and a prepared (cached) statement for `sql`.
    fn with<T>(
        &self,
        sql: &'static str,
        f: impl FnOnce(&mut Client, &Statement) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut c = self.client.borrow_mut();
        let c = c.as_mut().ok_or_else(closed)?;
        blocking(|| {
            let mut cache = self.statements.borrow_mut();
            let st = match cache.get(sql) {
                Some(st) => st.clone(),
                None => {
                    let st = c.prepare(sql)?;
                    cache.insert(sql, st.clone());
                    st
                }
            };
            f(c, &st)
        })
        .map_err(pg)
    }

    fn execute(
        &self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        self.with(sql, |c, st| c.execute(st, params))
    }

    fn rows(
        &self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        self.with(sql, |c, st| c.query(st, params))
    }

    fn texts(&self, sql: &'static str, what: &str) -> Result<Vec<String>, StoreError> {
        let rows = self.rows(sql, &[])?;
        rows.iter()
            .map(|r| {
                r.try_get::<_, String>(0)
                    .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
            })
            .collect()
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        let mut c = self.client.borrow_mut();
        let c = c.as_mut().ok_or_else(closed)?;
        blocking(|| c.batch_execute(sql)).map_err(pg)
    }
}

/// A connection string without its password, for messages.
fn stored_delta(r: &postgres::Row) -> StoredDelta {
    StoredDelta {
        seq: r.get::<_, i64>(0) as u64,
        ts_us: r.get(1),
        frame: r.get(2),
    }
}

impl Backend for Pg {
    fn kind(&self) -> &'static str {
        "postgresql"
    }

    fn load(&self) -> Result<Loaded, StoreError> {
        let one = |sql: &'static str| -> Result<i64, StoreError> {
            Ok(self
                .rows(sql, &[])?
                .first()
                .map(|r| r.get::<_, i64>(0))
                .unwrap_or(0))
        };
        let epoch = self
            .texts(sql::EPOCH, "epoch")?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("no epoch in meta".into()))?;
        let seq = one(sql::LAST_SEQ)?;
        let max_ticket = one(sql::MAX_TICKET)?;
        let max_warning = one(sql::MAX_WARNING)?;
        let warnings = self
            .texts(sql::LIVE_WARNINGS, "warning")?
            .iter()
            .map(|j| decode("warning", j))
            .collect::<Result<_, _>>()?;
        let units = self
            .texts(sql::UNITS, "unit")?
            .iter()
            .map(|j| decode("unit", j))
            .collect::<Result<_, _>>()?;
        let idem = self
            .rows(sql::KEYS, &[])?
            .iter()
            .map(|r| {
                let outcome: String = r.get(3);
                Ok((
                    (r.get(0), r.get(1)),
                    r.get(2),
                    decode("idempotency outcome", &outcome)?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Loaded {
            epoch,
            seq: seq as u64,
            max_ticket: max_ticket as u64,
            max_warning: max_warning as u64,
            warnings,
            units,
            idem,
        })
    }

    fn all_tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        self.texts(sql::ALL_TICKETS, "ticket")?
            .iter()
            .map(|j| decode("ticket", j))
            .collect()
    }

    /// A connection of its own, made where the read runs; REPEATABLE READ takes one
    /// snapshot of the database at the transaction's first query, so the seq and the
    /// tickets agree. On a follower that snapshot may be ahead of what the node has
    /// applied: the seq says how far (`Store::scope_built`).
    fn tickets_later(&self) -> Result<Option<TicketsLater>, StoreError> {
        let url = self.url.clone();
        Ok(Some(Box::new(move || {
            let mut client = tls::connect(&url)
                .map_err(|e| StoreError::Pg(format!("cannot connect to {}: {e}", redact(&url))))?;
            let mut tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(pg)?;
            let seq: i64 = tx.query_one(sql::LAST_SEQ, &[]).map_err(pg)?.get(0);
            let all = tx
                .query(sql::ALL_TICKETS, &[])
                .map_err(pg)?
                .iter()
                .map(|r| decode("ticket", r.get::<_, &str>(0)))
                .collect::<Result<Vec<Ticket>, _>>()?;
            tx.commit().map_err(pg)?;
            Ok((seq as u64, all))
        })))
    }

    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        let rows = self.rows(sql::TICKET, &[&(id as i64)])?;
        rows.first()
            .map(|r| decode("ticket", &r.get::<_, String>(0)))
            .transpose()
    }

    fn duty(&self) -> Result<Option<protocol::Duty>, StoreError> {
        self.texts(sql::DUTY, "duty")?
            .first()
            .map(|j| decode("duty", j))
            .transpose()
    }

    fn briefing(&self) -> Result<Option<Briefing>, StoreError> {
        self.texts(sql::BRIEFING, "briefing")?
            .first()
            .map(|j| decode("briefing", j))
            .transpose()
    }

    fn deltas_after(&self, seq: u64, limit: usize) -> Result<Vec<StoredDelta>, StoreError> {
        let rows = self.rows(
            sql::DELTAS_AFTER,
            &[&(seq as i64), &(limit.min(i64::MAX as usize) as i64)],
        )?;
        Ok(rows.iter().map(stored_delta).collect())
    }

    fn audit_of(&self, ticket: u64) -> Result<Vec<AuditEntry>, StoreError> {
        self.rows(sql::AUDIT_OF, &[&(ticket as i64)])?
            .iter()
            .map(|r| decode("audit entry", &r.get::<_, String>(0)))
            .collect()
    }

    fn begin(&self) -> Result<(), StoreError> {
        self.batch("BEGIN")?;
        *self.pending.borrow_mut() = Some(Pending::default());
        Ok(())
    }
    fn commit(&self) -> Result<(), StoreError> {
        let pending = self.pending.borrow_mut().take().unwrap_or_default();
        if let Err(e) = self.flush(pending) {
            self.rollback();
            return Err(e);
        }
        self.batch("COMMIT")
    }
    fn rollback(&self) {
        self.pending.borrow_mut().take();
        if let Err(e) = self.batch("ROLLBACK") {
            tracing::warn!("store: rollback: {e}");
        }
    }

    fn insert_event(&self, seq: u64, ts_us: i64, frame: &str) -> Result<(), StoreError> {
        if self.buffer(|p| {
            p.events.0.push(seq as i64);
            p.events.1.push(ts_us);
            p.events.2.push(frame.to_string());
        }) {
            return Ok(());
        }
        self.execute(sql::INSERT_EVENT, &[&(seq as i64), &ts_us, &frame])?;
        Ok(())
    }
    fn upsert_ticket(&self, t: &Ticket) -> Result<(), StoreError> {
        let row = (snake(&t.status)?, encode(t)?);
        if self.buffer(|p| {
            p.tickets.insert(t.id as i64, row.clone());
        }) {
            return Ok(());
        }
        self.execute(sql::UPSERT_TICKET, &[&(t.id as i64), &row.0, &row.1])?;
        Ok(())
    }
    fn insert_audit(&self, ticket: u64, a: &AuditEntry) -> Result<(), StoreError> {
        let json = encode(a)?;
        if self.buffer(|p| {
            p.audit.0.push(a.seq as i64);
            p.audit.1.push(ticket as i64);
            p.audit.2.push(json.clone());
        }) {
            return Ok(());
        }
        self.execute(
            sql::INSERT_AUDIT,
            &[&(a.seq as i64), &(ticket as i64), &json],
        )?;
        Ok(())
    }
    fn upsert_warning(&self, w: &Warning) -> Result<(), StoreError> {
        let row = (snake(&w.status)?, encode(w)?);
        if self.buffer(|p| {
            p.warnings.insert(w.id as i64, row.clone());
        }) {
            return Ok(());
        }
        self.execute(sql::UPSERT_WARNING, &[&(w.id as i64), &row.0, &row.1])?;
        Ok(())
    }
    fn upsert_unit(&self, u: &Unit) -> Result<(), StoreError> {
        let json = encode(u)?;
        if self.buffer(|p| {
            p.units.insert(u.id.clone(), json.clone());
        }) {
            return Ok(());
        }
        self.execute(sql::UPSERT_UNIT, &[&u.id, &json])?;
        Ok(())
    }
    fn set_duty(&self, d: &protocol::Duty) -> Result<(), StoreError> {
        let json = encode(d)?;
        if self.buffer(|p| p.duty = Some(json.clone())) {
            return Ok(());
        }
        self.execute(sql::SET_DUTY, &[&json])?;
        Ok(())
    }
    fn set_briefing(&self, b: Option<&Briefing>) -> Result<(), StoreError> {
        let json = b.map(encode).transpose()?;
        if self.buffer(|p| p.briefing = Some(json.clone())) {
            return Ok(());
        }
        match json {
            Some(j) => self.execute(sql::SET_BRIEFING, &[&j])?,
            None => self.execute(sql::CLEAR_BRIEFING, &[])?,
        };
        Ok(())
    }
    fn insert_idem(
        &self,
        credential: &str,
        key: &str,
        at_ms: i64,
        outcome: &CommandOutcome,
    ) -> Result<(), StoreError> {
        let o = encode(outcome)?;
        if self.buffer(|p| {
            p.idem.0.push(credential.to_string());
            p.idem.1.push(key.to_string());
            p.idem.2.push(at_ms);
            p.idem.3.push(o.clone());
        }) {
            return Ok(());
        }
        self.execute(sql::INSERT_KEY, &[&credential, &key, &at_ms, &o])?;
        Ok(())
    }
    fn expire_idem(&self, before_ms: i64) -> Result<usize, StoreError> {
        Ok(self.execute(sql::EXPIRE_KEYS, &[&before_ms])? as usize)
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.rows(sql::ACCOUNTS, &[])?
            .iter()
            .map(|r| {
                let role: String = r.get(2);
                let id: String = r.get(0);
                Ok(Account {
                    role: Role::parse(&role)
                        .ok_or_else(|| StoreError::Corrupt(format!("account {id}: role {role}")))?,
                    id,
                    name: r.get(1),
                    region: r.get(3),
                    unit: r.get(4),
                    token_hash: r.get(5),
                    created_ms: r.get(6),
                    revoked_ms: r.get(7),
                })
            })
            .collect()
    }
    fn insert_account(&self, a: &Account) -> Result<(), StoreError> {
        self.execute(
            sql::INSERT_ACCOUNT,
            &[
                &a.id,
                &a.name,
                &a.role.as_str(),
                &a.region,
                &a.unit,
                &a.token_hash,
                &a.created_ms,
                &a.revoked_ms,
            ],
        )?;
        Ok(())
    }
    fn set_token_hash(&self, id: &str, hash: &str) -> Result<bool, StoreError> {
        Ok(self.execute(sql::SET_TOKEN_HASH, &[&hash, &id])? == 1)
    }
    fn revoke_account(&self, id: &str, at_ms: i64) -> Result<bool, StoreError> {
        Ok(self.execute(sql::REVOKE, &[&at_ms, &id])? == 1)
    }
    fn log_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        for e in entries {
            self.execute(
                sql::LOG_ACCESS,
                &[&e.at_ms, &e.account, &e.event, &e.detail],
            )?;
        }
        Ok(())
    }
    fn access_ends(&self) -> Result<(i64, i64), StoreError> {
        let rows = self.rows(sql::ACCESS_ENDS, &[])?;
        let r = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("access log ends: no row".into()))?;
        let end = |i: usize| {
            r.try_get::<_, i64>(i)
                .map_err(|e| StoreError::Corrupt(format!("access log ends: {e}")))
        };
        Ok((end(0)?, end(1)?))
    }
    fn trim_access(&self, below: i64, before_ms: i64, cap_below: i64) -> Result<u64, StoreError> {
        self.execute(sql::TRIM_ACCESS, &[&below, &before_ms, &cap_below])
    }
    fn recent_access(&self, limit: usize) -> Result<Vec<AccessEntry>, StoreError> {
        let mut v: Vec<AccessEntry> = self
            .rows(sql::RECENT_ACCESS, &[&(limit as i64)])?
            .iter()
            .map(|r| AccessEntry {
                at_ms: r.get(0),
                account: r.get(1),
                event: r.get(2),
                detail: r.get(3),
            })
            .collect();
        v.reverse();
        Ok(v)
    }
    fn accounts_version(&self) -> Result<String, StoreError> {
        // A digest of what the directory depends on: any add, rotation or revocation by
        // any node or `yiping account` changes it.
        Ok(self
            .texts(
                "SELECT COALESCE(md5(string_agg(id || ':' || token_hash || ':' ||
                     COALESCE(revoked_ms::TEXT, '-'), ',' ORDER BY id)), '') FROM accounts",
                "accounts digest",
            )?
            .pop()
            .unwrap_or_default())
    }

    fn set_epoch(&self, epoch: &str) -> Result<(), StoreError> {
        self.execute(sql::SET_EPOCH, &[&epoch])?;
        Ok(())
    }

    fn set_seq_base(&self, _seq: u64) -> Result<(), StoreError> {
        Err(StoreError::Pg(
            "a history is imported into a single node's SQLite file, not a cluster's record".into(),
        ))
    }

    fn try_lead(&self) -> Result<bool, StoreError> {
        if self.leading.get() {
            // The lease lives with this connection: check that it still does.
            self.rows("SELECT 1", &[])?;
            return Ok(true);
        }
        let got: bool = self
            .rows("SELECT pg_try_advisory_lock($1)", &[&LEASE_LOCK])?
            .first()
            .map(|r| r.get(0))
            .unwrap_or(false);
        self.leading.set(got);
        Ok(got)
    }

    fn is_alive(&self) -> bool {
        self.client
            .borrow()
            .as_ref()
            .is_some_and(|c| !c.is_closed())
    }
}

impl Drop for Pg {
    /// The blocking client's drop says goodbye to the server on its own runtime: inside the
    /// gateway's runtime that must happen where blocking is allowed (a node that reconnects
    /// drops its old connection from the core task).
    fn drop(&mut self) {
        if let Some(c) = self.client.get_mut().take() {
            blocking(move || drop(c));
        }
    }
}
