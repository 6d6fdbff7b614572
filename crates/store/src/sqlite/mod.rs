//! SQLite persistence: the schema, and the statements the store runs. Records are kept as
//! JSON next to the columns that are queried, so the schema does not chase the protocol.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::accounts::{AccessEntry, Account};

mod accounts;
use super::backend::{Backend, Loaded, StoredDelta, TicketsLater, decode, encode, snake};
use super::checkpoint::{self, Checkpointer};
use super::sql::{self, Dialect};
use protocol::{AuditEntry, Briefing, CommandOutcome, Ticket, Unit, Warning};

/// A first-wave database kept idempotency keys for every client together (`idem`), before
/// the schema had versions: its keys move to `idempotency` under no credential (nobody's,
/// so none matches again) and expire with the rest, as part of its upgrade to version 1.
const FOLD_FIRST_WAVE_KEYS: &str = "
INSERT OR IGNORE INTO idempotency (credential, key, at_ms, outcome)
    SELECT '', key, CAST(strftime('%s','now') AS INTEGER) * 1000, outcome FROM idem;
DROP TABLE idem;
";

/// A row of `SELECT seq, ts_us, frame FROM events`.
pub(crate) fn stored_delta(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredDelta> {
    Ok(StoredDelta {
        seq: r.get::<_, i64>(0)? as u64,
        ts_us: r.get(1)?,
        frame: r.get(2)?,
    })
}

/// Every ticket row of `conn`'s database, decoded.
fn every_ticket(conn: &Connection) -> Result<Vec<Ticket>, StoreError> {
    let mut st = conn.prepare(sql::ALL_TICKETS)?;
    let rows = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    rows.iter().map(|j| decode("ticket", j)).collect()
}

pub struct Sqlite {
    conn: Connection,
    path: std::path::PathBuf,
    /// Declared after `conn`: the writer closes first, then the checkpoints stop.
    _checkpoints: Option<Checkpointer>,
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        // WAL for concurrent readers; FULL so that a commit survives power loss, since a
        // commit is what the gateway acknowledges.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        migrate(&conn).map_err(|e| match e {
            StoreError::Sql(source) => open_err(source),
            e => e,
        })?;
        let epoch: Option<String> = conn.query_row(sql::EPOCH, [], |r| r.get(0)).optional()?;
        if epoch.is_none() {
            // The epoch names this log: fixed when the file is created, so a client that
            // resumes with a number from another file gets a fresh snapshot.
            let epoch = format!("{:016x}", rand::random::<u64>());
            conn.execute(sql::NEW_EPOCH, [epoch])?;
        }
        let checkpoints = Checkpointer::start(path);
        if checkpoints.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP)?;
        }
        Ok(Sqlite {
            conn,
            path: path.to_path_buf(),
            _checkpoints: checkpoints,
        })
    }
}

