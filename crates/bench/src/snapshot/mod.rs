//! `yiping-bench snapshot`: a province's snapshot end to end, over loopback, with the
//! gateway in a process of its own (so that each side's memory is its own):
//!
//! 1. a child process writes `--tickets` open tickets over `--cells` grids into a fresh
//!    SQLite file (`Store::import_history`), and a gateway child opens it;
//! 2. a headless wall (the wall's state plugins and its real feed thread, compact
//!    snapshot) connects: the time to its first full frame (snapshot in, queue and
//!    roll-ups built, every marker and cell written, the queue table laid out), and its
//!    resident memory then;
//! 3. the snapshot's bytes per ticket and decode time, compact against JSON;
//! 4. `--watchers` clients watching another district while an operator takes tickets in
//!    there at `--rate` a second: their delivery p99 alone, then while `--walls` clients
//!    join at once and each reads the whole snapshot (from a process at SCHED_IDLE: on a
//!    site walls are other machines), in `--rounds` rounds; beside each window what the
//!    machine did meanwhile (`bench_host`: steal, softirq, run-queue waits) and the
//!    gateway's slow batches and commits.
//!
//! The gateway's log goes to `yiping-bench-gateway.log` in the temporary folder.

use std::process::Command as Process;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bevy_egui::egui;
use futures_util::{SinkExt, StreamExt};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio_tungstenite::tungstenite::Message;
use yiping::domain::time::{now_ms, now_us};
use yiping::protocol::compact::{self, Encoding};
use yiping::protocol::{ServerMsg, examples};
use yiping::store::{History, Policy, Store};
use yiping::wall::FeedLink;
use yiping::wall::link::FeedHealth;
use yiping::wall::state::Queue;
use yiping::wire as handshake;

use crate::gateway::{Spread, intake_frame, ts_of};
use crate::host::{Host, Waits};
use crate::wall::{
    Threads, bench_ticket, full_map_write, grid_ids, grid_layer, queue_table, rss_mb, rss_of,
};
use yiping::wall::screen::LOADING_FRAME;

mod joins;
use crate::process::{Gateway, start_gateway};
mod window;
use joins::join_walls;
use window::Reading;

#[derive(clap::Args)]

pub struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    tickets: usize,
    #[arg(long, default_value_t = 200_000)]
    cells: usize,
    /// Clients that join at once, each reading the whole snapshot.
    #[arg(long, default_value_t = 10)]
    walls: usize,
    /// Clients watching the deltas meanwhile (their delivery is measured).
    #[arg(long, default_value_t = 20)]
    watchers: usize,
    /// Tickets taken in a second meanwhile.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Seconds of delivery measured without the joins (and at least with them), a round.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Rounds of the two windows, alone then with the joins; the p99s pool all rounds.
    #[arg(long, default_value_t = 4)]
    rounds: u32,
    /// Run the joining walls' process at this niceness instead of SCHED_IDLE (10: the
    /// bench's default until 2026-12-02; 0: an equal share of the gateway's cores).
    ///
    /// On a site the walls are other machines. Here they share the gateway's two cores, and
    /// at SCHED_IDLE they take only what the gateway and the watchers leave, as near to
    /// "elsewhere" as one machine comes. At nice 10 their decoding (1.5 GB in 3 s) slowed
    /// the gateway's own commits: over four rounds, commits over 2 ms went from 19 without
    /// the joins to 75 with them; at SCHED_IDLE from 43 to 45 (BENCHMARKS.md).
    #[arg(long)]
    walls_nice: Option<i32>,
    /// Measure only the wall's first full frame (step 2), then stop.
    #[arg(long)]
    first_frame_only: bool,
    /// (Internal) only write the database into this folder, then exit.
    #[arg(long, hide = true)]
    prepare: Option<std::path::PathBuf>,
    /// (Internal) join this gateway `--walls` times at once, read and decode each
    /// snapshot, print what each read, then exit.
    #[arg(long, hide = true)]
    join: Option<String>,
}

const VIEW: &str = "bench-viewer-token";
const OP: &str = "bench-operator-token";
/// The district the watchers watch and the operator's tickets go to (the snapshot's
/// tickets are all in 321102).
const OTHER: &str = "321181";

