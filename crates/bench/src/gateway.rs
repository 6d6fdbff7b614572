//! `yiping-bench gateway`: N WebSocket clients watch a gateway while an operator client
//! takes tickets in at a paced rate; reports delivered messages per second and the latency
//! from the gateway's stamp (`ts_us`, taken before the commit) to each client's receipt.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use yiping::domain::time::now_us;
use yiping::gateway::config::{GatewayConfig, Role, TokenConfig};
use yiping::protocol::{ClientMsg, Command, examples};
use yiping::wire as handshake;

#[derive(clap::Args)]
pub struct Args {
    /// Watching clients.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Events (ticket intakes) per second.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Measured seconds (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Run a cluster of this many nodes instead of one gateway: PostgreSQL and nats-server
    /// are started in a temporary folder (as the tests do); the walls are spread over the
    /// nodes, the operator sends to the writer.
    #[arg(long, default_value_t = 0)]
    cluster: usize,
}

/// The gateway's stamp of a delta frame, read without decoding the frame.
pub(super) fn ts_of(text: &str) -> Option<i64> {
    let i = text.find("\"ts_us\":")? + 8;
    let rest = &text[i..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(bench(a))
}

async fn bench(a: Args) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let mut cfg = GatewayConfig {
        listen: "127.0.0.1:0".parse()?,
        http_listen: "127.0.0.1:0".parse()?,
        database: dir.join("bench.sqlite"),
        ..Default::default()
    };
    // The bench drives one operator credential at up to thousands of intakes a second:
    // past any budget a person's credential has.
    cfg.limits.commands_per_minute = u32::MAX;
    cfg.tokens = vec![
        TokenConfig::new("bench-operator", Role::Operator, "bench"),
        TokenConfig::new("bench-viewer", Role::Viewer, "wall"),
    ];
    // A cluster keeps its servers (and their folder) until the end of the run.
    let mut servers = None;
    let nodes = if a.cluster == 0 {
        vec![yiping::gateway::start(cfg).await?]
    } else {
        // Started off the runtime: they wait for the servers with blocking calls.
        let d = dir.clone();
        let (pg, nats) = tokio::task::spawn_blocking(move || {
            anyhow::Ok((
                testkit::Postgres::start(&d.join("pg"))?,
                testkit::Nats::start(&d.join("nats"))?,
            ))
        })
        .await??;
        let mut nodes = vec![];
        for i in 0..a.cluster {
            let mut c = cfg.clone();
            c.cluster = Some(yiping::cluster::ClusterConfig::new(
                &format!("n{i}"),
                &pg.url(),
                &nats.url(),
            ));
            nodes.push(yiping::gateway::start(c).await?);
        }
        servers = Some((pg, nats));
        let t = Instant::now();
        while !nodes
            .iter()
            .any(|g| g.status.writer.load(Ordering::Relaxed))
        {
            anyhow::ensure!(t.elapsed() < Duration::from_secs(10), "no writer");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        nodes
    };
    let writer = nodes
        .iter()
        .position(|g| g.status.writer.load(Ordering::Relaxed))
        .unwrap_or(0);
    let url_of = |i: usize| format!("ws://{}", nodes[i % nodes.len()].ws_addr);
    let measuring = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let mut readers = vec![];
    for i in 0..a.clients {
        let mut ws = handshake::open(
            &url_of(i),
            None,
            &handshake::hello("bench-viewer", None, None),
        )
        .await
        .map_err(anyhow::Error::msg)?;
        let (measuring, done, delivered) = (measuring.clone(), done.clone(), delivered.clone());
        readers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            while !done.load(Ordering::Relaxed) {
                let Ok(Some(Ok(Message::Text(t)))) =
                    tokio::time::timeout(Duration::from_millis(200), ws.next()).await
                else {
                    continue;
                };
                if !t.starts_with("{\"type\":\"delta\"") {
                    continue;
                }
                if let Some(ts) = ts_of(&t)
                    && measuring.load(Ordering::Relaxed)
                {
                    lat.push((now_us() - ts).max(0) as u32);
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    let ws = handshake::open(
        &url_of(writer),
        None,
        &handshake::hello("bench-operator", None, None),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let (mut tx, mut rx) = ws.split();
    tokio::spawn(async move { while rx.next().await.is_some() {} });
    let ticket = examples::new_ticket();
    let per_tick = (a.rate / 100).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let total = Duration::from_secs(a.seconds + 1);
    let start = Instant::now();
    let mut sent = 0u64;
    let mut measured_from = None;
    while start.elapsed() < total {
        tick.tick().await;
        if measured_from.is_none() && start.elapsed() >= Duration::from_secs(1) {
            measuring.store(true, Ordering::Relaxed);
            measured_from = Some((Instant::now(), sent));
        }
        for _ in 0..per_tick {
            sent += 1;
            tx.send(intake_frame(format!("b{sent}"), &ticket)?).await?;
        }
    }
    let (t0, sent0) = measured_from.unwrap_or((start, 0));
    let window = t0.elapsed().as_secs_f64();
    measuring.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    done.store(true, Ordering::Relaxed);
    let mut all = vec![];
    for r in readers {
        all.extend(r.await?);
    }
    let spread = Spread::of(&mut all);
    let events = sent - sent0;
    println!(
        "gateways           {}",
        if a.cluster == 0 {
            "1 (SQLite)".to_string()
        } else {
            format!("{} cluster nodes (PostgreSQL + JetStream)", a.cluster)
        }
    );
    println!("clients            {}", a.clients);
    println!(
        "events sent        {events} in {window:.1} s ({:.0}/s)",
        events as f64 / window
    );
    println!(
        "messages delivered {} ({:.0}/s)",
        delivered.load(Ordering::Relaxed),
        delivered.load(Ordering::Relaxed) as f64 / window
    );
    println!("latency p50        {:.2} ms", spread.p50);
    println!("latency p99        {:.2} ms", spread.p99);
    println!("latency max        {:.2} ms", spread.max);
    println!(
        "clients cut off    {}",
        nodes
            .iter()
            .map(|g| g.status.cut_off.load(Ordering::Relaxed))
            .sum::<u64>()
    );
    for g in nodes {
        g.shutdown().await;
    }
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!("yiping-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// An operator's intake of `ticket` under idempotency key `key`, as a text frame.
pub(super) fn intake_frame(
    key: String,
    ticket: &yiping::protocol::NewTicket,
) -> anyhow::Result<Message> {
    let m = ClientMsg::Command {
        key,
        command: Command::Intake {
            ticket: ticket.clone(),
        },
    };
    Ok(Message::Text(serde_json::to_string(&m)?.into()))
}

/// Delivery times in µs, summed up: count, p50, p99, max in ms.
pub(super) struct Spread {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    pub(super) fn of(v: &mut [u32]) -> Spread {
        v.sort_unstable();
        let at = |p: f64| {
            v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0) as f64
                / 1000.0
        };
        Spread {
            n: v.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} / {:.2} / {:.2} ({} deliveries)",
            self.p50, self.p99, self.max, self.n
        )
    }
}
