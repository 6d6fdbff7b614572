//! The store's SQL, written once for both backends: one schema, one set of statements,
//! and the few places where SQLite and PostgreSQL differ named here and nowhere else.
//!
//! The differences:
//! - **Placeholders.** Statements are written with PostgreSQL's `$1`, `$2`, … and run as
//!   they are on both: SQLite reads `$1` as a named parameter and numbers those in order
//!   of first appearance, so each statement names its parameters in order (`$1` first,
//!   then `$2`, …; a test holds every statement here to that), and both databases bind
//!   the same values to the same places with no translation per call.
//! - **Column types, in the schema only.** `{int}` is a 64-bit integer: SQLite's
//!   `INTEGER` (so that `INTEGER PRIMARY KEY` stays the rowid), PostgreSQL's `BIGINT`.
//!   `{serial}` is an auto-numbered key: `INTEGER PRIMARY KEY AUTOINCREMENT` and
//!   `BIGSERIAL PRIMARY KEY`. Statements cast with `BIGINT`, which SQLite reads as an
//!   integer too.
//! - **Batches.** PostgreSQL writes a transaction's rows as arrays through `unnest` (one
//!   round trip a table; `postgres.rs` says what that measured); SQLite, in-process, one
//!   row at a time with the statements below.
//! - **Where the schema version lives.** Both keep it in `meta` (`schema_version`).
//!
//! Upserts use `INSERT … ON CONFLICT … DO UPDATE`, which both speak (SQLite since 3.24).

/// Which database a statement is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A migration's DDL as this database takes it.
    pub fn schema(self, ddl: &str) -> String {
        let (int, serial) = match self {
            Dialect::Sqlite => ("INTEGER", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            Dialect::Postgres => ("BIGINT", "BIGSERIAL PRIMARY KEY"),
        };
        ddl.replace("{serial}", serial).replace("{int}", int)
    }
}

/// One step of the schema's history. A database records the last it took
/// (`meta.schema_version`); opening it runs those after, in order, each in the
/// transaction that records it. Steps are only ever added, never edited: a site's
/// database went through the ones it went through.
pub struct Migration {
    pub version: u32,
    pub what: &'static str,
    pub ddl: &'static str,
}

/// The schema's history, oldest first.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    what: "the tables of the first two waves: the log, the records, idempotency keys, \
           accounts and the access log",
    // `IF NOT EXISTS` throughout: a database made before versions (by the first waves)
    // has these already and takes this step as its upgrade to version 1.
    ddl: "
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq {int} PRIMARY KEY, ts_us {int} NOT NULL, frame TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (id {int} PRIMARY KEY, status TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status);
CREATE TABLE IF NOT EXISTS audit (seq {int} PRIMARY KEY, ticket {int} NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_ticket ON audit(ticket, seq);
CREATE TABLE IF NOT EXISTS warnings (id {int} PRIMARY KEY, status TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (credential TEXT NOT NULL, key TEXT NOT NULL,
    at_ms {int} NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (credential, key));
CREATE INDEX IF NOT EXISTS idempotency_at ON idempotency(at_ms);
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL, region TEXT NOT NULL, unit TEXT, token_hash TEXT NOT NULL,
    created_ms {int} NOT NULL, revoked_ms {int});
CREATE TABLE IF NOT EXISTS access_log (n {serial},
    at_ms {int} NOT NULL, account TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL);
",
}];

/// The version this build's schema is at.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The version a database records, from `meta`; `None` where it records none (a new
/// database, or one made before versions).
pub const SCHEMA_VERSION: &str = "SELECT v FROM meta WHERE k = 'schema_version'";
pub const SET_SCHEMA_VERSION: &str = "INSERT INTO meta (k, v) VALUES ('schema_version', $1)
     ON CONFLICT (k) DO UPDATE SET v = excluded.v";

/// Why a database is not opened: a newer build wrote it.
pub fn too_new(found: u32) -> String {
    format!(
        "the database is at schema version {found}, newer than this build's {}: \
         run the yiping that wrote it (or a newer one)",
        latest()
    )
}

