//! Accounts and the access log in a SQLite file.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;
use crate::accounts::{AccessEntry, Account};
use crate::sql;
use domain::access::Role;

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

/// Every account, revoked ones included, by name.
pub(super) fn all(c: &Connection) -> Result<Vec<Account>, StoreError> {
    let mut st = c.prepare(sql::ACCOUNTS)?;
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
        sql::INSERT_ACCOUNT,
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
    Ok(c.execute(sql::SET_TOKEN_HASH, params![hash, id])? == 1)
}

pub(super) fn revoke(c: &Connection, id: &str, at_ms: i64) -> Result<bool, StoreError> {
    Ok(c.execute(sql::REVOKE, params![at_ms, id])? == 1)
}

pub(super) fn log(c: &Connection, entries: &[AccessEntry]) -> Result<(), StoreError> {
    let mut st = c.prepare_cached(sql::LOG_ACCESS)?;
    for e in entries {
        st.execute(params![e.at_ms, e.account, e.event, e.detail])?;
    }
    Ok(())
}

/// The newest `limit` lines of the access log, newest last.
pub(super) fn recent_log(c: &Connection, limit: usize) -> Result<Vec<AccessEntry>, StoreError> {
    let mut st = c.prepare(sql::RECENT_ACCESS)?;
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
