use super::*;
use protocol::{ErrorCode, NewWarning, examples};

fn req(key: &str, command: Command) -> Request {
    Request {
        actor: "tester".into(),
        credential: "tester".into(),
        access: domain::access::Access::city(domain::access::Role::Admin),
        key: key.into(),
        command,
        field: None,
    }
}

fn intake(key: &str) -> Request {
    req(
        key,
        Command::Intake {
            ticket: examples::new_ticket(),
        },
    )
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("y.sqlite"), Policy::default()).unwrap()
}

/// The WAL reaches the main file without the writer's help: its own checkpoints start
/// only at `checkpoint::BACKSTOP` pages, far above what is written here, so without the
/// checkpoint thread the main file would stay as it was until the store closed.
#[test]
fn the_checkpoint_thread_moves_the_wal_into_the_main_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("y.sqlite");
    let mut s = Store::open(&path, Policy::default()).unwrap();
    let main_size = || std::fs::metadata(&path).unwrap().len();
    // Settle: the schema's own pages reach the main file first.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let before = main_size();
    let batch = (0..400).map(|i| intake(&format!("k{i}"))).collect();
    let applied = s.apply_batch(batch, 0).unwrap();
    assert_eq!(applied.len(), 400);
    let wal = std::fs::metadata(dir.path().join("y.sqlite-wal"))
        .unwrap()
        .len();
    assert!(wal > 100 * 4096, "the batch is in the WAL: {wal} bytes");
    let t0 = std::time::Instant::now();
    while main_size() <= before {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(5),
            "the main file is still {before} bytes 5 s after the commit"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // And the store reads back what it wrote.
    drop(s);
    assert_eq!(open(&dir).tickets().len(), 400);
}

#[test]
fn a_reopened_store_has_every_ticket_and_its_sequence_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (epoch, seq) = {
        let mut s = open(&dir);
        let out = s
            .apply_batch(
                vec![
                    req(
                        "u",
                        Command::UpsertUnit {
                            unit: examples::unit(),
                        },
                    ),
                    intake("a"),
                    intake("b"),
                    req(
                        "d",
                        Command::Dispatch {
                            ticket: 1,
                            unit: examples::unit().id,
                        },
                    ),
                ],
                1_000_000_000,
            )
            .unwrap();
        assert!(
            out.iter()
                .all(|a| matches!(a.outcome, CommandOutcome::Ok { .. }))
        );
        (s.epoch().to_string(), s.seq())
    };
    assert_eq!(seq, 4);
    let mut s = open(&dir);
    assert_eq!((s.epoch(), s.seq()), (epoch.as_str(), 4));
    assert_eq!(s.tickets().len(), 2);
    assert_eq!(s.tickets()[&1].status, TicketStatus::Assigned);
    let out = s.apply_batch(vec![intake("c")], 2_000_000_000).unwrap();
    assert!(matches!(
        out[0].outcome,
        CommandOutcome::Ok {
            seq: 5,
            id: Some(3)
        }
    ));
    // The audit trail survived too.
    let trail = s.audit_of(1).unwrap();
    assert_eq!(
        trail.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["intake", "dispatch"]
    );
    assert_eq!(s.deltas_after(3, 10).unwrap().len(), 2);
}

#[test]
fn a_repeated_key_has_one_effect_and_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let first = s.apply_batch(vec![intake("same")], 1).unwrap().remove(0);
    let again = s.apply_batch(vec![intake("same")], 2).unwrap().remove(0);
    assert_eq!(first.outcome, again.outcome);
    assert!(first.delta.is_some() && again.delta.is_none());
    assert_eq!(s.tickets().len(), 1);
    drop(s);
    // ... also after a restart.
    let mut s = open(&dir);
    let third = s.apply_batch(vec![intake("same")], 3).unwrap().remove(0);
    assert_eq!(first.outcome, third.outcome);
    assert_eq!(s.seq(), 1);
}

#[test]
fn keys_expire_in_memory_and_in_the_file_so_a_month_of_commands_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        key_ttl_ms: 60_000,
        ..Policy::default()
    };
    let path = dir.path().join("y.sqlite");
    let mut s = Store::open(&path, policy.clone()).unwrap();
    let t0 = 1_000_000_000i64; // µs: 1,000 s
    // A key a minute for an hour of (store) time: never more than two minutes' worth held.
    let mut most = 0;
    for m in 0..60 {
        let ts = t0 + m * 60_000_000;
        s.apply_batch(vec![intake(&format!("k{m}"))], ts).unwrap();
        s.expire_keys(ts / 1000).unwrap();
        most = most.max(s.keys_held());
    }
    assert!(most <= 2, "{most} keys held at once");
    // An expired key is a new command; a live one is still the first result.
    let late = t0 / 1000 + 60 * 60_000;
    let again = s
        .apply_batch(vec![intake("k0")], late * 1000)
        .unwrap()
        .remove(0);
    assert!(again.delta.is_some(), "k0 expired: applied anew");
    drop(s);
    // The file forgot them too: a reopened store holds only the unexpired.
    let mut s = Store::open(&path, policy).unwrap();
    s.expire_keys(late).unwrap();
    assert!(s.keys_held() <= 3, "{} keys after a restart", s.keys_held());
}

