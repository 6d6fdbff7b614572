//! Issue 26's second pass over the trust boundary, over real sockets: what a stranger, a
//! town's credential or a flood can and cannot do (README, "Threat model", names these).

mod common;

use std::time::{Duration, Instant};

use yiping::protocol::{
    ClientMsg, Command, CommandOutcome, ErrorCode, Incident, NewWarning, ServerMsg, WarningKind,
    WarningLevel, examples,
};

use common::*;

fn ok(o: &CommandOutcome) -> bool {
    matches!(o, CommandOutcome::Ok { .. })
}

/// A hello or a command naming a field twice is refused: two parsers reading the same
/// bytes differently is how a wrong token could be let in as the right one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_twice_in_a_hello_or_a_command_is_refused() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let g = Gw::start().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}", g.ws_addr))
        .await
        .unwrap();
    let hello = format!(r#"{{"type":"hello","protocol":1,"token":"wrong","token":"{OP}"}}"#);
    ws.send(Message::Text(hello.into())).await.unwrap();
    expect_error(&mut ws, ErrorCode::BadHello, "twice").await;
    let mut op = g.client(OP).await;
    let twice = r#"{"type":"command","key":"k1","command":{"op":"accept","ticket":1,"ticket":2}}"#;
    op.send(Message::Text(twice.into())).await.unwrap();
    expect_error(&mut op, ErrorCode::BadMessage, "twice").await;
    g.shutdown().await;
}

/// After five wrong tokens from one address, each further try waits, and is refused
/// before any look-up, over HTTP as over the WebSocket; a known token from that address
/// (a wall reconnecting behind the same NAT) never waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_back_off_by_address() {
    let g = Gw::start().await;
    let ticket = serde_json::to_string(&examples::new_ticket()).unwrap();
    for i in 0..5 {
        let (st, _) = http(
            g.http_addr,
            "POST",
            "/api/tickets",
            &format!("wrong-{i}-xxxxxxxx"),
            &ticket,
        )
        .await;
        assert_eq!(st, 401, "wrong token {i}");
    }
    let (st, body) = http(
        g.http_addr,
        "POST",
        "/api/tickets",
        "wrong-6-xxxxxxxx",
        &ticket,
    )
    .await;
    assert_eq!(st, 401, "the sixth is still checked: {body}");
    let (st, body) = http(
        g.http_addr,
        "POST",
        "/api/tickets",
        "wrong-7-xxxxxxxx",
        &ticket,
    )
    .await;
    assert_eq!(st, 429, "{body}");
    assert!(
        body.contains("rate_limited") && body.contains("try again"),
        "{body}"
    );
    let mut ws = connect(&g, "wrong-8-xxxxxxxx", None).await;
    expect_error(&mut ws, ErrorCode::RateLimited, "try again").await;
    let mut wall = connect(&g, VIEW, None).await;
    snapshot(&mut wall).await;
    let (st, body) = http(g.http_addr, "POST", "/api/tickets", OP, &ticket).await;
    assert_eq!(st, 201, "{body}");
    g.shutdown().await;
}

/// Past its command budget a credential is refused `rate_limited` and nothing changes;
/// other credentials are not held, and admin credentials are not budgeted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_past_its_command_budget_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.limits.commands_per_minute = 3;
    let g = yiping::gateway::start(cfg).await.unwrap();
    let mut op = connect(&g, OP, None).await;
    let (_, seq, _) = snapshot(&mut op).await;
    let mut seqs = vec![];
    for i in 0..3 {
        let (_, o) = run(&mut op, intake(&format!("b{i}"))).await;
        let CommandOutcome::Ok { seq, .. } = o else {
            panic!("{o:?}")
        };
        seqs.push(seq);
    }
    let (msgs, o) = run(&mut op, intake("b3")).await;
    let CommandOutcome::Refused { code, message } = o else {
        panic!("the fourth was taken")
    };
    assert_eq!(code, ErrorCode::RateLimited, "{message}");
    assert!(message.contains("3 commands a minute"), "{message}");
    assert!(
        msgs.iter().all(|m| !matches!(m, ServerMsg::Delta { .. })),
        "no change went out"
    );
    assert_eq!(seqs, vec![seq + 1, seq + 2, seq + 3]);
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    for i in 0..5 {
        let (_, o) = run(&mut admin, intake(&format!("a{i}"))).await;
        assert!(ok(&o), "admin {i}: {o:?}");
    }
    g.shutdown().await;
}

