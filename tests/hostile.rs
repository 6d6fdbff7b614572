//! The gateway on a hostile network, over real sockets: connections that never finish,
//! slow and oversized HTTP, an idle flood under a low open-file limit, frames that break
//! the WebSocket protocol, and commands that try the decoder's and the store's edges.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly where it stands

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream as StdTcp};
use std::time::{Duration, Instant};

use yiping::protocol::{ClientMsg, Command, CommandOutcome, ErrorCode, ServerMsg, examples};

mod common;

use common::*;

/// Read from a blocking socket until it is closed (or `limit` passes); returns how long
/// the peer took to close it, or `None` if it was still open at the limit.
fn closed_within(s: &mut StdTcp, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while t0.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return Some(t0.elapsed()),
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(t0.elapsed()),
        }
    }
    None
}

fn quick(dir: &tempfile::TempDir) -> yiping::gateway::config::GatewayConfig {
    let mut cfg = config(dir);
    cfg.limits.hello_timeout_s = 1;
    cfg.limits.http_header_timeout_s = 1;
    cfg.limits.http_body_timeout_s = 1;
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_upgrade_or_say_hello_are_closed_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let g = yiping::gateway::start(quick(&dir)).await.unwrap();
    let addr = g.ws_addr;
    let results = tokio::task::spawn_blocking(move || {
        let mut socks = vec![];
        for kind in 0..30 {
            let mut s = StdTcp::connect(addr).unwrap();
            match kind % 3 {
                // Nothing at all.
                0 => {}
                // Half an upgrade request.
                1 => s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n").unwrap(),
                // A whole upgrade, then no hello.
                _ => s
                    .write_all(
                        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    )
                    .unwrap(),
            }
            socks.push(s);
        }
        socks
            .iter_mut()
            .map(|s| closed_within(s, Duration::from_secs(5)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (i, r) in results.iter().enumerate() {
        let t = r.unwrap_or_else(|| panic!("connection {i} still open after 5 s"));
        assert!(
            t < Duration::from_millis(2500),
            "connection {i} closed after {t:?}"
        );
    }
    // And an honest client still gets in.
    let mut ws = connect(&g, VIEW, None).await;
    snapshot(&mut ws).await;
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_or_idle_http_is_closed_and_a_body_is_not_read_before_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let g = yiping::gateway::start(quick(&dir)).await.unwrap();
    let addr = g.http_addr;
    tokio::task::spawn_blocking(move || {
        // One header line every 400 ms: closed once the head's second is up.
        let mut slow = StdTcp::connect(addr).unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
        let t0 = Instant::now();
        let mut closed = false;
        for i in 0..10 {
            std::thread::sleep(Duration::from_millis(400));
            if slow.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes()).is_err() {
                closed = true;
                break;
            }
        }
        let closed = closed || closed_within(&mut slow, Duration::from_secs(2)).is_some();
        assert!(closed, "a slow head is still open after {:?}", t0.elapsed());
        // An idle connection that never sends a request.
        let mut idle = StdTcp::connect(addr).unwrap();
        let t = closed_within(&mut idle, Duration::from_secs(5)).expect("idle connection closed");
        assert!(t < Duration::from_millis(2500), "idle connection closed after {t:?}");
        // A big body without a token: refused at once, without waiting for the body.
        let mut big = StdTcp::connect(addr).unwrap();
        big.write_all(
            b"POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1900000\r\n\r\n{\"a\":",
        )
        .unwrap();
        big.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut head = [0u8; 12];
        big.read_exact(&mut head).expect("an answer before the body");
        assert_eq!(&head[9..12], b"401", "{}", String::from_utf8_lossy(&head));
        // With a token, a body past the limit is refused as it comes, not buffered.
        let mut over = StdTcp::connect(addr).unwrap();
        over.write_all(
            format!(
                "POST /api/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OP}\r\nContent-Length: 1900000\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        let chunk = vec![b' '; 100_000];
        for _ in 0..3 {
            if over.write_all(&chunk).is_err() {
                break;
            }
        }
        over.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut head = [0u8; 12];
        over.read_exact(&mut head).expect("an answer before the whole body");
        assert_eq!(&head[9..12], b"413", "{}", String::from_utf8_lossy(&head));
        // With a token, a body that stops coming: 408 once its second is up.
        let mut stalled = StdTcp::connect(addr).unwrap();
        stalled
            .write_all(
                format!(
                    "POST /api/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OP}\r\nContent-Length: 100\r\n\r\n{{\"chan"
                )
                .as_bytes(),
            )
            .unwrap();
        stalled.set_read_timeout(Some(Duration::from_secs(4))).unwrap();
        let mut out = String::new();
        let _ = stalled.read_to_string(&mut out);
        assert!(out.starts_with("HTTP/1.1 408"), "{out}");
        assert!(out.contains("\"timeout\""), "{out}");
    })
    .await
    .unwrap();
    g.shutdown().await;
}

/// A bare HTTP request on its own connection; returns (status, body).
pub(crate) fn http_raw(addr: SocketAddr, req: &str) -> (u16, String) {
    let mut s = StdTcp::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).to_string();
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_belong_to_the_credential_that_sent_them() {
    let g = Gw::start().await;
    let mut op = g.client(OP).await;
    let mut admin = g.client(ADMIN).await;
    let (_, a) = run(&mut op, intake("same-key")).await;
    let (_, b) = run(&mut admin, intake("same-key")).await;
    let (CommandOutcome::Ok { id: Some(a), .. }, CommandOutcome::Ok { id: Some(b), .. }) = (a, b)
    else {
        panic!("both intakes apply")
    };
    assert_ne!(
        a, b,
        "the admin's command is its own, not the operator's result"
    );
    // The operator's own repeat is still the first result.
    let (_, again) = run(&mut op, intake("same-key")).await;
    assert!(matches!(again, CommandOutcome::Ok { id: Some(x), .. } if x == a));
    // A key that is not visible ASCII is a 400, never silently ignored.
    let body = serde_json::to_string(&examples::new_ticket()).unwrap();
    let addr = g.http_addr;
    let (status, text) = tokio::task::spawn_blocking(move || {
        http_raw(
            addr,
            &format!(
                "POST /api/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OP}\r\nIdempotency-Key: 键\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("Idempotency-Key"), "{text}");
    let (_, _, n) = snapshot(&mut connect(&g, VIEW, None).await).await;
    assert_eq!(n, 2, "the refused request took nothing in");
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decoder_and_the_store_refuse_what_is_not_documented() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    // The city's grids: one layer with the example's grid only.
    let grids = dir.path().join("grids.geojson");
    std::fs::write(
        &grids,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"321102-01-003-005"},
            "geometry":{"type":"Polygon","coordinates":[[[119.4,32.1],[119.5,32.1],[119.5,32.2],[119.4,32.1]]]}}]}"#,
    )
    .unwrap();
    cfg.area.grids = Some(grids);
    let g = yiping::gateway::start(cfg).await.unwrap();
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    // An integer for a tag, an unknown field: bad_message, nothing applied.
    for raw in [
        r#"{"type":"command","key":"k1","command":{"op":0,"ticket":{}}}"#,
        r#"{"type":"command","key":"k2","command":{"op":"accept","ticket":1,"x":1}}"#,
    ] {
        say_raw(&mut op, raw).await;
        match next_real(&mut op).await {
            ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::BadMessage, "{raw}"),
            other => panic!("{raw}: {other:?}"),
        }
    }
    let refused = |o: &CommandOutcome| match o {
        CommandOutcome::Refused { code, message } => (*code, message.clone()),
        other => panic!("applied: {other:?}"),
    };
    // Control characters, a grid the city does not have, a backdated ticket.
    let mut t = examples::new_ticket();
    t.title = "漏水\u{0}".into();
    let (_, o) = run(&mut op, cmd("c1", Command::Intake { ticket: t })).await;
    assert_eq!(refused(&o).0, ErrorCode::Invalid, "{o:?}");
    let mut t = examples::new_ticket();
    t.grid = "321102-99-999-99".into();
    let (_, o) = run(&mut op, cmd("c2", Command::Intake { ticket: t })).await;
    assert!(
        refused(&o).1.contains("not one of the city's grids"),
        "{o:?}"
    );
    // A warning may name a district (the grid's first part), not a made-up region.
    let warning = |grids: &[&str]| Command::RaiseWarning {
        warning: yiping::protocol::NewWarning {
            level: yiping::protocol::WarningLevel::Red,
            kind: yiping::protocol::WarningKind::Flood,
            title: "暴雨内涝红色预警".into(),
            grids: grids.iter().map(|g| g.to_string()).collect(),
            tickets: vec![],
            cap_refs: vec![],
            expires_ms: None,
        },
    };
    let (_, o) = run(&mut op, cmd("w1", warning(&["3211"]))).await;
    let (code, message) = refused(&o);
    assert_eq!(code, ErrorCode::Invalid);
    assert!(message.contains("none of the city's regions"), "{message}");
    let (_, o) = run(&mut op, cmd("w2", warning(&["321102"]))).await;
    assert!(matches!(o, CommandOutcome::Ok { .. }), "{o:?}");
    let mut t = examples::new_ticket();
    t.created_ms = Some(0);
    let (_, o) = run(&mut op, cmd("c3", Command::Intake { ticket: t.clone() })).await;
    assert_eq!(
        refused(&o).0,
        ErrorCode::Forbidden,
        "an operator cannot backdate"
    );
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    for at in [0, i64::MAX, i64::MIN] {
        t.created_ms = Some(at);
        let (_, o) = run(
            &mut admin,
            cmd(&format!("c4-{at}"), Command::Intake { ticket: t.clone() }),
        )
        .await;
        assert!(refused(&o).1.contains("created_ms"), "{at}: {o:?}");
    }
    let (_, o) = run(&mut op, intake("fine")).await;
    assert!(matches!(o, CommandOutcome::Ok { .. }), "{o:?}");
    let (_, _, n) = snapshot(&mut connect(&g, VIEW, None).await).await;
    assert_eq!(n, 1, "only the documented intake was taken in");
    g.shutdown().await;
}

async fn say_raw(ws: &mut Ws, text: &str) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
        .await
        .unwrap();
}

/// A WebSocket client by hand, to send what a library would not: the upgrade, then
/// frames as given.
struct RawWs(StdTcp);

impl RawWs {
    fn open(addr: SocketAddr) -> RawWs {
        let mut s = StdTcp::connect(addr).unwrap();
        s.write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).unwrap();
            head.push(b[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        RawWs(s)
    }

    /// A frame with FIN, `opcode`, the payload masked unless `unmasked`.
    fn frame(&mut self, opcode: u8, payload: &[u8], unmasked: bool) {
        let mut f = vec![0x80 | opcode];
        let mask_bit = if unmasked { 0 } else { 0x80 };
        match payload.len() {
            n if n < 126 => f.push(mask_bit | n as u8),
            n if n < 65536 => {
                f.push(mask_bit | 126);
                f.extend((n as u16).to_be_bytes());
            }
            n => {
                f.push(mask_bit | 127);
                f.extend((n as u64).to_be_bytes());
            }
        }
        if unmasked {
            f.extend(payload);
        } else {
            let key = [0x12, 0x34, 0x56, 0x78];
            f.extend(key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        let _ = self.0.write_all(&f);
    }

    fn hello(&mut self) {
        let hello = serde_json::to_vec(&yiping::wire::hello(VIEW, None, None)).unwrap();
        self.frame(0x1, &hello, false);
    }

    /// Skip data frames until a close frame; its status code (`None`: closed without one).
    fn close_code(&mut self) -> Option<u16> {
        self.0
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        loop {
            let mut h = [0u8; 2];
            self.0.read_exact(&mut h).ok()?;
            let mut len = (h[1] & 0x7f) as u64;
            if len == 126 {
                let mut l = [0u8; 2];
                self.0.read_exact(&mut l).ok()?;
                len = u16::from_be_bytes(l) as u64;
            } else if len == 127 {
                let mut l = [0u8; 8];
                self.0.read_exact(&mut l).ok()?;
                len = u64::from_be_bytes(l);
            }
            let mut payload = vec![0u8; len as usize];
            self.0.read_exact(&mut payload).ok()?;
            if h[0] & 0x0f == 0x8 {
                return (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_violations_close_with_the_rfc_6455_codes_and_a_close_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.limits.hard_frame_bytes = 8192;
    let g = yiping::gateway::start(cfg).await.unwrap();
    let addr = g.ws_addr;
    tokio::task::spawn_blocking(move || {
        // Text that is not UTF-8: 1007.
        let mut w = RawWs::open(addr);
        w.hello();
        w.frame(0x1, &[0xff, 0xfe, 0xfd], false);
        assert_eq!(w.close_code(), Some(1007));
        // A message over the hard limit: 1009.
        let mut w = RawWs::open(addr);
        w.hello();
        w.frame(0x1, &vec![b' '; 9000], false);
        assert_eq!(w.close_code(), Some(1009));
        // A client frame without a mask: 1002.
        let mut w = RawWs::open(addr);
        w.hello();
        w.frame(0x1, b"{}", true);
        assert_eq!(w.close_code(), Some(1002));
        // The same before the hello.
        let mut w = RawWs::open(addr);
        w.frame(0x1, &[0xc3, 0x28], false);
        assert_eq!(w.close_code(), Some(1007));
        // A bad token: 1008 (policy).
        let mut w = RawWs::open(addr);
        let hello = br#"{"type":"hello","protocol":1,"token":"nobody-at-all"}"#;
        w.frame(0x1, hello, false);
        assert_eq!(w.close_code(), Some(1008));
        // The client closes: the gateway answers with a close of its own.
        let mut w = RawWs::open(addr);
        w.hello();
        w.frame(0x8, &1000u16.to_be_bytes(), false);
        assert_eq!(w.close_code(), Some(1000));
    })
    .await
    .unwrap();
    g.shutdown().await;
}

#[test]
fn an_idle_flood_under_a_low_open_file_limit_locks_out_no_wall_and_not_healthz() {
    // The test process holds the flood's sockets itself: it needs more than the
    // gateway's 1,024.
    yiping::gateway::admission::raise_open_files();
    let dir = tempfile::tempdir().unwrap();
    // The gateway in a process of its own with 1,024 open files, soft and hard.
    let extra = "[limits]\nhello_timeout_s = 30\nhttp_header_timeout_s = 30\n";
    let (mut child, ws, http) = gateway_process(dir.path(), "ulimit -n 1024 && ", extra);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // A wall joins before the flood.
        let mut before = connect_to(ws, VIEW, None).await;
        snapshot(&mut before).await;
        // 1,100 connections that say nothing, to each port.
        let mut flood = vec![];
        for _ in 0..1100 {
            flood.push(tokio::net::TcpStream::connect(ws).await.unwrap());
            flood.push(tokio::net::TcpStream::connect(http).await.unwrap());
        }
        // The wall that was there still hears its heartbeats.
        let t0 = Instant::now();
        loop {
            if matches!(next(&mut before).await, ServerMsg::Heartbeat { .. }) {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(5), "no heartbeat");
        }
        // A new wall gets in and gets its snapshot; /healthz answers.
        let mut after = connect_to(ws, VIEW, None).await;
        snapshot(&mut after).await;
        let (status, body) = tokio::task::spawn_blocking(move || {
            http_raw(
                http,
                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
        })
        .await
        .unwrap();
        assert_eq!(status, 200, "{body}");
        drop(flood);
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn kill_9_during_heavy_intake_loses_no_acknowledged_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut acknowledged: Vec<u64> = vec![];
    let mut sent = 0;
    for round in 0..3 {
        let (mut child, ws, _) = gateway_process(dir.path(), "", "");
        let got = rt.block_on(async {
            // As fast as the socket takes them: a system's pace (admin: no command budget).
            let mut op = connect_to(ws, ADMIN, None).await;
            let (_, _, n) = snapshot(&mut op).await;
            // Committed but not yet answered when killed: in the file, not acknowledged.
            assert!(
                n >= acknowledged.len(),
                "round {round}: {n} tickets, {} acknowledged",
                acknowledged.len()
            );
            // Intakes as fast as the socket takes them; read the answers as they come.
            let (mut tx, mut rx) = futures_util::StreamExt::split(op);
            let writer = tokio::spawn(async move {
                use futures_util::SinkExt;
                let mut k = 0u64;
                loop {
                    let msg = serde_json::to_string(&intake(&format!("r{round}-{k}"))).unwrap();
                    if tx
                        .send(tokio_tungstenite::tungstenite::Message::Text(msg.into()))
                        .await
                        .is_err()
                    {
                        return k;
                    }
                    k += 1;
                }
            });
            let mut ok = vec![];
            let t0 = Instant::now();
            let mut killed = false;
            loop {
                if !killed && t0.elapsed() > Duration::from_millis(700) {
                    // kill -9: no shutdown, no flush but what was committed.
                    child.kill().unwrap();
                    killed = true;
                }
                match tokio::time::timeout(
                    Duration::from_secs(3),
                    futures_util::StreamExt::next(&mut rx),
                )
                .await
                {
                    Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => {
                        if let Ok(ServerMsg::CommandResult {
                            outcome: CommandOutcome::Ok { id: Some(id), .. },
                            ..
                        }) = serde_json::from_str::<ServerMsg>(&t)
                        {
                            ok.push(id);
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    _ => break,
                }
            }
            let k = writer.await.unwrap_or(0);
            (ok, k)
        });
        let _ = child.wait();
        assert!(
            got.0.len() > 10,
            "round {round}: only {} acknowledged",
            got.0.len()
        );
        sent += got.1;
        acknowledged.extend(got.0);
    }
    // After the last kill: every ticket ever acknowledged is in the file.
    let (mut child, ws, _) = gateway_process(dir.path(), "", "");
    rt.block_on(async {
        let mut v = connect_to(ws, VIEW, None).await;
        let mut ids = std::collections::BTreeSet::new();
        loop {
            match next_real(&mut v).await {
                ServerMsg::Snapshot(s) => {
                    ids.extend(s.tickets.iter().map(|t| t.id));
                    if s.last {
                        break;
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        let lost: Vec<_> = acknowledged.iter().filter(|id| !ids.contains(id)).collect();
        assert!(
            lost.is_empty(),
            "lost {} of {} acknowledged: {lost:?}",
            lost.len(),
            acknowledged.len()
        );
        eprintln!(
            "kill -9 x3: {} intakes sent, {} acknowledged, {} in the file, 0 lost",
            sent,
            acknowledged.len(),
            ids.len()
        );
    });
    let _ = child.kill();
    let _ = child.wait();
}

/// `yiping account …` on a database; returns what it printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_scoped_to_a_region_a_unit_acts_on_its_own_and_revocation_needs_no_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let db = cfg.database.clone();
    let town = token_of(&account_cli(
        &db,
        &[
            "add",
            "--name",
            "大港街道值班员",
            "--role",
            "operator",
            "--region",
            "321102-01",
        ],
    ));
    let unit = token_of(&account_cli(
        &db,
        &[
            "add",
            "--name",
            "调解员终端",
            "--role",
            "unit",
            "--unit",
            "U-321102-01-mediator",
        ],
    ));
    assert!(
        town.starts_with("yp1.") && unit.starts_with("yp1."),
        "{town} {unit}"
    );
    let stored = std::fs::read(&db).unwrap();
    assert!(
        !stored.windows(town.len()).any(|w| w == town.as_bytes()),
        "a token is never stored as it is"
    );
    let g = yiping::gateway::start(cfg).await.unwrap();
    // The city admin registers the unit and takes in one ticket in the town, one outside.
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    run(
        &mut admin,
        cmd(
            "u",
            Command::UpsertUnit {
                unit: examples::unit(),
            },
        ),
    )
    .await;
    let (_, inside) = run(&mut admin, intake("in")).await;
    let mut far = examples::new_ticket();
    far.grid = "321111-02-001-01".into();
    let (_, outside) = run(&mut admin, cmd("out", Command::Intake { ticket: far })).await;
    let (
        CommandOutcome::Ok {
            id: Some(inside), ..
        },
        CommandOutcome::Ok {
            id: Some(outside), ..
        },
    ) = (inside, outside)
    else {
        panic!("both taken in")
    };
    let refused = |o: &CommandOutcome| {
        matches!(
            o,
            CommandOutcome::Refused {
                code: ErrorCode::Forbidden,
                ..
            }
        )
    };

    // The town's operator sees its town only, and commands it only.
    let mut t = connect(&g, &town, None).await;
    let (_, _, n) = snapshot(&mut t).await;
    assert_eq!(n, 1, "the snapshot holds the town's ticket only");
    let (_, o) = run(
        &mut t,
        cmd(
            "t1",
            Command::Supervise {
                ticket: outside,
                note: "x".into(),
                stage: None,
            },
        ),
    )
    .await;
    assert!(refused(&o), "{o:?}");
    let (_, o) = run(
        &mut t,
        cmd(
            "t2",
            Command::Dispatch {
                ticket: inside,
                unit: examples::unit().id,
            },
        ),
    )
    .await;
    assert!(matches!(o, CommandOutcome::Ok { .. }), "{o:?}");
    say(&mut t, &ClientMsg::AuditQuery { ticket: outside }).await;
    loop {
        match next_real(&mut t).await {
            ServerMsg::Error { code, .. } => {
                assert_eq!(code, ErrorCode::UnknownTicket);
                break;
            }
            ServerMsg::Audit { .. } => panic!("another town's trail"),
            _ => {}
        }
    }
    // Its figures are the town's.
    let f = loop {
        if let ServerMsg::Kpis { figures, .. } = next(&mut t).await {
            break figures;
        }
    };
    assert_eq!(f.total, 1, "{f:?}");
    // Asking for a wider region is refused at the hello.
    let mut wide = tokio_tungstenite::connect_async(format!("ws://{}", g.ws_addr))
        .await
        .unwrap()
        .0;
    say(
        &mut wide,
        &yiping::wire::hello(&town, None, Some("321102".into())),
    )
    .await;
    assert!(matches!(
        next(&mut wide).await,
        ServerMsg::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    ));

    // The unit accepts its own ticket, and nothing else.
    let mut u = connect(&g, &unit, None).await;
    snapshot(&mut u).await;
    let (_, o) = run(&mut u, cmd("u1", Command::Accept { ticket: inside })).await;
    assert!(matches!(o, CommandOutcome::Ok { .. }), "{o:?}");
    let (_, o) = run(
        &mut u,
        cmd(
            "u2",
            Command::Escalate {
                ticket: inside,
                reason: "x".into(),
            },
        ),
    )
    .await;
    assert!(refused(&o), "{o:?}");
    let (_, o) = run(&mut u, cmd("u3", Command::Accept { ticket: outside })).await;
    assert!(refused(&o), "{o:?}");

    // Revoked while connected: the session ends within seconds, the token no longer opens one.
    account_cli(&db, &["revoke", "大港街道值班员"]);
    let t0 = Instant::now();
    loop {
        match tokio::time::timeout(
            Duration::from_secs(5),
            futures_util::StreamExt::next(&mut t),
        )
        .await
        {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(m)))) => {
                if m.contains("revoked") {
                    break;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no word of the revocation: {other:?}"),
        }
    }
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let mut again = connect(&g, &town, None).await;
    assert!(matches!(
        next(&mut again).await,
        ServerMsg::Error {
            code: ErrorCode::Unauthorized,
            ..
        }
    ));
    // Rotated: the old token is refused, the new one works.
    let new_unit = token_of(&account_cli(&db, &["rotate", "调解员终端"]));
    // (the gateway takes the change at its next heartbeat: within a second)
    let t0 = Instant::now();
    loop {
        let mut old = connect(&g, &unit, None).await;
        match next(&mut old).await {
            ServerMsg::Error {
                code: ErrorCode::Unauthorized,
                ..
            } => break,
            _ => assert!(
                t0.elapsed() < Duration::from_secs(3),
                "the old token still works"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut new = connect(&g, &new_unit, None).await;
    snapshot(&mut new).await;
    // The access log has it all.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = account_cli(&db, &["log", "--lines", "100"]);
    for want in ["added", "login", "refused", "revoked", "rotated"] {
        assert!(log.contains(want), "no '{want}' in the access log:\n{log}");
    }
    let list = account_cli(&db, &["list"]);
    assert!(
        list.contains("revoked") && list.contains("321102-01"),
        "{list}"
    );
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_and_https_with_the_centers_own_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    let mut cfg = config(&dir);
    cfg.tls = Some(yiping::gateway::config::Tls { cert, key });
    let g = yiping::gateway::start(cfg).await.unwrap();
    let url = format!("wss://{}", g.ws_addr);
    // The feed client (what the wall, the simulator and the recorder use), over wss://.
    let tls = yiping::wire::tls(&ca).unwrap();
    let hello = yiping::wire::hello(VIEW, None, None);
    let mut ws = yiping::wire::open(&url, Some(&tls), &hello).await.unwrap();
    let (_, _, n) = snapshot(&mut ws).await;
    assert_eq!(n, 0);
    // Without the CA: refused in words; with another CA: the handshake fails.
    let e = yiping::wire::open(&url, None, &hello).await.unwrap_err();
    assert!(e.contains("--ca"), "{e}");
    let other = tempfile::tempdir().unwrap();
    let (other_ca, _, _) = make_certs(other.path());
    let wrong = yiping::wire::tls(&other_ca).unwrap();
    assert!(
        yiping::wire::open(&url, Some(&wrong), &hello)
            .await
            .is_err()
    );
    // Plain ws:// to a TLS port gets nowhere.
    let plain = format!("ws://{}", g.ws_addr);
    assert!(yiping::wire::open(&plain, None, &hello).await.is_err());
    // HTTPS: /healthz through rustls with the same CA.
    let tokio_tungstenite::Connector::Rustls(client) = tls else {
        panic!("a rustls connector")
    };
    let tcp = tokio::net::TcpStream::connect(g.http_addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut s = tokio_rustls::TlsConnector::from(client)
        .connect(name, tcp)
        .await
        .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("\"status\":\"ok\""), "{out}");
    g.shutdown().await;
}