#[test]
fn refused_commands_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    s.apply_batch(vec![intake("a")], 1).unwrap();
    let mut far = examples::new_ticket();
    far.lon = 200.0;
    let bad = vec![
        req("x1", Command::Accept { ticket: 1 }),
        req("x2", Command::Accept { ticket: 99 }),
        req(
            "x3",
            Command::Dispatch {
                ticket: 1,
                unit: "nobody".into(),
            },
        ),
        req("x4", Command::Intake { ticket: far }),
        req("x5", Command::AckWarning { warning: 1 }),
        req("", Command::Accept { ticket: 1 }),
    ];
    let out = s.apply_batch(bad, 2).unwrap();
    let codes: Vec<_> = out
        .iter()
        .map(|a| match &a.outcome {
            CommandOutcome::Refused { code, .. } => code.as_str(),
            CommandOutcome::Ok { .. } => "ok",
        })
        .collect();
    assert_eq!(
        codes,
        [
            "illegal_transition",
            "unknown_ticket",
            "unknown_unit",
            "out_of_range",
            "unknown_warning",
            "invalid"
        ]
    );
    assert_eq!(s.seq(), 1);
    assert_eq!(s.tickets()[&1].status, TicketStatus::Received);
}

#[test]
fn archived_tickets_leave_the_live_set_but_keep_their_trail() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let unit = examples::unit();
    let cmds = vec![
        req("u", Command::UpsertUnit { unit: unit.clone() }),
        intake("a"),
        req(
            "1",
            Command::Dispatch {
                ticket: 1,
                unit: unit.id.clone(),
            },
        ),
        req("2", Command::Accept { ticket: 1 }),
        req(
            "3",
            Command::Resolve {
                ticket: 1,
                note: "done".into(),
            },
        ),
        req(
            "3r",
            Command::Review {
                ticket: 1,
                approve: true,
                note: String::new(),
            },
        ),
        req(
            "4",
            Command::Rate {
                ticket: 1,
                satisfied: true,
            },
        ),
        req("5", Command::Close { ticket: 1 }),
    ];
    let out = s.apply_batch(cmds, 1).unwrap();
    assert!(out.iter().all(|a| a.delta.is_some()), "{out:?}");
    assert!(s.tickets().is_empty());
    assert_eq!(s.audit_of(1).unwrap().len(), 7);
    drop(s);
    assert!(open(&dir).tickets().is_empty());
}

mod kpis;

#[test]
fn a_merged_duplicate_follows_its_master_and_the_figures_count_the_matter_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let now_us = domain::time::now_us();
    let ok = |a: &Applied| matches!(a.outcome, CommandOutcome::Ok { .. });
    let code = |a: &Applied| match &a.outcome {
        CommandOutcome::Refused { code, message } => Some((*code, message.clone())),
        _ => None,
    };
    let out = s
        .apply_batch(vec![intake("a"), intake("b"), intake("c")], now_us)
        .unwrap();
    assert!(out.iter().all(ok));
    let figures = |s: &mut Store| {
        let f = s.kpi_figures("", now_us / 1000).unwrap();
        (f.total, f.open)
    };
    assert_eq!(figures(&mut s), (3, 3));
    let merge = |key: &str, ticket, into| req(key, Command::Merge { ticket, into });
    let out = s.apply_batch(vec![merge("m1", 2, 1)], now_us).unwrap();
    assert!(ok(&out[0]), "{:?}", out[0].outcome);
    assert_eq!(s.tickets()[&2].merged_into, Some(1));
    assert_eq!(figures(&mut s), (2, 2), "the matter counts once");
    let out = s
        .apply_batch(
            vec![
                req("d2", Command::Accept { ticket: 2 }),
                merge("m2", 3, 2),
                merge("m3", 1, 3),
                merge("m4", 3, 3),
            ],
            now_us,
        )
        .unwrap();
    let (c0, m0) = code(&out[0]).unwrap();
    assert_eq!(c0, ErrorCode::IllegalTransition);
    assert!(m0.contains("merged into 1"), "{m0}");
    assert!(
        code(&out[1]).unwrap().1.contains("itself merged into 1"),
        "one level deep"
    );
    assert!(
        code(&out[2]).unwrap().1.contains("unmerge it first"),
        "a master is not merged"
    );
    assert!(code(&out[3]).unwrap().1.contains("itself"));
    let out = s
        .apply_batch(vec![req("u", Command::Unmerge { ticket: 2 })], now_us)
        .unwrap();
    assert!(ok(&out[0]));
    assert_eq!(s.tickets()[&2].merged_into, None);
    assert_eq!(figures(&mut s), (3, 3), "unmerged, it counts again");
    let trail: Vec<String> = s
        .audit_of(2)
        .unwrap()
        .iter()
        .map(|a| format!("{} {}", a.action.as_str(), a.note))
        .collect();
    assert_eq!(trail.len(), 3, "{trail:?}");
    assert!(trail[1].starts_with("merge 并入 #1"), "{trail:?}");
    assert!(trail[2].starts_with("unmerge"), "{trail:?}");
    // After a reopen, a merge stands (the record holds it) and still counts once.
    s.apply_batch(vec![merge("m5", 3, 1)], now_us).unwrap();
    drop(s);
    let mut s = open(&dir);
    assert_eq!(s.tickets()[&3].merged_into, Some(1));
    assert_eq!(figures(&mut s), (2, 2));
}

