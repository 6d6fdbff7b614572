//! The schema's versions on real files: a database made by the second wave's gateway (no
//! schema version: `fixtures/wave2.sqlite`, written by `yiping gateway` and `yiping sim`
//! as main stood before versions, with one account added by `yiping account add`)
//! upgrades in place and keeps everything; a database of the first wave's shape folds its
//! keys in; a database from a newer build is refused and left as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly where it stands

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use yiping_store::AccountBook;
use yiping_store::Store;

fn fixture(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wave2.sqlite");
    let path = dir.join("wave2.sqlite");
    std::fs::copy(src, &path).unwrap();
    path
}

fn version(path: &Path) -> Option<String> {
    let c = Connection::open(path).unwrap();
    c.query_row("SELECT v FROM meta WHERE k = 'schema_version'", [], |r| {
        r.get(0)
    })
    .ok()
}

fn count(path: &Path, table: &str) -> i64 {
    let c = Connection::open(path).unwrap();
    c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_second_wave_database_upgrades_in_place_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    assert_eq!(version(&path), None, "the fixture predates versions");
    let before: Vec<i64> = ["events", "tickets", "audit", "units", "accounts"]
        .iter()
        .map(|t| count(&path, t))
        .collect();
    assert!(before[1] > 0 && before[4] == 1, "{before:?}");
    let epoch_before: String = Connection::open(&path)
        .unwrap()
        .query_row("SELECT v FROM meta WHERE k = 'epoch'", [], |r| r.get(0))
        .unwrap();

    let store = Store::open(&path, Default::default()).unwrap();
    assert_eq!(store.epoch(), epoch_before, "the log keeps its name");
    assert_eq!(
        store.seq() as i64,
        before[0],
        "every event is still the log's"
    );
    assert!(!store.units().is_empty());
    let open = store.tickets().len();
    assert!(open > 0 && open as i64 <= before[1]);
    drop(store);

    assert_eq!(version(&path).as_deref(), Some("1"));
    let after: Vec<i64> = ["events", "tickets", "audit", "units", "accounts"]
        .iter()
        .map(|t| count(&path, t))
        .collect();
    assert_eq!(after, before);
    let book = AccountBook::open(&path).unwrap();
    let accounts = book.all().unwrap();
    assert_eq!(accounts[0].name, "京口区值班员");

    // Opened again: nothing to do, the same version.
    let again = Store::open(&path, Default::default()).unwrap();
    assert_eq!(again.seq() as i64, before[0]);
    drop(again);
    assert_eq!(version(&path).as_deref(), Some("1"));
}

#[test]
fn a_first_wave_database_folds_its_keys_in_on_the_way() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    {
        // The first wave kept every client's keys together in `idem`.
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE idem (key TEXT PRIMARY KEY, outcome TEXT NOT NULL);
             INSERT INTO idem VALUES ('wave1-key', '{\"status\":\"ok\",\"seq\":1}');",
        )
        .unwrap();
    }
    let keys_before = count(&path, "idempotency");
    drop(Store::open(&path, Default::default()).unwrap());
    let c = Connection::open(&path).unwrap();
    let gone: bool = c
        .query_row(
            "SELECT COUNT(*) = 0 FROM sqlite_master WHERE name = 'idem'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(gone);
    assert_eq!(count(&path, "idempotency"), keys_before + 1);
    let cred: String = c
        .query_row(
            "SELECT credential FROM idempotency WHERE key = 'wave1-key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cred, "", "under nobody's credential");
}

#[test]
fn a_database_from_a_newer_build_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    drop(Store::open(&path, Default::default()).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE meta SET v = '99' WHERE k = 'schema_version'", [])
        .unwrap();
    let events = count(&path, "events");
    let e = Store::open(&path, Default::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("schema version 99") && e.contains("newer"),
        "{e}"
    );
    assert_eq!(version(&path).as_deref(), Some("99"));
    assert_eq!(count(&path, "events"), events);
}

#[test]
fn a_new_database_starts_at_the_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    drop(Store::open(&path, Default::default()).unwrap());
    assert_eq!(version(&path).as_deref(), Some("1"));
    // The access log's key counts by itself (SQLite's AUTOINCREMENT, PostgreSQL's
    // BIGSERIAL, from the one schema).
    let sql: String = Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'access_log'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("INTEGER PRIMARY KEY AUTOINCREMENT"), "{sql}");
}
