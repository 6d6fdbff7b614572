//! The duty room end to end (issue 29): a roster over HTTP, escalation of an unacknowledged
//! red warning through three people on real WeCom / DingTalk / webhook / SMS stand-ins (a
//! local HTTP server that checks the bodies and DingTalk's signature and fails some calls),
//! acknowledgement by the link in a message, a handover drafted, annotated and signed
//! across a restart, and a daily report whose figures equal the gateway's (read back with
//! pdftotext, drawn with pdftoppm).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use yiping::gateway::config::{Role, TokenConfig};
use yiping::gateway::duty::DutyConfig;
use yiping::gateway::duty::config::{ChannelConfig, ChannelKind};
use yiping::protocol::{
    Command, CommandOutcome, Duty, ErrorCode, Event, NewWarning, ServerMsg, WarningKind,
    WarningLevel,
};

const DING_SECRET: &str = "SEC0123456789abcdef";

/// One request the stand-in took.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    query: String,
    body: String,
    /// DingTalk: the signature on the URL was right.
    signed: bool,
}

/// The stand-in for the robots, the webhook and the SMS gateway: `/wecom`, `/ding`,
/// `/hook`, `/sms` (its first two calls fail with 500), `/dead` (always 500).
struct Endpoints {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn endpoints() -> Endpoints {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = s.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = s.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                let target = head.split(' ').nth(1).unwrap_or("").to_string();
                let (path, query) = target
                    .split_once('?')
                    .map_or((target.clone(), String::new()), |(p, q)| {
                        (p.into(), q.into())
                    });
                let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
                let signed = match (q.get("timestamp"), q.get("sign")) {
                    (Some(ts), Some(sign)) => {
                        let mut mac =
                            Hmac::<Sha256>::new_from_slice(DING_SECRET.as_bytes()).unwrap();
                        mac.update(format!("{ts}\n{DING_SECRET}").as_bytes());
                        let want = base64::engine::general_purpose::STANDARD
                            .encode(mac.finalize().into_bytes());
                        *sign == want
                    }
                    _ => false,
                };
                let (status, answer) = {
                    let mut log = log.lock().unwrap();
                    let sms_before = log.iter().filter(|x| x.path == "/sms").count();
                    log.push(Seen {
                        path: path.clone(),
                        query,
                        body: body.clone(),
                        signed,
                    });
                    match path.as_str() {
                        "/wecom" => (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_string()),
                        "/ding" if signed => (200, r#"{"errcode":0,"errmsg":"ok"}"#.into()),
                        "/ding" => (
                            200,
                            r#"{"errcode":310000,"errmsg":"sign not match"}"#.into(),
                        ),
                        "/hook" => (204, String::new()),
                        "/sms" if sms_before < 2 => (500, "upstream busy".into()),
                        "/sms" => (200, r#"{"ok":true}"#.into()),
                        _ => (500, "down".into()),
                    }
                };
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    Endpoints { addr, seen }
}

fn channel(name: &str, kind: ChannelKind, url: String) -> ChannelConfig {
    ChannelConfig {
        name: name.into(),
        kind,
        url,
        secret: String::new(),
        body: String::new(),
        content_type: "application/json".into(),
        headers: Default::default(),
        timeout_s: 5,
    }
}

fn duty_config(e: &Endpoints) -> DutyConfig {
    let base = format!("http://{}", e.addr);
    let mut ding = channel(
        "dingtalk",
        ChannelKind::Dingtalk,
        format!("{base}/ding?access_token=t1"),
    );
    ding.secret = DING_SECRET.into();
    let mut sms = channel("sms", ChannelKind::Sms, format!("{base}/sms"));
    sms.body = r#"{"mobile":"{phone}","content":"{text}","ref":"{id}"}"#.into();
    sms.headers.insert("X-Api-Key".into(), "k-123".into());
    DutyConfig {
        red_minutes: 0.01,
        repeat_minutes: 0.04,
        tries: 3,
        retry_ms: 50,
        public_url: "https://yiping.example.gov.cn".into(),
        ack_secret: "a-site-secret-of-32-characters!!".into(),
        channels: vec![
            channel("wecom", ChannelKind::Wecom, format!("{base}/wecom?key=abc")),
            ding,
            channel("webhook", ChannelKind::Webhook, format!("{base}/hook")),
            sms,
            channel("pager", ChannelKind::Webhook, format!("{base}/dead")),
        ],
        ..Default::default()
    }
}

fn civil(ms: i64) -> String {
    let c = yiping::domain::time::civil(ms);
    format!("{} {}", c.date(), c.hhmmss())
}

/// A roster of the city's center: one person in each role, `now - 1h` to `now + 1h`.
fn three_roles(now: i64) -> String {
    let (a, b) = (civil(now - 3_600_000), civil(now + 3_600_000));
    format!(
        "center,role,person,name,phone,credential,start,end
,值班员,ZB001,王磊,13800000001,值班员 王磊,{a},{b}
,值班长,ZB002,张伟,13800000002,值班长 张伟,{a},{b}
,值班领导,ZB003,李强,13800000003,领导 李强,{a},{b}
"
    )
}

async fn duty_of(addr: std::net::SocketAddr, token: &str) -> Duty {
    let (s, body) = http(addr, "GET", "/api/duty", token, "").await;
    assert_eq!(s, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Wait (up to `secs`) until `f` holds of the duty room.
async fn until(
    addr: std::net::SocketAddr,
    secs: u64,
    what: &str,
    f: impl Fn(&Duty) -> bool,
) -> Duty {
    let t = Instant::now();
    loop {
        let d = duty_of(addr, OP).await;
        if f(&d) {
            return d;
        }
        assert!(t.elapsed() < Duration::from_secs(secs), "{what}: {d:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn red_warning() -> Command {
    Command::RaiseWarning {
        warning: NewWarning {
            level: WarningLevel::Red,
            kind: WarningKind::RepeatedComplaints,
            title: "京口区暴雨内涝".into(),
            grids: vec!["321102-01-003-005".into()],
            tickets: vec![],
            cap_refs: vec![],
            expires_ms: None,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_red_warning_nobody_acknowledges_climbs_three_people_and_a_link_acknowledges_it() {
    let e = endpoints().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.limits.heartbeat_ms = 100;
    cfg.duty = Some(duty_config(&e));
    let g = yiping::gateway::start(cfg).await.unwrap();
    let now = yiping::domain::time::now_ms();

    // A roster with a wrong row is refused whole, its line named; nothing changes.
    let bad = three_roles(now).replace("13800000002", "1380-2");
    let (s, body) = http_as(
        g.http_addr,
        ("POST", "/api/roster"),
        ADMIN,
        "text/csv",
        &bad,
    )
    .await;
    assert_eq!(s, 422, "{body}");
    assert!(
        body.contains("bad_roster") && body.contains("line 3") && body.contains("phone"),
        "{body}"
    );
    assert!(duty_of(g.http_addr, OP).await.roster.people.is_empty());
    // An operator may not set it.
    let (s, _) = http_as(
        g.http_addr,
        ("POST", "/api/roster"),
        OP,
        "text/csv",
        &three_roles(now),
    )
    .await;
    assert_eq!(s, 403);
    let (s, body) = http_as(
        g.http_addr,
        ("POST", "/api/roster"),
        ADMIN,
        "text/csv",
        &three_roles(now),
    )
    .await;
    assert_eq!(s, 200, "{body}");

    // The wall hears the shifts start, and its snapshot later carries who is on duty.
    let mut wall = connect(&g, VIEW, None).await;
    snapshot(&mut wall).await;
    let d = until(g.http_addr, 5, "three shifts on duty", |d| {
        d.on_duty.len() == 3
    })
    .await;
    assert_eq!(d.started.len(), 3);

    // Nobody acknowledges the red warning: after 0.6 s the officer is told, then the
    // chief, then the leader (a round every 2.4 s).
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    ok(&mut op, "red-1", red_warning()).await;
    let d = until(g.http_addr, 20, "the leader told", |d| {
        d.escalations.iter().any(|e| {
            ["ZB001", "ZB002", "ZB003"].iter().all(|p| {
                e.notices
                    .iter()
                    .any(|n| n.person == *p && n.channel == "sms" && n.error.is_none())
            })
        })
    })
    .await;
    let esc = d.escalations[0].clone();
    assert_eq!(esc.level, yiping::protocol::DutyRole::Leader);
    assert!(esc.rounds >= 3 && esc.closed.is_none(), "{esc:#?}");
    // The SMS gateway failed twice: retried, each try on the record with its error.
    let failed: Vec<_> = esc
        .notices
        .iter()
        .filter(|n| n.channel == "sms" && n.error.is_some())
        .collect();
    assert_eq!(failed.len(), 2, "{:#?}", esc.notices);
    assert!(
        failed[0].error.as_ref().unwrap().contains("HTTP 500"),
        "{failed:?}"
    );
    assert_eq!(failed[1].attempt, 2);
    // The order: the officer before the chief before the leader.
    let first = |p: &str| esc.notices.iter().find(|n| n.person == p).unwrap().at_ms;
    assert!(first("ZB001") < first("ZB002") && first("ZB002") < first("ZB003"));

    // What each endpoint got.
    let seen = e.seen.lock().unwrap().clone();
    let wecom = seen.iter().find(|s| s.path == "/wecom").unwrap();
    let v: serde_json::Value = serde_json::from_str(&wecom.body).unwrap();
    assert_eq!(v["msgtype"], "text");
    assert!(
        v["text"]["content"].as_str().unwrap().contains("红色预警"),
        "{v}"
    );
    assert_eq!(v["text"]["mentioned_mobile_list"][0], "13800000001");
    let ding: Vec<_> = seen.iter().filter(|s| s.path == "/ding").collect();
    assert!(
        !ding.is_empty()
            && ding
                .iter()
                .all(|s| s.signed && s.query.contains("access_token=t1")),
        "{ding:?}"
    );
    let hook: serde_json::Value =
        serde_json::from_str(&seen.iter().find(|s| s.path == "/hook").unwrap().body).unwrap();
    assert_eq!(hook["escalation"], esc.id);
    assert_eq!(hook["to"][0]["person"], "ZB001");
    let sms: Vec<serde_json::Value> = seen
        .iter()
        .filter(|s| s.path == "/sms")
        .map(|s| serde_json::from_str(&s.body).unwrap())
        .collect();
    let to_leader = sms.iter().find(|b| b["mobile"] == "13800000003").unwrap();
    assert_eq!(to_leader["ref"], esc.id.to_string());
    let text = to_leader["content"].as_str().unwrap();
    assert!(text.contains("值班领导李强"), "{text}");

    // A channel that keeps failing shows as failing (on the wall's duty board, /metrics).
    let d = until(g.http_addr, 10, "pager failing", |d| {
        d.channels
            .iter()
            .any(|c| c.channel == "pager" && c.failures >= 3)
    })
    .await;
    assert!(
        d.channels
            .iter()
            .any(|c| c.channel == "wecom" && c.failures == 0)
    );
    let (_, metrics) = http(g.http_addr, "GET", "/metrics", "", "").await;
    assert!(
        metrics.contains("yiping_duty_channel_failures{channel=\"pager\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("yiping_duty_escalations{state=\"open\"} 1"),
        "{metrics}"
    );
    promtool_accepts(&metrics);

    // The leader opens the link in the SMS: a page (nothing changes: a link preview opens
    // links too), and its button acknowledges as the leader.
    let link = &text[text.find("https://yiping.example.gov.cn").unwrap()..];
    let path = link.trim_start_matches("https://yiping.example.gov.cn");
    let (s, page) = http(g.http_addr, "GET", path, "", "").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("确认收到") && page.contains("李强"), "{page}");
    assert!(
        duty_of(g.http_addr, OP).await.escalations[0]
            .closed
            .is_none()
    );
    // A link with another person's name under the same signature is refused.
    let forged = path.replace("p=ZB003", "p=ZB001");
    let (s, _) = http(g.http_addr, "POST", &forged, "", "").await;
    assert_eq!(s, 403);
    let (s, page) = http(g.http_addr, "POST", path, "", "").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("已确认"), "{page}");
    let d = duty_of(g.http_addr, OP).await;
    let esc = &d.escalations[0];
    assert_eq!(esc.acked_by.as_deref(), Some("领导 李强"));
    assert!(esc.closed.is_some());
    // ... and it stops: no round after the acknowledgement.
    let rounds = esc.rounds;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(duty_of(g.http_addr, OP).await.escalations[0].rounds, rounds);
    // Acknowledging again from the wall: refused, nothing changes.
    refused(
        &mut op,
        "ack-2",
        Command::AckEscalation { escalation: esc.id },
        ErrorCode::AlreadyClosed,
    )
    .await;
    // No credential may send the engine's own records.
    let forged = Command::DutyRecord {
        change: Box::new(yiping::protocol::DutyChange::Escalation {
            escalation: esc.clone(),
        }),
    };
    refused(&mut op, "forge", forged, ErrorCode::Forbidden).await;

    // Everything went through the log: the wall saw the shifts, each message and the
    // acknowledgement as duty deltas.
    let mut kinds = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        match tokio::time::timeout(Duration::from_millis(300), next(&mut wall)).await {
            Ok(ServerMsg::Delta {
                event: Event::Duty { change },
                ..
            }) => kinds.push(*change),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    use yiping::protocol::DutyChange as C;
    assert_eq!(
        kinds
            .iter()
            .filter(|c| matches!(c, C::ShiftStarted { .. }))
            .count(),
        3
    );
    assert!(
        kinds
            .iter()
            .any(|c| matches!(c, C::Escalation { escalation } if escalation.acked_by.is_some()))
    );
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handover_is_drafted_annotated_and_signed_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let make = || {
        let mut cfg = config(&dir);
        cfg.limits.heartbeat_ms = 100;
        cfg.tokens.push(TokenConfig::new(
            "operator-token-2",
            Role::Operator,
            "值班员 李娜",
        ));
        cfg.duty = Some(DutyConfig::default());
        cfg
    };
    let g = yiping::gateway::start(make()).await.unwrap();
    let now = yiping::domain::time::now_ms();
    let change = now + 1_500;
    let roster = format!(
        "center,role,person,name,phone,credential,start,end
,值班员,ZB001,王磊,13800000001,值班员 王磊,{},{}
,值班员,ZB004,李娜,13800000004,值班员 李娜,{},{}
",
        civil(now - 3_600_000),
        civil(change),
        civil(change),
        civil(now + 3_600_000)
    );
    let (s, body) = http_as(
        g.http_addr,
        ("POST", "/api/roster"),
        ADMIN,
        "text/csv",
        &roster,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    let (_, out) = run(&mut op, cmd("w-1", red_warning())).await;
    assert!(matches!(out, CommandOutcome::Ok { .. }));
    // The shift ends: the gateway drafts the handover for 李娜.
    let d = until(g.http_addr, 10, "a handover", |d| !d.handovers.is_empty()).await;
    let h = d.handovers[0].clone();
    assert_eq!((h.from.as_str(), h.to.as_deref()), ("ZB001", Some("ZB004")));
    assert_eq!(
        h.warnings.len(),
        1,
        "the unacknowledged warning is handed over: {h:#?}"
    );
    assert!(
        h.events.iter().any(|e| e.contains("京口区暴雨内涝")),
        "{h:#?}"
    );
    assert_eq!(h.figures_end.warnings_unacked, 1);
    assert!(h.figures_start.at_ms < h.figures_end.at_ms);
    assert!(d.on_duty.len() == 1 && d.roster.shift(d.on_duty[0]).unwrap().person == "ZB004");

    // The outgoing officer adds notes; the incoming one may not, nor may the outgoing sign.
    let notes = Command::AnnotateHandover {
        handover: h.id,
        notes: "京口区积水点已派巡查，夜班继续盯防。".into(),
    };
    ok(&mut op, "n-1", notes.clone()).await;
    refused(
        &mut op,
        "s-0",
        Command::SignHandover { handover: h.id },
        ErrorCode::Forbidden,
    )
    .await;
    g.shutdown().await;

    // Across a restart: still there, unsigned, with its notes, on the wall's snapshot too.
    let g = yiping::gateway::start(make()).await.unwrap();
    let mut wall = connect(&g, VIEW, None).await;
    let duty = loop {
        if let ServerMsg::Snapshot(s) = next(&mut wall).await {
            break s.duty.expect("the snapshot carries the duty room");
        }
    };
    let kept = duty.handover(h.id).unwrap();
    assert!(kept.signed_by.is_none());
    assert!(kept.notes.starts_with("京口区积水点"));
    let mut li = connect(&g, "operator-token-2", None).await;
    snapshot(&mut li).await;
    refused(&mut li, "n-2", notes, ErrorCode::Forbidden).await;
    ok(&mut li, "s-1", Command::SignHandover { handover: h.id }).await;
    refused(
        &mut li,
        "s-2",
        Command::SignHandover { handover: h.id },
        ErrorCode::AlreadyClosed,
    )
    .await;
    let d = duty_of(g.http_addr, OP).await;
    assert_eq!(d.handovers[0].signed_by.as_deref(), Some("值班员 李娜"));
    g.shutdown().await;
}

/// The number after `name` on a line of pdftotext's output (`受理  3  期内受理的…`).
fn figure(text: &str, name: &str) -> String {
    text.lines()
        .map(str::trim)
        .find_map(|l| {
            let rest = l.strip_prefix(name)?;
            let v = rest.split_whitespace().next()?;
            v.chars().next()?.is_ascii_digit().then(|| v.to_string())
        })
        .unwrap_or_else(|| panic!("no figure {name} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_report_says_what_the_gateway_says_for_that_day() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.tokens.push(TokenConfig {
        region: "321102".into(),
        ..TokenConfig::new("jingkou-viewer", Role::Viewer, "京口区大屏")
    });
    let g = yiping::gateway::start(cfg).await.unwrap();
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    for i in 0..5 {
        let (_, out) = run(&mut op, intake(&format!("t-{i}"))).await;
        assert!(matches!(out, CommandOutcome::Ok { .. }));
    }
    // The gateway's own figures for today, as every wall gets them.
    let mut wall = connect(&g, VIEW, None).await;
    snapshot(&mut wall).await;
    let figures = loop {
        if let ServerMsg::Kpis { figures, .. } = next(&mut wall).await {
            break figures;
        }
    };
    let today = *figures.trend.last().unwrap();
    assert_eq!(today.intake, 5);
    let date = {
        let c = yiping::domain::time::civil(yiping::domain::time::now_ms());
        c.date()
    };
    let (s, pdf) = http_bytes(
        g.http_addr,
        ("GET", &format!("/api/reports/daily?date={date}")),
        VIEW,
        "",
        b"",
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&pdf));
    assert!(pdf.starts_with(b"%PDF-"));
    let file = dir.path().join("daily.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let mut pdftotext = std::process::Command::new("pdftotext");
    pdftotext.arg("-layout").arg(&file).arg("-");
    let text = String::from_utf8(stdout_of(pdftotext)).unwrap();
    assert!(text.contains("值班日报") && text.contains(&date), "{text}");
    assert_eq!(figure(&text, "受理"), today.intake.to_string(), "{text}");
    assert_eq!(figure(&text, "办结"), today.resolved.to_string(), "{text}");
    assert_eq!(figure(&text, "在办"), figures.open.to_string(), "{text}");
    assert_eq!(figure(&text, "超期"), figures.overdue.to_string(), "{text}");
    // Fonts embedded (subset), and the pages render.
    let mut pdffonts = std::process::Command::new("pdffonts");
    pdffonts.arg(&file);
    let fonts = String::from_utf8(stdout_of(pdffonts)).unwrap();
    assert!(fonts.contains("yes yes"), "embedded and subset: {fonts}");
    let png = dir.path().join("page");
    let mut pdftoppm = std::process::Command::new("pdftoppm");
    pdftoppm
        .args(["-r", "40", "-png", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(&png);
    stdout_of(pdftoppm);
    let rendered: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("page"))
        .collect();
    assert_eq!(rendered.len(), 1);
    assert!(rendered[0].metadata().unwrap().len() > 2_000);
    // HTML says the same.
    let (s, html) = http(
        g.http_addr,
        "GET",
        &format!("/api/reports/daily?date={date}&format=html"),
        VIEW,
        "",
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&format!("<th>受理</th><td class=v>{}</td>", today.intake)),
        "{html}"
    );
    // A district's credential gets its district's report, not the city's nor another's.
    let (s, body) = http(
        g.http_addr,
        "GET",
        &format!("/api/reports/daily?date={date}&region=321111"),
        "jingkou-viewer",
        "",
    )
    .await;
    assert_eq!(s, 403, "{body}");
    let (s, _) = http(
        g.http_addr,
        "GET",
        &format!("/api/reports/weekly?date={date}&format=html"),
        "jingkou-viewer",
        "",
    )
    .await;
    assert_eq!(s, 200);
    // Bad input: a clear error.
    let (s, body) = http(
        g.http_addr,
        "GET",
        "/api/reports/daily?date=2026-13-40",
        VIEW,
        "",
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("2026-12-07"), "{body}");
    let (s, _) = http(
        g.http_addr,
        "GET",
        "/api/reports/monthly?date=2026-12-07",
        VIEW,
        "",
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = http(
        g.http_addr,
        "GET",
        &format!("/api/reports/daily?date={date}"),
        "",
        "",
    )
    .await;
    assert_eq!(s, 401);

    // The command line: a report to a file, a roster checked with its lines named.
    let mut report = std::process::Command::new(env!("CARGO_BIN_EXE_yiping"));
    report
        .args([
            "report",
            "daily",
            "--date",
            &date,
            "--gateway",
            &format!("http://{}", g.http_addr),
            "--token",
            VIEW,
            "--out",
        ])
        .arg(dir.path().join("cli.pdf"));
    stdout_of(report);
    assert!(
        std::fs::read(dir.path().join("cli.pdf"))
            .unwrap()
            .starts_with(b"%PDF-")
    );
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, "center,role,person,name,phone,credential,start,end\n,值班员,ZB001,王磊,138,x,2026-12-08 08:00,2026-12-08 07:00\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yiping"))
        .args(["roster", "import", "--check"])
        .arg(&roster)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("phone"), "{err}");
    g.shutdown().await;
}

/// Issue 31: an urgent dispatch to a unit whose phone page is closed reaches the unit's
/// phone number by SMS within 10 s; the phone, opened again, resumes (no snapshot) and
/// the message's escalation closes when it accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_urgent_dispatch_to_a_closed_phone_goes_by_sms_and_the_phone_resumes() {
    let e = endpoints().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.limits.heartbeat_ms = 100;
    let mut duty = duty_config(&e);
    duty.channels.retain(|c| c.name == "sms");
    cfg.duty = Some(duty);
    let unit = yiping::protocol::Unit {
        phone: "13900000009".into(),
        ..yiping::protocol::examples::unit()
    };
    cfg.tokens.push(TokenConfig {
        unit: Some(unit.id.clone()),
        ..TokenConfig::new("unit-token-1", Role::Unit, "调解员 张敏")
    });
    let g = yiping::gateway::start(cfg).await.unwrap();
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    // A phone number that is not one is refused.
    let bad = yiping::protocol::Unit {
        phone: "139-0000".into(),
        ..unit.clone()
    };
    refused(
        &mut admin,
        "u-0",
        Command::UpsertUnit { unit: bad },
        ErrorCode::Invalid,
    )
    .await;
    ok(
        &mut admin,
        "u-1",
        Command::UpsertUnit { unit: unit.clone() },
    )
    .await;

    // The phone page opens, then closes.
    let mut phone = connect(&g, "unit-token-1", None).await;
    let (epoch, seq, _) = snapshot(&mut phone).await;
    drop(phone);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    let mut t = yiping::protocol::examples::new_ticket();
    t.priority = yiping::protocol::Priority::Urgent;
    let (_, out) = run(&mut op, cmd("t-1", Command::Intake { ticket: t })).await;
    let CommandOutcome::Ok { id: Some(id), .. } = out else {
        panic!("{out:?}")
    };
    let sent = Instant::now();
    ok(
        &mut op,
        "d-1",
        Command::Dispatch {
            ticket: id,
            unit: unit.id.clone(),
        },
    )
    .await;
    // The SMS gateway (failing its first two calls) has it within 10 s.
    let body = loop {
        let got = e
            .seen
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|s| s.path == "/sms")
            .map(|s| s.body.clone());
        let delivered = e
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == "/sms")
            .count()
            >= 3;
        if let (Some(b), true) = (got, delivered) {
            break b;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "no SMS within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!(
        "urgent dispatch to a closed phone: SMS taken in {:.2} s",
        sent.elapsed().as_secs_f64()
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["mobile"], "13900000009");
    let text = v["content"].as_str().unwrap();
    assert!(
        text.contains(&format!("#{id}")) && text.contains("请尽快签收") && text.contains("/m/"),
        "{text}"
    );
    let d = until(g.http_addr, 5, "the unit_offline escalation", |d| {
        d.escalations.iter().any(|x| {
            x.rule == yiping::protocol::EscalationRule::UnitOffline
                && x.notices.iter().any(|n| n.error.is_none())
        })
    })
    .await;
    let esc = d
        .escalations
        .iter()
        .find(|x| x.rule == yiping::protocol::EscalationRule::UnitOffline)
        .unwrap()
        .id;

    // The phone opens again: it resumes (the dispatch as a delta, no snapshot) and accepts.
    let mut phone = connect(
        &g,
        "unit-token-1",
        Some(yiping::protocol::Resume { epoch, seq }),
    )
    .await;
    let mut got_dispatch = false;
    while !got_dispatch {
        match next(&mut phone).await {
            ServerMsg::Snapshot(_) => panic!("a resume, not a snapshot"),
            ServerMsg::Delta { event, .. } => {
                got_dispatch = event.ticket().is_some_and(|t| t.id == id)
            }
            _ => {}
        }
    }
    ok(&mut phone, "a-1", Command::Accept { ticket: id }).await;
    until(g.http_addr, 5, "closed once accepted", |d| {
        d.escalation(esc).is_some_and(|x| x.closed.is_some())
    })
    .await;
    // A dispatch while the phone is open sends nothing.
    let n = e.seen.lock().unwrap().len();
    let mut t = yiping::protocol::examples::new_ticket();
    t.priority = yiping::protocol::Priority::Urgent;
    let (_, out) = run(&mut op, cmd("t-2", Command::Intake { ticket: t })).await;
    let CommandOutcome::Ok { id: Some(id2), .. } = out else {
        panic!("{out:?}")
    };
    run(
        &mut op,
        cmd(
            "d-2",
            Command::Dispatch {
                ticket: id2,
                unit: unit.id.clone(),
            },
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(e.seen.lock().unwrap().len(), n);
    g.shutdown().await;
}