// The statements both backends run.

pub const EPOCH: &str = "SELECT v FROM meta WHERE k = 'epoch'";
pub const NEW_EPOCH: &str =
    "INSERT INTO meta (k, v) VALUES ('epoch', $1) ON CONFLICT (k) DO NOTHING";
pub const SET_EPOCH: &str = "UPDATE meta SET v = $1 WHERE k = 'epoch'";
/// The log's last number. An imported history (the demo's past) leaves its last number
/// as the log's base.
pub const LAST_SEQ: &str = "SELECT COALESCE(MAX(s), 0) FROM (SELECT MAX(seq) AS s FROM events \
     UNION ALL SELECT CAST(v AS BIGINT) FROM meta WHERE k = 'seq_base') AS l";
pub const SET_SEQ_BASE: &str = "INSERT INTO meta (k, v) VALUES ('seq_base', $1)
     ON CONFLICT (k) DO UPDATE SET v = excluded.v";
pub const MAX_TICKET: &str = "SELECT COALESCE(MAX(id), 0) FROM tickets";
pub const MAX_WARNING: &str = "SELECT COALESCE(MAX(id), 0) FROM warnings";
pub const LIVE_WARNINGS: &str = "SELECT json FROM warnings WHERE status != 'lifted'";
pub const UNITS: &str = "SELECT json FROM units ORDER BY id";
pub const KEYS: &str = "SELECT credential, key, at_ms, outcome FROM idempotency ORDER BY at_ms";

pub const TICKET: &str = "SELECT json FROM tickets WHERE id = $1";
pub const ALL_TICKETS: &str = "SELECT json FROM tickets";
pub const DELTAS_AFTER: &str =
    "SELECT seq, ts_us, frame FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";
pub const AUDIT_OF: &str = "SELECT json FROM audit WHERE ticket = $1 ORDER BY seq";
pub const BRIEFING: &str = "SELECT v FROM meta WHERE k = 'briefing'";
pub const SET_BRIEFING: &str = "INSERT INTO meta (k, v) VALUES ('briefing', $1)
     ON CONFLICT (k) DO UPDATE SET v = excluded.v";
pub const CLEAR_BRIEFING: &str = "DELETE FROM meta WHERE k = 'briefing'";
/// The duty room (roster, shifts on duty, escalations, handovers), whole: it changes a
/// few times a minute at most.
pub const DUTY: &str = "SELECT v FROM meta WHERE k = 'duty'";
pub const SET_DUTY: &str = "INSERT INTO meta (k, v) VALUES ('duty', $1)
     ON CONFLICT (k) DO UPDATE SET v = excluded.v";

pub const INSERT_EVENT: &str = "INSERT INTO events (seq, ts_us, frame) VALUES ($1, $2, $3)";
pub const INSERT_KEY: &str =
    "INSERT INTO idempotency (credential, key, at_ms, outcome) VALUES ($1, $2, $3, $4)";
pub const EXPIRE_KEYS: &str = "DELETE FROM idempotency WHERE at_ms < $1";
pub const UPSERT_TICKET: &str = "INSERT INTO tickets (id, status, json) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, json = excluded.json";
pub const INSERT_AUDIT: &str = "INSERT INTO audit (seq, ticket, json) VALUES ($1, $2, $3)";
pub const UPSERT_WARNING: &str = "INSERT INTO warnings (id, status, json) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, json = excluded.json";
pub const UPSERT_UNIT: &str = "INSERT INTO units (id, json) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET json = excluded.json";

pub const ACCOUNTS: &str = "SELECT id, name, role, region, unit, token_hash, created_ms, \
     revoked_ms FROM accounts ORDER BY name";