#[test]
fn a_warning_may_cover_a_district_or_a_grid_but_not_a_made_up_region() {
    let dir = tempfile::tempdir().unwrap();
    let grids: std::collections::HashSet<String> = ["321182-01-001-001", "321112-02-003-004"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let policy = Policy {
        bounds: domain::decide::Bounds {
            grids: Some(Arc::new(grids)),
            ..Default::default()
        },
        ..Policy::default()
    };
    let mut s = Store::open(&dir.path().join("y.sqlite"), policy).unwrap();
    let warn = |key: &str, grids: &[&str]| {
        req(
            key,
            Command::RaiseWarning {
                warning: NewWarning {
                    level: protocol::WarningLevel::Red,
                    kind: protocol::WarningKind::Flood,
                    title: "暴雨内涝红色预警".into(),
                    grids: grids.iter().map(|g| g.to_string()).collect(),
                    tickets: vec![],
                    cap_refs: vec![],
                    expires_ms: None,
                },
            },
        )
    };
    let out = s
        .apply_batch(
            vec![
                warn("a", &["321182", "321112"]),
                warn("b", &["321112-02-003-004"]),
                warn("c", &["3211"]),
                warn("d", &["321182-01-001-00"]),
            ],
            0,
        )
        .unwrap();
    let ok: Vec<bool> = out
        .iter()
        .map(|a| matches!(a.outcome, CommandOutcome::Ok { .. }))
        .collect();
    assert_eq!(ok, [true, true, false, false], "{out:?}");
    assert_eq!(s.warnings().len(), 2);
}

#[test]
fn a_history_is_imported_into_a_fresh_file_only_and_the_log_goes_on_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("y.sqlite");
    let mut t = examples::ticket();
    t.status = TicketStatus::Archived;
    let mut a = examples::audit();
    a.seq = 41;
    let history = || History {
        tickets: vec![],
        warnings: vec![],
        units: vec![],
        last_seq: 41,
    };
    Store::open(&path, Policy::default())
        .unwrap()
        .import_history(
            [Past::Audit(t.id, a.clone()), Past::Archived(t.clone())],
            history,
        )
        .unwrap();
    let mut s = Store::open(&path, Policy::default()).unwrap();
    assert_eq!(s.seq(), 41, "the log starts after the history");
    assert!(s.tickets().is_empty(), "archived tickets are not live");
    assert_eq!(
        s.ticket(t.id).unwrap().unwrap().status,
        TicketStatus::Archived
    );
    assert_eq!(s.audit_of(t.id).unwrap(), vec![a]);
    assert_eq!(
        s.kpi_figures("", 0).unwrap().total,
        1,
        "the figures count the past"
    );
    let out = s.apply_batch(vec![intake("k1")], 0).unwrap();
    assert_eq!(out[0].delta.as_ref().unwrap().seq, 42);
    // A file with a present is refused, and nothing changes.
    let err = s.import_history([], history).unwrap_err();
    assert!(err.to_string().contains("already has a history"), "{err}");
    let s = Store::open(&path, Policy::default()).unwrap();
    assert_eq!(s.seq(), 42);
}

/// The access log keeps its days and its rows, a bounded key range a call.
#[test]
fn the_access_log_is_trimmed_by_age_and_by_count_a_range_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let day = 86_400_000;
    let now = 100 * day;
    // 30 lines 10 days old, then 30 of today.
    let old: Vec<_> = (0..30)
        .map(|i| accounts::entry(now - 10 * day + i, "a", "login", "x"))
        .collect();
    let new: Vec<_> = (0..30)
        .map(|i| accounts::entry(now - 1000 + i, "a", "login", "x"))
        .collect();
    s.log_access(&old).unwrap();
    s.log_access(&new).unwrap();
    // Keep 7 days: the old ones go, 20 at most a call.
    assert_eq!(s.trim_access(now, 7, 1_000, 20).unwrap(), 20);
    assert_eq!(s.trim_access(now, 7, 1_000, 20).unwrap(), 10);
    assert_eq!(s.trim_access(now, 7, 1_000, 20).unwrap(), 0);
    // Keep 12 rows: the oldest of today's go.
    assert_eq!(s.trim_access(now, 7, 12, 100).unwrap(), 18);
    let left = s.db.recent_access(100).unwrap();
    assert_eq!(left.len(), 12);
    assert_eq!(left[0].at_ms, now - 1000 + 18, "the newest stay");
    // What a stranger sends is cut to a bounded length before it is written.
    let long = accounts::entry(now, &"x".repeat(1000), "refused", &"中".repeat(5000));
    assert_eq!(long.account.chars().count(), accounts::MAX_ACCOUNT_CHARS);
    assert_eq!(long.detail.chars().count(), accounts::MAX_DETAIL_CHARS);
}
