//! `yiping account`'s view of a gateway's database: its accounts and access log, each
//! change and its log line in one transaction.

use crate::StoreError;
use crate::accounts::{AccessEntry, Account, entry};
use crate::backend::Backend;

/// The accounts of a gateway's database (a SQLite file, or the cluster's PostgreSQL), for
/// `yiping account`: it may run while the gateway does.
pub struct AccountBook {
    db: Box<dyn Backend>,
}

impl AccountBook {
    pub fn open(path: &std::path::Path) -> Result<AccountBook, StoreError> {
        Ok(AccountBook {
            db: Box::new(crate::sqlite::Sqlite::open(path)?),
        })
    }
    /// The accounts of a cluster's PostgreSQL database.
    pub fn open_postgres(url: &str) -> Result<AccountBook, StoreError> {
        Ok(AccountBook {
            db: Box::new(crate::postgres::Pg::connect(url)?),
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
