//! SQLite persistence: the schema, and the statements the store runs. Records are kept as
//! JSON next to the columns that are queried, so the schema does not chase the protocol.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::accounts::{self, AccessEntry, Account};
use super::backend::{Backend, Loaded, StoredDelta, TicketsLater, decode, encode, snake};
use super::checkpoint::{self, Checkpointer};
use protocol::{AuditEntry, Briefing, CommandOutcome, Ticket, Unit, Warning};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, ts_us INTEGER NOT NULL, frame TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, status TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, ticket INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_ticket ON audit(ticket, seq);
CREATE TABLE IF NOT EXISTS warnings (id INTEGER PRIMARY KEY, status TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (credential TEXT NOT NULL, key TEXT NOT NULL,
    at_ms INTEGER NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (credential, key));
CREATE INDEX IF NOT EXISTS idempotency_at ON idempotency(at_ms);
";

/// A first-wave database kept idempotency keys for every client together (`idem`): its
/// keys move to the new table under no credential (nobody's, so none matches again) and
/// expire with the rest.
const MIGRATE_IDEM: &str = "
INSERT OR IGNORE INTO idempotency (credential, key, at_ms, outcome)
    SELECT '', key, CAST(strftime('%s','now') AS INTEGER) * 1000, outcome FROM idem;
DROP TABLE idem;
";

/// Every event of a gateway's database, read-only (a running gateway may hold it): what
/// `yiping replay` plays to rewind a gateway's own history.
pub fn read_log(path: &Path) -> Result<Vec<StoredDelta>, StoreError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
    let mut st = conn.prepare("SELECT seq, ts_us, frame FROM events ORDER BY seq")?;
    let v = st
        .query_map([], stored_delta)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(v)
}

/// A row of `SELECT seq, ts_us, frame FROM events`.
fn stored_delta(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredDelta> {
    Ok(StoredDelta {
        seq: r.get::<_, i64>(0)? as u64,
        ts_us: r.get(1)?,
        frame: r.get(2)?,
    })
}

/// The log's last number. An imported history (the demo's past) leaves its last number
/// as the log's base.
const LAST_SEQ: &str = "SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0), \
     COALESCE((SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'seq_base'), 0))";

/// Every ticket row of `conn`'s database, decoded.
fn every_ticket(conn: &Connection) -> Result<Vec<Ticket>, StoreError> {
    let mut st = conn.prepare("SELECT json FROM tickets")?;
    let rows = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    rows.iter().map(|j| decode("ticket", j)).collect()
}

pub struct Db {
    conn: Connection,
    path: std::path::PathBuf,
    /// Declared after `conn`: the writer closes first, then the checkpoints stop.
    _checkpoints: Option<Checkpointer>,
}

impl Db {
    pub fn open(path: &Path) -> Result<Db, StoreError> {
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
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        conn.execute_batch(super::accounts::SCHEMA)
            .map_err(open_err)?;
        let old_idem: bool = conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type='table' AND name='idem'",
                [],
                |r| r.get(0),
            )
            .map_err(open_err)?;
        if old_idem {
            conn.execute_batch(MIGRATE_IDEM).map_err(open_err)?;
        }
        let epoch: Option<String> = conn
            .query_row("SELECT v FROM meta WHERE k='epoch'", [], |r| r.get(0))
            .optional()?;
        if epoch.is_none() {
            // The epoch names this log: fixed when the file is created, so a client that
            // resumes with a number from another file gets a fresh snapshot.
            let epoch = format!("{:016x}", rand::random::<u64>());
            conn.execute("INSERT INTO meta (k, v) VALUES ('epoch', ?1)", [epoch])?;
        }
        let checkpoints = Checkpointer::start(path);
        if checkpoints.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP)?;
        }
        Ok(Db {
            conn,
            path: path.to_path_buf(),
            _checkpoints: checkpoints,
        })
    }
}