pub fn run(a: Args) -> anyhow::Result<()> {
    if let Some(dir) = &a.prepare {
        return prepare(dir, &a);
    }
    if let Some(url) = &a.join {
        return join_walls(url, a.walls, a.walls_nice);
    }
    let dir = std::env::temp_dir().join(format!("yiping-bench-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    let t0 = Instant::now();
    let st = Process::new(&exe)
        .args(["snapshot", "--tickets", &a.tickets.to_string()])
        .args(["--cells", &a.cells.to_string(), "--prepare"])
        .arg(&dir)
        .status()?;
    anyhow::ensure!(st.success(), "writing the database failed");
    println!(
        "database: {} open tickets over {} grids written in {:.1} s",
        a.tickets,
        a.cells,
        t0.elapsed().as_secs_f64()
    );
    let tail = format!(
        "\n[limits]\nmax_frame_bytes = 65536\ncommands_per_minute = 4294967295\n\n\
         [[tokens]]\ntoken = \"{VIEW}\"\nrole = \"viewer\"\nname = \"wall\"\n\n\
         [[tokens]]\ntoken = \"{OP}\"\nrole = \"operator\"\nname = \"bench\"\n"
    );
    let mut gateway = start_gateway(&exe, &dir, &tail, &[])?;
    let result = measure(&a, &gateway);
    let _ = gateway.child.kill();
    let _ = gateway.child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn prepare(dir: &std::path::Path, a: &Args) -> anyhow::Result<()> {
    let grids = grid_ids(a.cells);
    let mut rng = SmallRng::seed_from_u64(11);
    let now = now_ms();
    // Due from two hours on: a snapshot is measured here, not the gateway's supervision
    // of tens of thousands of tickets already overdue at its start.
    let tickets = (1..=a.tickets as u64)
        .map(|id| {
            let mut t = bench_ticket(&mut rng, &grids, id, now);
            t.deadline_ms += 3 * 3_600_000;
            t
        })
        .collect();
    let store = Store::open(&dir.join("gateway.sqlite"), Policy::default())?;
    store.import_history(std::iter::empty(), || History {
        tickets,
        warnings: vec![],
        units: vec![],
        last_seq: 0,
    })?;
    Ok(())
}

fn measure(a: &Args, g: &Gateway) -> anyhow::Result<()> {
    let (url, gateway) = (g.url.as_str(), g.child.id());
    first_frame(a, url)?;
    if a.first_frame_only {
        return Ok(());
    }
    println!(
        "gateway resident after the wall's snapshot: {:.0} MB",
        rss_of(gateway)
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(encodings(a, url))?;
    rt.block_on(joins_under_load(a, url, g.http_port, gateway))?;
    println!("gateway resident at the end: {:.0} MB", rss_of(gateway));
    Ok(())
}

/// Step 2: a wall from connect to its first full frame.
fn first_frame(a: &Args, url: &str) -> anyhow::Result<()> {
    let layer = grid_layer(&grid_ids(a.cells));
    let ctx = egui::Context::default();
    let before = rss_mb();
    let t0 = Instant::now();
    let mut cfg = yiping::feed::FeedConfig::new(url, VIEW);
    cfg.encoding = Encoding::Compact;
    let feed = yiping::feed::spawn(cfg)?;
    // The wall's event loop, woken by the feed as a part arrives (`screen::wake_on_parts`).
    // It also notes when it handed over the last part: the feed's share of the time.
    let (woken, wakes) = crossbeam_channel::bounded::<()>(1);
    let handed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let last_part = handed.clone();
    feed.wake.set(move || {
        last_part.store(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
        let _ = woken.try_send(());
    });
    let mut app = crate::wall::wall_app(FeedLink::from(feed), Threads::AsTheWall);
    let mut frames = 0;
    loop {
        // Paced as the wall paces itself while it loads (`screen::pace_while_loading`: a
        // frame every LOADING_FRAME while nothing waits in the channel, or as soon as the
        // feed wakes it), not back to back: a spinning main thread would take a core from
        // the feed thread and the gateway.
        let began = Instant::now();
        app.update();
        frames += 1;
        let h = app.world().resource::<FeedHealth>();
        if h.loading && h.backlog == 0 {
            let _ = wakes.recv_timeout(LOADING_FRAME.saturating_sub(began.elapsed()));
        }
        let w = app.world();
        if !w.resource::<FeedHealth>().loading && w.resource::<Queue>().total() >= a.tickets {
            break;
        }
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(120),
            "no snapshot in 120 s"
        );
    }
    let loaded = t0.elapsed();
    let _map = full_map_write(&mut app, &layer);
    queue_table(&app, &ctx);
    let first = t0.elapsed();
    println!(
        "wall: {} tickets, the feed's last part handed over at {:.0} ms, snapshot in after \
         {:.0} ms ({frames} frames); first full frame (markers, cells, queue table) at {:.0} ms",
        a.tickets,
        handed.load(Ordering::Relaxed) as f64 / 1000.0,
        loaded.as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0
    );
    println!(
        "wall: resident {:.0} MB (before connecting: {before:.0} MB, the grid layer and egui)",
        rss_mb()
    );
    Ok(())
}

/// Hello for the whole city in `encoding`, over a raw socket.
async fn connect(
    url: &str,
    encoding: Encoding,
    region: Option<String>,
) -> anyhow::Result<handshake::Ws> {
    handshake::open(
        url,
        None,
        &handshake::hello_with(VIEW, None, region, encoding),
    )
    .await
    .map_err(anyhow::Error::msg)
}

/// Read a snapshot to its last part: its frames, and the seconds that took.
async fn read_snapshot(ws: &mut handshake::Ws) -> anyhow::Result<(Vec<Message>, f64)> {
    let t0 = Instant::now();
    let mut frames = vec![];
    loop {
        let m = ws.next().await.ok_or_else(|| anyhow::anyhow!("closed"))??;
        let last = match &m {
            Message::Binary(b) => {
                b.get(..4) == Some(compact::MAGIC) && { compact::decode_part(b)?.last }
            }
            Message::Text(t) if t.starts_with("{\"type\":\"snapshot\"") => {
                t.contains("\"last\":true")
            }
            _ => continue,
        };
        frames.push(m);
        if last {
            return Ok((frames, t0.elapsed().as_secs_f64()));
        }
    }
}

/// Read a snapshot as a wall does, a part at a time: each decoded, then let go (a wall
/// keeps its tickets, not the frames; ten walls keeping theirs held 1.45 GB in one
/// process on the gateway's machine). Its bytes, and the seconds that took.
async fn read_and_drop(ws: &mut handshake::Ws) -> anyhow::Result<(usize, f64)> {
    let t0 = Instant::now();
    let mut bytes = 0;
    loop {
        let m = ws.next().await.ok_or_else(|| anyhow::anyhow!("closed"))??;
        let Message::Binary(b) = &m else { continue };
        if b.get(..4) != Some(compact::MAGIC) {
            continue;
        }
        bytes += b.len();
        if compact::decode_part(b)?.last {
            return Ok((bytes, t0.elapsed().as_secs_f64()));
        }
    }
}

/// Step 3: bytes per ticket and decode time, each encoding.
async fn encodings(a: &Args, url: &str) -> anyhow::Result<()> {
    for enc in [Encoding::Compact, Encoding::Json] {
        let mut ws = connect(url, enc, None).await?;
        let (frames, secs) = read_snapshot(&mut ws).await?;
        drop(ws);
        let bytes: usize = frames.iter().map(|m| m.len()).sum();
        let t0 = Instant::now();
        let mut n = 0;
        for m in &frames {
            n += match m {
                Message::Binary(b) => compact::decode_part(b)?.tickets.len(),
                Message::Text(t) => match serde_json::from_str::<ServerMsg>(t)? {
                    ServerMsg::Snapshot(s) => s.tickets.len(),
                    _ => 0,
                },
                _ => 0,
            };
        }
        let decode = t0.elapsed().as_secs_f64();
        anyhow::ensure!(
            n >= a.tickets,
            "{enc:?}: {n} tickets decoded, not {}",
            a.tickets
        );
        println!(
            "{:<8} {} parts, {:.0} MB, {:.0} bytes a ticket; received in {:.2} s; decoded \
             in {:.2} s ({:.2} µs a ticket)",
            format!("{enc:?}:"),
            frames.len(),
            bytes as f64 / 1e6,
            bytes as f64 / n as f64,
            secs,
            decode,
            decode * 1e6 / n as f64
        );
    }
    Ok(())
}

/// Step 4: delivery to watchers, without and with `walls` snapshots at once, in `rounds`
/// rounds (each: a window alone, then one with the joins). On this machine one 8 s
/// window's p99 is set by a few stalls of 10-40 ms from outside the gateway (the
/// hypervisor's steal, the disk's fsync): two windows *without* joins differed by up to
/// 3.4x. So the deliveries of every round are pooled, each side, before the p99 is taken;
/// `--walls 0` runs the same rounds with no joins at all, the noise floor of the ratio.
async fn joins_under_load(a: &Args, url: &str, http_port: u16, gateway: u32) -> anyhow::Result<()> {
    let measuring = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let lat = Arc::new(std::sync::Mutex::new(Vec::<u32>::new()));
    let mut readers = vec![];
    for _ in 0..a.watchers {
        let mut ws = connect(url, Encoding::Json, Some(OTHER.into())).await?;
        let (measuring, done, lat) = (measuring.clone(), done.clone(), lat.clone());
        readers.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let Ok(Some(Ok(Message::Text(t)))) =
                    tokio::time::timeout(Duration::from_millis(200), ws.next()).await
                else {
                    continue;
                };
                let Some(ts) = t
                    .starts_with("{\"type\":\"delta\"")
                    .then(|| ts_of(&t))
                    .flatten()
                else {
                    continue;
                };
                if measuring.load(Ordering::Relaxed) {
                    let l = (now_us() - ts).max(0) as u32;
                    lat.lock().unwrap_or_else(|e| e.into_inner()).push(l);
                }
            }
        }));
    }
    let operator = operator(url, a.rate, done.clone()).await?;
    let take = || std::mem::take(&mut *lat.lock().unwrap_or_else(|e| e.into_inner()));
    // The first join of a scope sums that scope's figures from every ticket of the file
    // (seconds at a million, on a thread at SCHED_IDLE since `Store::track_scopes_later`):
    // measured after it.
    tokio::time::sleep(Duration::from_secs(6)).await;
    measuring.store(true, Ordering::Relaxed);
    let window = Duration::from_secs(a.seconds);
    let (mut alone, mut joined) = (Vec::new(), Vec::new());
    // The same, of the rounds the hypervisor left alone (under QUIET ms of steal in both
    // windows): shown beside the whole, never instead of it.
    let (mut quiet_alone, mut quiet_joined, mut quiet) = (Vec::new(), Vec::new(), 0);
    let mut joins = Vec::new();
    println!(
        "{} watchers, {} tickets/s taken in: delivery p50 / p99 / max (ms)",
        a.watchers, a.rate
    );
    // Each side (alone, with the joins) of every round, summed.
    let mut sides = (Reading::default(), Reading::default());
    for round in 1..=a.rounds {
        let before = Reading::take(http_port, gateway)?;
        take();
        tokio::time::sleep(window).await;
        let mut lat0 = take();
        let between = Reading::take(http_port, gateway)?;
        // The joins, all at once; measured until the last has its whole snapshot (and
        // for at least as long as the window alone).
        let t0 = Instant::now();
        let walls = join_in_child(url, a.walls, a.walls_nice).await?;
        let all_in = t0.elapsed().as_secs_f64();
        if t0.elapsed() < window {
            tokio::time::sleep(window - t0.elapsed()).await;
        }
        let mut lat1 = take();
        let after = Reading::take(http_port, gateway)?;
        let (w0, w1) = (between.since(&before), after.since(&between));
        let (r0, r1) = (Spread::of(&mut lat0), Spread::of(&mut lat1));
        println!(
            "  round {round}: alone {r0}; {} snapshots at once {r1}; p99 ratio {:.2}x",
            a.walls,
            r1.p99 / r0.p99.max(0.001),
        );
        println!("    alone:      {w0}");
        println!("    the joins:  {w1}");
        if w0.host.steal_ms < QUIET && w1.host.steal_ms < QUIET {
            quiet += 1;
            quiet_alone.extend_from_slice(&lat0);
            quiet_joined.extend_from_slice(&lat1);
        }
        sides.0.add(&w0);
        sides.1.add(&w1);
        alone.append(&mut lat0);
        joined.append(&mut lat1);
        joins.push((walls, all_in));
    }
    done.store(true, Ordering::Relaxed);
    let _ = operator.await;
    for r in readers {
        let _ = r.await;
    }
    let (p0, p1) = (Spread::of(&mut alone), Spread::of(&mut joined));
    println!("  all {} rounds pooled:", a.rounds);
    println!("    alone                  {p0}");
    println!("    {} snapshots at once   {p1}", a.walls);
    println!(
        "    p99 with the joins / alone: {:.2}x",
        p1.p99 / p0.p99.max(0.001)
    );
    println!("    alone, summed:      {}", sides.0);
    println!("    the joins, summed:  {}", sides.1);
    if quiet > 0 {
        let (q0, q1) = (Spread::of(&mut quiet_alone), Spread::of(&mut quiet_joined));
        println!(
            "  the {quiet} of {} rounds with under {QUIET:.0} ms of steal in each window, pooled: \
             alone p99 {:.2} ms, with the joins {:.2} ms: {:.2}x",
            a.rounds,
            q0.p99,
            q1.p99,
            q1.p99 / q0.p99.max(0.001)
        );
    }
    for (walls, all_in) in joins.iter().filter(|(w, _)| !w.is_empty()) {
        let slowest = walls.iter().map(|w| w.1).fold(0.0, f64::max);
        println!(
            "    the {} snapshots ({:.0} MB each, read and decoded in a process of their own \
             at {}) all in {all_in:.2} s (slowest {slowest:.2} s)",
            a.walls,
            walls.first().map_or(0.0, |w| w.0 as f64 / 1e6),
            a.walls_nice
                .map_or("SCHED_IDLE".to_string(), |n| format!("nice {n}"))
        );
    }
    Ok(())
}