/// A town's feed sees its own units and the city-wide ones, and of a briefing on a
/// warning across two districts its title and its own part; an audit query for the other
/// district's ticket is answered as for no ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_town_feed_carries_its_units_its_part_of_a_briefing_and_its_own_audit() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    let mut town = yiping::gateway::config::TokenConfig::new(
        "town-viewer-token",
        yiping::gateway::config::Role::Viewer,
        "镇大屏",
    );
    town.region = "321102-01".into();
    cfg.tokens.push(town);
    let g = yiping::gateway::start(cfg).await.unwrap();
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    let unit = |id: &str, area: &str| Command::UpsertUnit {
        unit: yiping::protocol::Unit {
            id: id.into(),
            area: area.into(),
            ..examples::unit()
        },
    };
    for (k, c) in [
        ("u1", unit("U-mine", "321102-01")),
        ("u2", unit("U-theirs", "321111-02")),
        ("u3", unit("U-city", "")),
    ] {
        let (_, o) = run(&mut admin, cmd(k, c)).await;
        assert!(ok(&o), "{o:?}");
    }
    let mut ids = vec![];
    for (k, grid) in [("t1", "321102-01-003-005"), ("t2", "321111-02-001-001")] {
        let mut t = examples::new_ticket();
        t.grid = grid.into();
        let (_, o) = run(&mut admin, cmd(k, Command::Intake { ticket: t })).await;
        let CommandOutcome::Ok { id: Some(id), .. } = o else {
            panic!("{o:?}")
        };
        ids.push(id);
    }
    let warning = NewWarning {
        level: WarningLevel::Red,
        kind: WarningKind::Flood,
        title: "暴雨内涝".into(),
        grids: vec!["321102-01-003-005".into(), "321111-02-001-001".into()],
        tickets: ids.clone(),
        cap_refs: vec![],
        expires_ms: None,
    };
    let (msgs, o) = run(&mut admin, cmd("w", Command::RaiseWarning { warning })).await;
    assert!(ok(&o), "{o:?}");
    let CommandOutcome::Ok { id: Some(w), .. } = o else {
        panic!("{msgs:?}")
    };
    let (_, o) = run(
        &mut admin,
        cmd(
            "b",
            Command::StartBriefing {
                incident: Incident::Warning { id: w },
            },
        ),
    )
    .await;
    assert!(ok(&o), "{o:?}");

    let mut t = tokio_tungstenite::connect_async(format!("ws://{}", g.ws_addr))
        .await
        .unwrap()
        .0;
    say(
        &mut t,
        &yiping::wire::hello("town-viewer-token", None, None),
    )
    .await;
    let ServerMsg::Snapshot(s) = next_real(&mut t).await else {
        panic!("no snapshot")
    };
    let mut units: Vec<&str> = s.units.iter().map(|u| u.id.as_str()).collect();
    units.sort();
    assert_eq!(units, ["U-city", "U-mine"]);
    let b = s.briefing.expect("a briefing runs");
    assert_eq!(b.title, "暴雨内涝");
    assert_eq!(b.tickets, vec![ids[0]]);
    assert_eq!(b.grids, vec!["321102-01-003-005".to_string()]);
    // The other district's trail is as unknown to it as a ticket that never was.
    say(&mut t, &ClientMsg::AuditQuery { ticket: ids[1] }).await;
    expect_error(&mut t, ErrorCode::UnknownTicket, "region").await;
    say(&mut t, &ClientMsg::AuditQuery { ticket: ids[0] }).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no audit answer");
        if let ServerMsg::Audit { ticket, entries } = next_real(&mut t).await {
            assert_eq!(ticket, ids[0]);
            assert!(!entries.is_empty());
            break;
        }
    }
    g.shutdown().await;
}

