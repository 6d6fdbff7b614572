//! Roll-ups against a recount, region ids, ratings and micro-grid placement.

use super::*;
use protocol::examples;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

#[test]
fn region_ids_climb_by_prefix() {
    assert_eq!(
        regions_of("321102-01-003"),
        vec!["", "321102", "321102-01", "321102-01-003"]
    );
    assert_eq!(regions_of(""), vec![""]);
    assert_eq!(depth("321102-01-003-07-2"), 5);
    assert_eq!(parent("321102-01"), Some("321102"));
    assert_eq!(parent("321102"), Some(""));
    assert_eq!(parent(""), None);
}

const NOW: i64 = 1_795_000_000_000;

/// `n` grids over three districts of `towns` towns of `villages` villages, and their
/// index (`index`).
fn city(n: usize, towns: usize, villages: usize) -> (Vec<String>, RegionIndex) {
    let grids: Vec<String> = (0..n)
        .map(|i| {
            let (t, v) = (i % towns, i % villages);
            format!("3211{:02}-{:02}-{:03}-{:03}", i % 3, t, v, i)
        })
        .collect();
    let ix = index(&grids);
    (grids, ix)
}

/// Two micro-grids per grid: the west and east halves of a 1 km square at the grid's
/// index along x.
fn index(grids: &[String]) -> RegionIndex {
    let proj = Projection::new(119.0, 32.0);
    let mut ix = RegionIndex {
        proj: Some(proj),
        ..Default::default()
    };
    for (i, g) in grids.iter().enumerate() {
        let x0 = i as f32 * 10.0;
        let half = |k: f32| {
            let a = x0 + k * 0.5;
            vec![
                Vec2::new(a, 0.0),
                Vec2::new(a + 0.5, 0.0),
                Vec2::new(a + 0.5, 1.0),
                Vec2::new(a, 1.0),
            ]
        };
        ix.micro.insert(
            g.clone(),
            (0..2)
                .map(|k| MicroCell {
                    id: format!("{g}-{}", k + 1),
                    center: Vec2::new(x0 + 0.25 + k as f32 * 0.5, 0.5),
                    rings: vec![half(k as f32)],
                })
                .collect(),
        );
    }
    ix
}

#[test]
fn every_level_is_the_sum_of_the_one_below() {
    let (grids, ix) = city(40, 5, 7);
    let proj = ix.proj.unwrap();
    let mut rng = SmallRng::seed_from_u64(5);
    let now = NOW;
    let mut r = RollUps::default();
    r.clear(now);
    let statuses = [
        TicketStatus::Received,
        TicketStatus::Assigned,
        TicketStatus::Accepted,
        TicketStatus::InProgress,
        TicketStatus::Returned,
        TicketStatus::Resolved,
    ];
    // 2,000 changes to 300 tickets, the clock moving on, some leaving the mirror.
    for step in 0..2000 {
        let id = rng.random_range(1..=300u64);
        if rng.random_bool(0.1) {
            r.set_ticket(id, None, &ix);
            continue;
        }
        let gi = rng.random_range(0..grids.len());
        // Somewhere in the grid's 10 x 1 km strip, sometimes outside both halves.
        let x = gi as f64 * 10.0 + rng.random_range(-0.2..1.4);
        let y = rng.random_range(0.0..1.0);
        let t = Ticket {
            id,
            grid: grids[gi].clone(),
            lon: proj.lon0 + x / (111.32 * proj.lat0.to_radians().cos()),
            lat: proj.lat0 + y / 110.57,
            status: statuses[rng.random_range(0..statuses.len())],
            priority: if rng.random_bool(0.3) {
                Priority::Urgent
            } else {
                Priority::Normal
            },
            deadline_ms: now + rng.random_range(-1000..100_000),
            ..examples::ticket()
        };
        r.set_ticket(id, Some(&t), &ix);
        r.advance(now + step * 50);
    }
    let mut w = examples::warning();
    w.grids = vec![grids[3].clone()];
    w.level = WarningLevel::Orange;
    r.set_warnings([&w].into_iter());
    // Every region with children: open, urgent and each bucket add up.
    let mut children: HashMap<&str, Vec<&Roll>> = HashMap::new();
    for (id, roll) in r.iter() {
        if let Some(p) = parent(id) {
            children.entry(p).or_default().push(roll);
        }
    }
    assert!(
        children.len() > 40,
        "grids, villages, towns, districts, city"
    );
    for (p, kids) in &children {
        let mut sum = Roll::default();
        for k in kids {
            sum.open += k.open;
            sum.urgent += k.urgent;
            for b in 0..BUCKETS {
                sum.buckets[b] += k.buckets[b];
            }
        }
        let me = r.get(p);
        assert_eq!(
            (me.open, me.urgent, me.buckets),
            (sum.open, sum.urgent, sum.buckets),
            "{p:?}"
        );
        assert_eq!(me.buckets.iter().sum::<u32>(), me.open);
        // Warnings name grids: above the grid, the worst is the worst below.
        if depth(p) < 4 {
            let worst = kids.iter().filter_map(|k| k.worst).min();
            assert_eq!(me.worst, worst, "{p:?}: the worst warning below it");
        }
    }
    assert!(
        r.get("").overdue() > 0,
        "the clock moved tickets into overdue"
    );
    assert_eq!(r.get("").worst, Some(WarningLevel::Orange));
    // And the city equals a recount of the open tickets.
    let open = r.parts.len() as u32;
    assert_eq!(r.get("").open, open);
}

