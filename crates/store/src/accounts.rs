//! Accounts: one credential per person or screen, in the gateway's own database, with a
//! role, a region scope and (for a unit's credential) its unit; the token only as an
//! argon2id hash. And the access log: logins, refusals, additions, rotations and
//! revocations. `yiping account …` writes here directly (SQLite lets it while the gateway
//! runs); the gateway notices the change within a second (`data_version`).

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::backend::Backend;
use super::sql::{self, Dialect};
use domain::access::Role;

/// One credential.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// Stable and public: it is the first part of the token, and named in logs.
    pub id: String,
    /// Who or what: written in the audit trail of everything it does.
    pub name: String,
    pub role: Role,
    /// A grid-id prefix; "" is the whole city.
    pub region: String,
    /// The unit a `unit` credential acts for.
    pub unit: Option<String>,
    /// argon2id, PHC string.
    pub token_hash: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// One line of the access log.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessEntry {
    pub at_ms: i64,
    /// The account id, or the name a refused token claimed to be ("?" when none).
    pub account: String,
    /// `login`, `refused`, `added`, `rotated`, `revoked`, `logout`.
    pub event: String,
    pub detail: String,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Account, String)> {
    let role: String = r.get(2)?;
    Ok((
        Account {
            id: r.get(0)?,
            name: r.get(1)?,
            role: Role::Viewer,
            region: r.get(3)?,
            unit: r.get(4)?,
            token_hash: r.get(5)?,
            created_ms: r.get(6)?,
            revoked_ms: r.get(7)?,
        },
        role,
    ))
}

/// A statement of `sql` as SQLite takes it.
fn q(statement: &str) -> String {
    Dialect::Sqlite.statement(statement)
}

/// Every account, revoked ones included, by name.
pub(super) fn all(c: &Connection) -> Result<Vec<Account>, StoreError> {
    let mut st = c.prepare(&q(sql::ACCOUNTS))?;
    let rows = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(mut a, role)| {
            a.role = Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("account {}: role {role}", a.id)))?;
            Ok(a)
        })
        .collect()
}

/// The account with this id or name.
pub(super) fn insert(c: &Connection, a: &Account) -> Result<(), StoreError> {
    c.execute(
        &q(sql::INSERT_ACCOUNT),
        params![
            a.id,
            a.name,
            a.role.as_str(),
            a.region,
            a.unit,
            a.token_hash,
            a.created_ms,
            a.revoked_ms
        ],
    )?;
    Ok(())
}

pub(super) fn set_hash(c: &Connection, id: &str, hash: &str) -> Result<bool, StoreError> {
    Ok(c.execute(&q(sql::SET_TOKEN_HASH), params![id, hash])? == 1)
}

pub(super) fn revoke(c: &Connection, id: &str, at_ms: i64) -> Result<bool, StoreError> {
    Ok(c.execute(&q(sql::REVOKE), params![id, at_ms])? == 1)
}

pub(super) fn log(c: &Connection, entries: &[AccessEntry]) -> Result<(), StoreError> {
    let mut st = c.prepare_cached(&q(sql::LOG_ACCESS))?;
    for e in entries {
        st.execute(params![e.at_ms, e.account, e.event, e.detail])?;
    }
    Ok(())
}

/// The newest `limit` lines of the access log, newest last.
pub(super) fn recent_log(c: &Connection, limit: usize) -> Result<Vec<AccessEntry>, StoreError> {
    let mut st = c.prepare(&q(sql::RECENT_ACCESS))?;
    let mut v = st
        .query_map([limit as i64], |r| {
            Ok(AccessEntry {
                at_ms: r.get(0)?,
                account: r.get(1)?,
                event: r.get(2)?,
                detail: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    v.reverse();
    Ok(v)
}

/// SQLite's count of changes committed by other connections: it moves when
/// `yiping account` writes to the file.
pub(super) fn data_version(c: &Connection) -> Result<i64, StoreError> {
    Ok(c.query_row("PRAGMA data_version", [], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// The accounts of a gateway's database (a SQLite file, or the cluster's PostgreSQL), for
/// `yiping account`: it may run while the gateway does.
pub struct AccountBook {
    db: Box<dyn Backend>,
}

impl AccountBook {
    pub fn open(path: &std::path::Path) -> Result<AccountBook, StoreError> {
        Ok(AccountBook {
            db: Box::new(super::sqlite::Sqlite::open(path)?),
        })
    }
    /// The accounts of a cluster's PostgreSQL database.
    pub fn open_postgres(url: &str) -> Result<AccountBook, StoreError> {
        Ok(AccountBook {
            db: Box::new(super::postgres::Pg::connect(url)?),
        })
    }
    pub fn all(&self) -> Result<Vec<Account>, StoreError> {
        self.db.accounts()
    }
    pub fn find(&self, id_or_name: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .all()?
            .into_iter()
            .find(|a| a.id == id_or_name || a.name == id_or_name))
    }
    /// Add an account and log it, in one transaction.
    pub fn add(&self, a: &Account, by: &str) -> Result<(), StoreError> {
        self.in_tx(|db| {
            db.insert_account(a)?;
            db.log_access(&[entry(
                a.created_ms,
                &a.id,
                "added",
                &format!("{} by {by}", a.role.as_str()),
            )])
        })
    }
    /// Give an account a new token hash (the old token stops working) and log it.
    pub fn rotate(&self, id: &str, hash: &str, at_ms: i64, by: &str) -> Result<bool, StoreError> {
        self.in_tx(|db| {
            let done = db.set_token_hash(id, hash)?;
            if done {
                db.log_access(&[entry(at_ms, id, "rotated", &format!("by {by}"))])?;
            }
            Ok(done)
        })
    }
    /// Revoke an account (its sessions end within a second) and log it.
    pub fn revoke(&self, id: &str, at_ms: i64, by: &str) -> Result<bool, StoreError> {
        self.in_tx(|db| {
            let done = db.revoke_account(id, at_ms)?;
            if done {
                db.log_access(&[entry(at_ms, id, "revoked", &format!("by {by}"))])?;
            }
            Ok(done)
        })
    }
    pub fn recent_log(&self, limit: usize) -> Result<Vec<AccessEntry>, StoreError> {
        self.db.recent_access(limit)
    }

    fn in_tx<T>(
        &self,
        f: impl FnOnce(&dyn Backend) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.begin()?;
        match f(self.db.as_ref()) {
            Ok(v) => {
                self.db.commit()?;
                Ok(v)
            }
            Err(e) => {
                self.db.rollback();
                Err(e)
            }
        }
    }
}

pub fn entry(at_ms: i64, account: &str, event: &str, detail: &str) -> AccessEntry {
    AccessEntry {
        at_ms,
        account: account.to_string(),
        event: event.to_string(),
        detail: detail.to_string(),
    }
}
