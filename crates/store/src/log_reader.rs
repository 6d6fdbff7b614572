//! A log read a page at a time (a rewind, a replay of a gateway's own database): memory
//! for one page, not for the whole history, whatever its length.

use rusqlite::Connection;

use super::backend::Backend;
use super::{StoreError, StoredDelta, postgres, sql, sqlite};

/// Rows per page: a few MB of frames.
pub const PAGE: usize = 5000;

/// Where the log is read from.
pub enum LogReader {
    Sqlite(Connection),
    Postgres(Box<postgres::Pg>),
}

impl LogReader {
    /// A gateway's SQLite file, opened read-only.
    pub fn sqlite(path: &std::path::Path) -> Result<LogReader, StoreError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        Ok(LogReader::Sqlite(conn))
    }

    /// A cluster's record.
    pub fn postgres(url: &str) -> Result<LogReader, StoreError> {
        Ok(LogReader::Postgres(Box::new(postgres::Pg::connect(url)?)))
    }

    /// The next deltas after `seq`, `PAGE` at most, in order (empty at the end).
    pub fn page(&self, seq: u64) -> Result<Vec<StoredDelta>, StoreError> {
        match self {
            LogReader::Sqlite(c) => {
                let mut st = c.prepare_cached(sql::DELTAS_AFTER)?;
                let rows = st
                    .query_map(
                        rusqlite::params![seq as i64, PAGE as i64],
                        sqlite::stored_delta,
                    )?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            }
            LogReader::Postgres(pg) => pg.deltas_after(seq, PAGE),
        }
    }
}