#[test]
fn a_snapshot_taken_in_bulk_rolls_up_as_one_taken_ticket_by_ticket() {
    let (grids, ix) = city(30, 4, 6);
    let proj = ix.proj.unwrap();
    let mut rng = SmallRng::seed_from_u64(9);
    let now = NOW;
    let statuses = [
        TicketStatus::Received,
        TicketStatus::Assigned,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
    ];
    // 500 tickets, some twice (a part repeating a ticket is taken as a change).
    let tickets: Vec<Ticket> = (0..600)
        .map(|k| {
            let gi = rng.random_range(0..grids.len());
            let x = gi as f64 * 10.0 + rng.random_range(0.0..1.0);
            Ticket {
                id: if k < 500 {
                    k + 1
                } else {
                    rng.random_range(1..=500)
                },
                grid: grids[gi].clone(),
                lon: proj.lon0 + x / (111.32 * proj.lat0.to_radians().cos()),
                lat: proj.lat0 + 0.5 / 110.57,
                status: statuses[rng.random_range(0..statuses.len())],
                priority: if rng.random_bool(0.3) {
                    Priority::Urgent
                } else {
                    Priority::Normal
                },
                deadline_ms: now + rng.random_range(-50_000..50_000),
                ..examples::ticket()
            }
        })
        .collect();
    let (mut bulk, mut one) = (RollUps::default(), RollUps::default());
    bulk.clear(now);
    one.clear(now);
    bulk.begin_bulk();
    for t in &tickets {
        bulk.set_ticket(t.id, Some(t), &ix);
        one.set_ticket(t.id, Some(t), &ix);
    }
    bulk.end_bulk();
    let all = |r: &RollUps| {
        let mut v: Vec<(String, u32, u32, [u32; BUCKETS])> = r
            .iter()
            .map(|(id, x)| (id.to_string(), x.open, x.urgent, x.buckets))
            .collect();
        v.sort();
        v
    };
    assert!(bulk.get("").open > 0);
    assert_eq!(all(&bulk), all(&one));
    assert_eq!(bulk.tickets(), one.tickets());
    // And as the clock moves on, tickets turn overdue alike.
    bulk.advance(now + 60_000);
    one.advance(now + 60_000);
    assert_eq!(all(&bulk), all(&one));
    assert_eq!(bulk.get("").overdue(), one.get("").overdue());
}

#[test]
fn ratings_follow_load_per_grid_and_warnings() {
    let one = |open, urgent, overdue| Roll {
        open,
        urgent,
        buckets: [open - overdue, 0, 0, overdue],
        worst: None,
        alarm: false,
    };
    assert_eq!(rating(&one(0, 0, 0), 1), Rating::Green);
    assert_eq!(rating(&one(1, 0, 0), 1), Rating::Yellow);
    assert_eq!(rating(&one(1, 1, 0), 1), Rating::Orange);
    assert_eq!(rating(&one(1, 0, 1), 1), Rating::Red);
    assert_eq!(rating(&one(30, 0, 0), 100), Rating::Yellow);
    let mut warned = one(0, 0, 0);
    warned.worst = Some(WarningLevel::Red);
    assert_eq!(rating(&warned, 500), Rating::Red);
}
