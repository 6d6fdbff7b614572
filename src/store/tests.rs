use super::*;
use crate::protocol::examples;

fn req(key: &str, command: Command) -> Request {
    Request {
        actor: "tester".into(),
        key: key.into(),
        command,
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
    assert_eq!(s.audit_of(1).unwrap().len(), 6);
    drop(s);
    assert!(open(&dir).tickets().is_empty());
}