/// What panicked a task once (a time cut inside a character) gets a 400 that says why;
/// a CAP post without a token is refused at its headers, its body never read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http_input_gets_a_clear_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let g = Gw::start().await;
    let q = "/open311/v2/requests.json?api_key=viewer-token&start_date=2026-01-01T08:00:0%E4%B8%AD%2B08:00";
    let (st, body) = http(g.http_addr, "GET", q, "", "").await;
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("start_date"), "{body}");
    // Headers promising 10 MB, no token, no body sent: answered 401 at once.
    let mut s = tokio::net::TcpStream::connect(g.http_addr).await.unwrap();
    s.write_all(b"POST /cap/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/cap+xml\r\nContent-Length: 10000000\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut head))
        .await
        .expect("answered before any body")
        .unwrap();
    assert_eq!(&head[9..12], b"401");
    g.shutdown().await;
}

/// Every example PROTOCOL.md gives of a new ticket, a warning and a unit is taken by a
/// gateway with the shipped config's area and grid layer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_examples_are_taken_by_the_shipped_config() {
    let shipped =
        yiping::gateway::config::GatewayConfig::load(std::path::Path::new("config/gateway.toml"))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.area = shipped.area.clone();
    let g = yiping::gateway::start(cfg).await.unwrap();
    let ticket = serde_json::to_string(&examples::new_ticket()).unwrap();
    let (st, body) = http(g.http_addr, "POST", "/api/tickets", OP, &ticket).await;
    assert_eq!(st, 201, "the intake example: {body}");
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    let mut taken = 0;
    for (name, msg) in examples::client_messages() {
        let ClientMsg::Command { command, .. } = &msg else {
            continue;
        };
        if !matches!(
            command,
            Command::Intake { .. } | Command::RaiseWarning { .. } | Command::UpsertUnit { .. }
        ) {
            continue;
        }
        let (_, o) = run(&mut admin, msg.clone()).await;
        assert!(ok(&o), "PROTOCOL.md's {name}: {o:?}");
        taken += 1;
    }
    assert!(taken >= 3, "{taken}");
    // A refusal as `forbidden` is HTTP 403, as the error table says (an operator's
    // intake with a time of its own is an import's, an admin's).
    let mut dated = examples::new_ticket();
    dated.created_ms = Some(1_767_225_600_000);
    let dated = serde_json::to_string(&dated).unwrap();
    let (st, body) = http(g.http_addr, "POST", "/api/tickets", OP, &dated).await;
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("forbidden"), "{body}");
    g.shutdown().await;
}

/// A rewind is a client like any other: one per credential at a time, and revoking the
/// credential ends it within a heartbeat or two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewind_is_one_per_credential_and_ends_with_its_credential() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let db = cfg.database.clone();
    let g = yiping::gateway::start(cfg).await.unwrap();
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    let (_, o) = run(&mut op, intake("r1")).await;
    assert!(ok(&o), "{o:?}");
    let token = token_of(&account_cli(
        &db,
        &["add", "--name", "回看大屏", "--role", "viewer"],
    ));
    let ask = yiping::protocol::RewindAsk {
        from_ms: yiping::domain::time::now_ms() - 60_000,
        speed: 1.0,
    };
    let rewind = || async {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}", g.ws_addr))
            .await
            .unwrap();
        say(
            &mut ws,
            &yiping::wire::rewind_hello(&token, None, ask.clone()),
        )
        .await;
        ws
    };
    // The gateway reads the accounts again at its next heartbeat.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut first = rewind().await;
    let m = next_real(&mut first).await;
    assert!(
        matches!(m, ServerMsg::Snapshot(_)),
        "the rewind did not start: {m:?}"
    );
    let mut second = rewind().await;
    expect_error(&mut second, ErrorCode::Unavailable, "one at a time").await;
    account_cli(&db, &["revoke", "回看大屏"]);
    let t0 = Instant::now();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), next_real(&mut first))
            .await
            .expect("word of the revocation");
        if let ServerMsg::Error { code, message } = m {
            assert_eq!(code, ErrorCode::Unauthorized, "{message}");
            assert!(message.contains("revoked"), "{message}");
            break;
        }
    }
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    g.shutdown().await;
}