impl Backend for Db {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    /// One ticket as last written, archived or not.
    fn ticket(&self, id: u64) -> Result<Option<Ticket>, StoreError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT json FROM tickets WHERE id = ?1")?
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
            let seq: i64 = conn.query_row(LAST_SEQ, [], |r| r.get(0))?;
            let all = every_ticket(&conn)?;
            conn.execute_batch("COMMIT")?;
            Ok((seq as u64, all))
        })))
    }

    fn load(&self) -> Result<Loaded, StoreError> {
        let c = &self.conn;
        let epoch: String = c.query_row("SELECT v FROM meta WHERE k='epoch'", [], |r| r.get(0))?;
        let seq: i64 = c.query_row(LAST_SEQ, [], |r| r.get(0))?;
        let max_ticket: i64 =
            c.query_row("SELECT COALESCE(MAX(id), 0) FROM tickets", [], |r| r.get(0))?;
        let max_warning: i64 =
            c.query_row("SELECT COALESCE(MAX(id), 0) FROM warnings", [], |r| {
                r.get(0)
            })?;
        let rows = |sql: &str| -> Result<Vec<String>, StoreError> {
            let mut st = c.prepare(sql)?;
            let v = st
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(v)
        };
        let warnings = rows("SELECT json FROM warnings WHERE status != 'lifted'")?
            .iter()
            .map(|j| decode("warning", j))
            .collect::<Result<_, _>>()?;
        let units = rows("SELECT json FROM units ORDER BY id")?
            .iter()
            .map(|j| decode("unit", j))
            .collect::<Result<_, _>>()?;
        let mut idem = Vec::new();
        let mut st =
            c.prepare("SELECT credential, key, at_ms, outcome FROM idempotency ORDER BY at_ms")?;
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
                    .prepare_cached("INSERT OR REPLACE INTO meta (k, v) VALUES ('briefing', ?1)")?
                    .execute([json])?;
            }
            None => {
                self.conn
                    .prepare_cached("DELETE FROM meta WHERE k = 'briefing'")?
                    .execute([])?;
            }
        }
        Ok(())
    }

    fn briefing(&self) -> Result<Option<Briefing>, StoreError> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'briefing'", [], |r| r.get(0))
            .optional()?;
        v.map(|j| decode("briefing", &j)).transpose()
    }

    fn insert_event(&self, seq: u64, ts_us: i64, frame: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO events (seq, ts_us, frame) VALUES (?1, ?2, ?3)")?
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
        self.conn
            .prepare_cached(
                "INSERT INTO idempotency (credential, key, at_ms, outcome) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![credential, key, at_ms, encode(outcome)?])?;
        Ok(())
    }

    /// Forget the keys used before `before_ms`; returns how many.
    fn expire_idem(&self, before_ms: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM idempotency WHERE at_ms < ?1")?
            .execute([before_ms])?)
    }
    fn upsert_ticket(&self, t: &Ticket) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO tickets (id, status, json) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![t.id as i64, snake(&t.status)?, encode(t)?])?;
        Ok(())
    }
    fn insert_audit(&self, ticket: u64, a: &AuditEntry) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO audit (seq, ticket, json) VALUES (?1, ?2, ?3)")?
            .execute(params![a.seq as i64, ticket as i64, encode(a)?])?;
        Ok(())
    }
    fn upsert_warning(&self, w: &Warning) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO warnings (id, status, json) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![w.id as i64, snake(&w.status)?, encode(w)?])?;
        Ok(())
    }
    fn upsert_unit(&self, u: &Unit) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO units (id, json) VALUES (?1, ?2)")?
            .execute(params![u.id, encode(u)?])?;
        Ok(())
    }

    fn deltas_after(&self, seq: u64, limit: usize) -> Result<Vec<StoredDelta>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, ts_us, frame FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let v = st
            .query_map(params![seq as i64, limit as i64], stored_delta)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    fn audit_of(&self, ticket: u64) -> Result<Vec<AuditEntry>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT json FROM audit WHERE ticket = ?1 ORDER BY seq")?;
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
    fn accounts_version(&self) -> Result<String, StoreError> {
        Ok(accounts::data_version(&self.conn)?.to_string())
    }
    fn set_epoch(&self, epoch: &str) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE meta SET v = ?1 WHERE k = 'epoch'", [epoch])?;
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
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (k, v) VALUES ('seq_base', ?1)",
            [seq.to_string()],
        )?;
        Ok(())
    }
}
