//! The store's figures, kept up with every change, across restarts and for scopes summed
//! off the core. The incremental figures against a brute-force recount, over random histories made
//! of legal lifecycle moves.
use std::collections::HashMap;

use proptest::prelude::*;

use crate::gauges::{Gauges, Reading};
use domain::kpi::Kpis;
use domain::lifecycle;
use protocol::{Category, Channel, Command, NewTicket, Priority, Ticket, examples};

/// One step of a history: which op, on which ticket, how much time passes.
#[derive(Clone, Debug)]
struct Step {
    op: u8,
    pick: usize,
    minutes: i64,
    channel: usize,
    category: usize,
    priority: usize,
    grid: usize,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0u8..21,
        0usize..64,
        0i64..300,
        0usize..8,
        0usize..8,
        0usize..3,
        0usize..5,
    )
        .prop_map(
            |(op, pick, minutes, channel, category, priority, grid)| Step {
                op,
                pick,
                minutes,
                channel,
                category,
                priority,
                grid,
            },
        )
}

const GRIDS: [&str; 5] = [
    "321102-01-001-001",
    "321102-01-001-002",
    "321102-02-004-001",
    "321181-05-010-003",
    "321112-03-002-001",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn incremental_figures_equal_a_recount(steps in prop::collection::vec(step(), 1..300)) {
        let unit = examples::unit();
        let mut now = 1_795_000_000_000i64;
        let mut all: HashMap<u64, Ticket> = HashMap::new();
        let mut inc = Kpis::new(now);
        // The `/metrics` counts, kept up by the same changes.
        let mut gauges = Gauges::default();
        let mut next = 1u64;
        for s in steps {
            now += s.minutes * 60_000;
            inc.advance(now);
            if s.op < 3 || all.is_empty() {
                let n = NewTicket {
                    channel: Channel::ALL[s.channel],
                    category: Category::ALL[s.category],
                    priority: [Priority::Urgent, Priority::Important, Priority::Normal][s.priority],
                    grid: GRIDS[s.grid].into(),
                    // Some taken in earlier than now (backfilled from another system).
                    created_ms: (s.minutes % 7 == 0).then_some(now - s.minutes * 3_600_000),
                    sla_minutes: None,
                    ..examples::new_ticket()
                };
                let t = lifecycle::new_ticket(next, &n, now, [240, 1440, 4320]);
                next += 1;
                inc.update(None, &t);
                gauges.change(None, Some(&t));
                all.insert(t.id, t);
                continue;
            }
            let mut ids: Vec<u64> = all.keys().copied().collect();
            ids.sort_unstable();
            let id = ids[s.pick % ids.len()];
            let t = &all[&id];
            let cmd = match s.op {
                3 => Command::Dispatch { ticket: id, unit: unit.id.clone() },
                4 => Command::Accept { ticket: id },
                5 => Command::Start { ticket: id },
                6 => Command::Resolve { ticket: id, note: String::new() },
                7 => Command::Rate { ticket: id, satisfied: s.pick % 5 != 0 },
                8 => Command::Close { ticket: id },
                9 => Command::Escalate { ticket: id, reason: String::new() },
                10 => Command::Return { ticket: id, reason: String::new() },
                // The center's workflow: review, callbacks, extensions, 疑难, 挂起.
                12 => Command::Review { ticket: id, approve: s.pick % 6 != 0, note: "补充".into() },
                13 => Command::Callback {
                    ticket: id,
                    result: protocol::CallbackResult::ALL[s.pick % 4],
                    words: String::new(),
                },
                14 => Command::RequestExtension {
                    ticket: id,
                    until_ms: t.deadline_ms.max(now) + 86_400_000,
                    reason: "等待".into(),
                },
                15 => Command::DecideExtension { ticket: id, approve: s.pick % 3 != 0, note: String::new() },
                16 => Command::MarkHard { ticket: id, reason: "多部门".into() },
                17 => Command::Suspend { ticket: id, reason: "等待判决".into() },
                18 => Command::Release { ticket: id },
                19 => Command::ScheduleMeeting { ticket: id, at_ms: now + 86_400_000, title: "协调会".into() },
                20 => Command::MeetingOutcome {
                    ticket: id,
                    units_present: vec![],
                    lead_unit: None,
                    deadline_ms: (s.pick % 2 == 0).then_some(now + 86_400_000),
                    resolved: s.pick % 2 == 1,
                    note: String::new(),
                },
                _ => Command::Supervise { ticket: id, note: String::new(), stage: None },
            };
            if let Ok(c) = lifecycle::apply_ticket(t, &cmd, Some(&unit), now) {
                inc.update(Some(t), &c.ticket);
                gauges.change(Some(t), Some(&c.ticket));
                all.insert(id, c.ticket);
            }
            if s.op % 4 == 0 {
                prop_assert_eq!(gauges.read(now), Reading::recount(all.values(), now));
            }
        }
        let brute = Kpis::recompute(all.values(), now);
        inc.advance(now);
        prop_assert_eq!(inc.figures(now), brute.figures(now));
        prop_assert_eq!(&inc, &brute);
        // The same a day later, when today's figures are yesterday's.
        let later = now + 86_400_000;
        inc.advance(later);
        prop_assert_eq!(inc.figures(later), Kpis::recompute(all.values(), later).figures(later));
        prop_assert_eq!(gauges.read(later), Reading::recount(all.values(), later));
    }
}