/// An operator scoped to `OTHER` (a city-wide one would itself take a million-ticket
/// snapshot) taking tickets in at `rate` a second until `done`.
async fn operator(
    url: &str,
    rate: u32,
    done: Arc<AtomicBool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let ws = handshake::open(url, None, &handshake::hello(OP, None, Some(OTHER.into())))
        .await
        .map_err(anyhow::Error::msg)?;
    let (mut tx, mut rx) = ws.split();
    tokio::spawn(async move { while rx.next().await.is_some() {} });
    Ok(tokio::spawn(async move {
        let mut ticket = examples::new_ticket();
        ticket.grid = format!("{OTHER}-01-001-001");
        let per_tick = (rate / 100).max(1);
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let mut sent = 0u64;
        while !done.load(Ordering::Relaxed) {
            tick.tick().await;
            for _ in 0..per_tick {
                sent += 1;
                let Ok(frame) = intake_frame(format!("s{sent}"), &ticket) else {
                    return;
                };
                if tx.send(frame).await.is_err() {
                    return;
                }
            }
        }
    }))
}

/// `walls` joins at once from a child process (`--join`): what each read, bytes and
/// seconds.
async fn join_in_child(
    url: &str,
    walls: usize,
    nice: Option<i32>,
) -> anyhow::Result<Vec<(usize, f64)>> {
    if walls == 0 {
        return Ok(vec![]);
    }
    let mut child = Process::new(std::env::current_exe()?);
    child.args(["snapshot", "--join", url, "--walls", &walls.to_string()]);
    if let Some(n) = nice {
        child.args(["--walls-nice", &n.to_string()]);
    }
    let out = tokio::task::spawn_blocking(move || child.output()).await??;
    anyhow::ensure!(
        out.status.success(),
        "the joining walls failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One line a wall: bytes read, seconds taken.
    let read: Vec<(usize, f64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (b, s) = l.split_once(' ')?;
            Some((b.parse().ok()?, s.parse().ok()?))
        })
        .collect();
    anyhow::ensure!(read.len() == walls, "not every wall read its snapshot");
    Ok(read)
}

/// Steal (ms in a window) under which a round counts as quiet.
const QUIET: f64 = 100.0;