pub const INSERT_ACCOUNT: &str = "INSERT INTO accounts
     (id, name, role, region, unit, token_hash, created_ms, revoked_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// `$1` the new hash, `$2` the account.
pub const SET_TOKEN_HASH: &str =
    "UPDATE accounts SET token_hash = $1 WHERE id = $2 AND revoked_ms IS NULL";
/// `$1` when, `$2` the account.
pub const REVOKE: &str = "UPDATE accounts SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL";
pub const LOG_ACCESS: &str =
    "INSERT INTO access_log (at_ms, account, event, detail) VALUES ($1, $2, $3, $4)";
pub const RECENT_ACCESS: &str =
    "SELECT at_ms, account, event, detail FROM access_log ORDER BY n DESC LIMIT $1";
/// The access log's first and last line numbers (0, 0 when empty): two key look-ups.
pub const ACCESS_ENDS: &str = "SELECT COALESCE(MIN(n), 0), COALESCE(MAX(n), 0) FROM access_log";
/// Remove lines below `$1` (a bound on the work: a range of the key) that are older
/// than `$2` or below `$3` (past the cap on lines).
pub const TRIM_ACCESS: &str = "DELETE FROM access_log WHERE n < $1 AND (at_ms < $2 OR n < $3)";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every statement both backends run.
    const STATEMENTS: &[&str] = &[
        SCHEMA_VERSION,
        SET_SCHEMA_VERSION,
        EPOCH,
        NEW_EPOCH,
        SET_EPOCH,
        LAST_SEQ,
        SET_SEQ_BASE,
        MAX_TICKET,
        MAX_WARNING,
        LIVE_WARNINGS,
        UNITS,
        KEYS,
        TICKET,
        ALL_TICKETS,
        DELTAS_AFTER,
        AUDIT_OF,
        BRIEFING,
        SET_BRIEFING,
        CLEAR_BRIEFING,
        INSERT_EVENT,
        INSERT_KEY,
        EXPIRE_KEYS,
        UPSERT_TICKET,
        INSERT_AUDIT,
        UPSERT_WARNING,
        UPSERT_UNIT,
        ACCOUNTS,
        INSERT_ACCOUNT,
        SET_TOKEN_HASH,
        REVOKE,
        LOG_ACCESS,
        RECENT_ACCESS,
        ACCESS_ENDS,
        TRIM_ACCESS,
    ];

    #[test]
    fn every_statement_names_its_parameters_in_order() {
        for st in STATEMENTS {
            let mut first_seen: Vec<u32> = vec![];
            let b = st.as_bytes();
            for (i, _) in st.match_indices('$') {
                let n: String = b[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .map(|&c| c as char)
                    .collect();
                let n: u32 = n.parse().unwrap_or_else(|_| panic!("a bare $ in {st}"));
                if !first_seen.contains(&n) {
                    first_seen.push(n);
                }
            }
            let want: Vec<u32> = (1..=first_seen.len() as u32).collect();
            assert_eq!(first_seen, want, "parameters out of order in: {st}");
        }
    }

    #[test]
    fn sqlite_binds_dollar_parameters_by_first_appearance() {
        // Why the order matters: SQLite gives `$2` the first index when it comes first.
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let (a, b): (i64, i64) = c
            .query_row("SELECT $2, $1", [10, 20], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((a, b), (10, 20));
        let (a, b): (i64, i64) = c
            .query_row("SELECT $1, $2", [10, 20], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((a, b), (10, 20));
    }

    #[test]
    fn the_schema_names_its_types_per_database() {
        let ddl = MIGRATIONS[0].ddl;
        let lite = Dialect::Sqlite.schema(ddl);
        assert!(lite.contains("seq INTEGER PRIMARY KEY") && !lite.contains('{'));
        assert!(lite.contains("n INTEGER PRIMARY KEY AUTOINCREMENT"));
        let pg = Dialect::Postgres.schema(ddl);
        assert!(pg.contains("seq BIGINT PRIMARY KEY") && pg.contains("n BIGSERIAL PRIMARY KEY"));
        assert!(!pg.contains("INTEGER"));
    }

    #[test]
    fn versions_only_go_up() {
        let v: Vec<u32> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert!(v.windows(2).all(|w| w[0] < w[1]) && v[0] == 1, "{v:?}");
        assert_eq!(latest(), *v.last().unwrap_or(&0));
    }
}