/// Ticket `id` dispatched to the example unit, accepted, resolved and the result
/// approved (keys c0-c3).
fn resolved(id: u64) -> Vec<crate::Request> {
    let unit = examples::unit().id;
    [
        Command::Dispatch { ticket: id, unit },
        Command::Accept { ticket: id },
        Command::Resolve {
            ticket: id,
            note: "ok".into(),
        },
        Command::Review {
            ticket: id,
            approve: true,
            note: String::new(),
        },
    ]
    .into_iter()
    .enumerate()
    .map(|(k, c)| super::req(&format!("c{k}"), c))
    .collect()
}

#[test]
fn the_store_keeps_its_figures_across_a_restart() {
    use super::{intake, open, req};
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let mut s = open(&dir);
        let mut reqs = vec![req(
            "u",
            Command::UpsertUnit {
                unit: examples::unit(),
            },
        )];
        reqs.extend((0..5).map(|i| intake(&format!("t{i}"))));
        reqs.extend(resolved(1));
        reqs.push(req(
            "c8",
            Command::Rate {
                ticket: 1,
                satisfied: true,
            },
        ));
        reqs.push(req("c9", Command::Close { ticket: 1 }));
        s.apply_batch(reqs, domain::time::now_us()).unwrap();
        let f = s.kpi_figures("", domain::time::now_ms()).unwrap();
        assert_eq!((f.total, f.resolved, f.open), (5, 1, 4));
        assert_eq!(f.satisfaction, Some(1.0));
        f
    };
    // Ticket 1 is archived: no longer live, still counted.
    let mut s = open(&dir);
    assert_eq!(s.tickets().len(), 4);
    let after = s.kpi_figures("", before.at_ms).unwrap();
    assert_eq!(after, before);
    // A scope sees only its own grids.
    s.track_scope("999999").unwrap();
    assert_eq!(s.kpi_figures("999999", before.at_ms).unwrap().total, 0);
}

/// A new scope's figures summed off the core (`track_scopes_later`): the read runs on
/// another thread after some changes were made, others come before its sum is taken;
/// each change is counted once (those the read saw are not added again), and the
/// result is what a sum of every ticket gives then.
#[test]
fn a_scope_summed_elsewhere_takes_the_changes_made_meanwhile() {
    use super::{intake, open, req};
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    let now_us = domain::time::now_us;
    let other = |k: &str| {
        let mut r = intake(k);
        if let Command::Intake { ticket } = &mut r.command {
            ticket.grid = "321181-05-010-003".into();
        }
        r
    };
    let mut first = vec![req(
        "u",
        Command::UpsertUnit {
            unit: examples::unit(),
        },
    )];
    first.extend((0..6).map(|i| intake(&format!("a{i}"))));
    first.extend((0..3).map(|i| other(&format!("o{i}"))));
    s.apply_batch(first, now_us()).unwrap();
    let read = s
        .track_scopes_later(&["321102".into()])
        .unwrap()
        .expect("SQLite sums a new scope off the caller's thread");
    assert!(
        s.track_scopes_later(&["321102".into()]).unwrap().is_none(),
        "under way"
    );
    assert!(s.kpi_figures("321102", 0).is_none(), "not yet summed");
    // Meanwhile: three more in scope, one elsewhere, one of the first resolved.
    let mut later: Vec<_> = (0..3).map(|i| intake(&format!("b{i}"))).collect();
    later.push(other("o9"));
    later.extend(resolved(2));
    s.apply_batch(later, now_us()).unwrap();
    // The read runs now, on another thread, and sees those; then two more come.
    let done = std::thread::spawn(move || read.run()).join().unwrap();
    let more = vec![intake("n0"), other("o10")];
    s.apply_batch(more, now_us()).unwrap();
    s.scope_built(done);
    let now = domain::time::now_ms();
    let got = s.kpi_figures("321102", now).expect("summed");
    assert_eq!((got.total, got.resolved, got.open), (10, 1, 9));
    let all: Vec<Ticket> = s.tickets().values().map(|t| (**t).clone()).collect();
    let brute = Kpis::recompute(all.iter().filter(|t| t.grid.starts_with("321102")), now);
    assert_eq!(got, brute.figures(now));
    // And kept up from here.
    s.apply_batch(vec![intake("n1")], now_us()).unwrap();
    assert_eq!(s.kpi_figures("321102", now).unwrap().total, 11);
}