impl Backend for Sqlite {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    /// One ticket as last written, archived or not.
    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        let json: Option<String> = self
            .conn
            .prepare_cached(sql::TICKET)?
            .query_row([id as i64], |r| r.get(0))
            .optional()?;
        json.map(|j| decode("ticket", &j)).transpose()
    }

    /// Every ticket ever taken in, archived ones included: what the figures sum over.
    fn all_tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        every_ticket(&self.conn)
    }

    /// A read-only connection of its own, opened where the read runs: WAL lets it read
    /// while the writer writes, and its one transaction sees a single commit's state.
    fn tickets_later(&self) -> Result<Option<TicketsLater>, StoreError> {
        let path = self.path.clone();
        Ok(Some(Box::new(move || {
            let conn =
                Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            conn.execute_batch("BEGIN")?;
            let seq: i64 = conn.query_row(sql::LAST_SEQ, [], |r| r.get(0))?;
            let all = every_ticket(&conn)?;
            conn.execute_batch("COMMIT")?;
            Ok((seq as u64, all))
        })))
    }

    fn load(&self) -> Result<Loaded, StoreError> {
        let c = &self.conn;
        let one = |statement: &str| c.query_row(statement, [], |r| r.get::<_, i64>(0));
        let epoch: String = c.query_row(sql::EPOCH, [], |r| r.get(0))?;
        let seq = one(sql::LAST_SEQ)?;
        let max_ticket = one(sql::MAX_TICKET)?;
        let max_warning = one(sql::MAX_WARNING)?;
        let rows = |sql: &str| -> Result<Vec<String>, StoreError> {
            let mut st = c.prepare(sql)?;
            let v = st
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(v)
        };
        let warnings = rows(sql::LIVE_WARNINGS)?
            .iter()
            .map(|j| decode("warning", j))
            .collect::<Result<_, _>>()?;
        let units = rows(sql::UNITS)?
            .iter()
            .map(|j| decode("unit", j))
            .collect::<Result<_, _>>()?;
        let mut idem = Vec::new();
        let mut st = c.prepare(sql::KEYS)?;
        let mut q = st.query([])?;
        while let Some(r) = q.next()? {
            let outcome: String = r.get(3)?;
            idem.push((
                (r.get(0)?, r.get(1)?),
                r.get(2)?,
                decode("idempotency outcome", &outcome)?,
            ));
        }
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

    fn begin(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }
    fn commit(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }
    fn rollback(&self) {
        if let Err(e) = self.conn.execute_batch("ROLLBACK") {
            tracing::warn!("store: rollback: {e}");
        }
    }

    /// The running briefing (JSON), or none.
    fn set_briefing(&self, b: Option<&Briefing>) -> Result<(), StoreError> {
        match b {
            Some(b) => {
                let json =
                    serde_json::to_string(b).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                self.conn
                    .prepare_cached(sql::SET_BRIEFING)?
                    .execute([json])?;
            }
            None => {
                self.conn.prepare_cached(sql::CLEAR_BRIEFING)?.execute([])?;
            }
        }
        Ok(())
    }

    fn set_duty(&self, d: &protocol::Duty) -> Result<(), StoreError> {
        let json = serde_json::to_string(d).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn.prepare_cached(sql::SET_DUTY)?.execute([json])?;
        Ok(())
    }

    fn duty(&self) -> Result<Option<protocol::Duty>, StoreError> {
        let v: Option<String> = self
            .conn
            .query_row(sql::DUTY, [], |r| r.get(0))
            .optional()?;
        v.map(|j| decode("duty", &j)).transpose()
    }

    fn briefing(&self) -> Result<Option<Briefing>, StoreError> {
        let v: Option<String> = self
            .conn
            .query_row(sql::BRIEFING, [], |r| r.get(0))
            .optional()?;
        v.map(|j| decode("briefing", &j)).transpose()
    }

    fn insert_event(&self, seq: u64, ts_us: i64, frame: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql::INSERT_EVENT)?
            .execute(params![seq as i64, ts_us, frame])?;
        Ok(())
    }
    fn insert_idem(
        &self,
        credential: &str,
        key: &str,
        at_ms: i64,
        outcome: &CommandOutcome,
    ) -> Result<(), StoreError> {
        self.conn.prepare_cached(sql::INSERT_KEY)?.execute(params![
            credential,
            key,
            at_ms,
            encode(outcome)?
        ])?;
        Ok(())
    }

    /// Forget the keys used before `before_ms`; returns how many.
    fn expire_idem(&self, before_ms: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql::EXPIRE_KEYS)?
            .execute([before_ms])?)
    }
    fn upsert_ticket(&self, t: &Ticket) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql::UPSERT_TICKET)?
            .execute(params![t.id as i64, snake(&t.status)?, encode(t)?])?;
        Ok(())
    }
    fn insert_audit(&self, ticket: u64, a: &AuditEntry) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql::INSERT_AUDIT)?
            .execute(params![a.seq as i64, ticket as i64, encode(a)?])?;
        Ok(())
    }
    fn upsert_warning(&self, w: &Warning) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql::UPSERT_WARNING)?
            .execute(params![w.id as i64, snake(&w.status)?, encode(w)?])?;
        Ok(())
    }
    fn upsert_unit(&self, u: &Unit) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql::UPSERT_UNIT)?
            .execute(params![u.id, encode(u)?])?;
        Ok(())
    }

    fn deltas_after(&self, seq: u64, limit: usize) -> Result<Vec<StoredDelta>, StoreError> {
        let mut st = self.conn.prepare_cached(sql::DELTAS_AFTER)?;
        let v = st
            .query_map(params![seq as i64, limit as i64], stored_delta)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    fn audit_of(&self, ticket: u64) -> Result<Vec<AuditEntry>, StoreError> {
        let mut st = self.conn.prepare_cached(sql::AUDIT_OF)?;
        let rows = st
            .query_map([ticket as i64], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter().map(|j| decode("audit entry", j)).collect()
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        accounts::all(&self.conn)
    }
    fn insert_account(&self, a: &Account) -> Result<(), StoreError> {
        accounts::insert(&self.conn, a)
    }
    fn set_token_hash(&self, id: &str, hash: &str) -> Result<bool, StoreError> {
        accounts::set_hash(&self.conn, id, hash)
    }
    fn revoke_account(&self, id: &str, at_ms: i64) -> Result<bool, StoreError> {
        accounts::revoke(&self.conn, id, at_ms)
    }
    fn log_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        accounts::log(&self.conn, entries)
    }
    fn recent_access(&self, limit: usize) -> Result<Vec<AccessEntry>, StoreError> {
        accounts::recent_log(&self.conn, limit)
    }
    fn access_ends(&self) -> Result<(i64, i64), StoreError> {
        Ok(self
            .conn
            .query_row(sql::ACCESS_ENDS, [], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }
    fn trim_access(&self, below: i64, before_ms: i64, cap_below: i64) -> Result<u64, StoreError> {
        Ok(self.conn.execute(
            sql::TRIM_ACCESS,
            rusqlite::params![below, before_ms, cap_below],
        )? as u64)
    }
    fn accounts_version(&self) -> Result<String, StoreError> {
        Ok(accounts::data_version(&self.conn)?.to_string())
    }
    fn set_epoch(&self, epoch: &str) -> Result<(), StoreError> {
        self.conn.execute(sql::SET_EPOCH, [epoch])?;
        Ok(())
    }
    fn bulk_import(&self, starting: bool) -> Result<(), StoreError> {
        // 550,000 audit rows in ticket order one by one took 1.9 s here; the index built
        // at the end, 0.3 s.
        self.conn.execute_batch(if starting {
            "DROP INDEX IF EXISTS audit_ticket;"
        } else {
            "CREATE INDEX IF NOT EXISTS audit_ticket ON audit(ticket, seq);"
        })?;
        Ok(())
    }
    fn set_seq_base(&self, seq: u64) -> Result<(), StoreError> {
        self.conn.execute(sql::SET_SEQ_BASE, [seq.to_string()])?;
        Ok(())
    }
}

/// Bring the file's schema to this build's version (`sql::MIGRATIONS`): each step after
/// the one it records, in the transaction that records it. A file made before versions
/// (the first waves) records none and takes every step; its first-wave keys are folded in
/// on the way to version 1. A file from a newer build is refused, untouched.
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let has = |table: &str| -> rusqlite::Result<bool> {
        conn.query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
    };
    let found: u32 = if has("meta")? {
        conn.query_row(sql::SCHEMA_VERSION, [], |r| r.get::<_, String>(0))
            .optional()?
            .map(|v| {
                v.parse()
                    .map_err(|_| StoreError::Schema(format!("schema_version {v:?}")))
            })
            .transpose()?
            .unwrap_or(0)
    } else {
        0
    };
    if found > sql::latest() {
        return Err(StoreError::Schema(sql::too_new(found)));
    }
    for m in sql::MIGRATIONS.iter().filter(|m| m.version > found) {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let step = || -> Result<(), StoreError> {
            conn.execute_batch(&Dialect::Sqlite.schema(m.ddl))?;
            if m.version == 1 && has("idem")? {
                conn.execute_batch(FOLD_FIRST_WAVE_KEYS)?;
            }
            conn.execute(sql::SET_SCHEMA_VERSION, [m.version.to_string()])?;
            Ok(())
        };
        match step() {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        tracing::info!("store: schema version {} ({})", m.version, m.what);
    }
    Ok(())
}
