//! `yiping-bench units`: phones of units and grid workers beside the walls. A gateway of
//! its own (a process, so that its memory and CPU are its own) holds N phone clients, each
//! a `unit` credential scoped to its unit's own tickets, and W walls; an operator takes
//! tickets in at a flood's rate and dispatches each to a random unit. The walls' delivery
//! is measured first without the phones, then with them, in the same run; the phones'
//! delivery of their dispatches, the gateway's resident memory per idle phone and its CPU
//! are printed beside.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use yiping::domain::time::now_us;
use yiping::protocol::{ClientMsg, Command, CommandOutcome, ServerMsg, Unit, UnitKind, examples};
use yiping::wire as handshake;

use crate::gateway::{Spread, intake_frame, ts_of};
use crate::wall::rss_of;

#[derive(clap::Args)]
pub struct Args {
    /// Phone clients (unit credentials, one unit each).
    #[arg(long, default_value_t = 15_000)]
    phones: usize,
    /// Walls (city-wide viewers).
    #[arg(long, default_value_t = 8)]
    walls: usize,
    /// Intakes per second, each dispatched to a random unit at once.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Measured seconds of each phase (walls alone, then with the phones).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Phones connecting at once.
    #[arg(long, default_value_t = 200)]
    burst: usize,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(bench(a))
}

/// CPU seconds (user + system) of process `pid` so far.
fn cpu_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name in parentheses: fields 14 and 15 (utime, stime), in ticks.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The readers' end: the flag, and the wake-up of those waiting.
type Done = (AtomicBool, tokio::sync::Notify);

fn set_done(d: &Done, v: bool) {
    d.0.store(v, Ordering::Relaxed);
    if v {
        d.1.notify_waiters();
    }
}

/// Connections that ended before the bench ended them.
static CLOSED: AtomicU64 = AtomicU64::new(0);

/// A client that records the delivery time of each delta while `measuring`.
fn reader(
    mut ws: Ws,
    measuring: Arc<AtomicBool>,
    done: Arc<Done>,
) -> tokio::task::JoinHandle<Vec<u32>> {
    tokio::spawn(async move {
        let mut lat = Vec::new();
        loop {
            // No timer a reader: 15,000 readers re-arming a timeout every 500 ms cost the
            // bench's side (the same two cores) more than the gateway's phones did.
            let stop = done.1.notified();
            tokio::pin!(stop);
            stop.as_mut().enable();
            if done.0.load(Ordering::Relaxed) {
                break;
            }
            // A closed or failed connection ends its reader. (It used to `continue`: a
            // stream that has ended answers at once, so the task spun without yielding,
            // held a worker of the bench's runtime and stalled the run: the "stall after
            // ~610 phones" of the first figures.)
            let m = tokio::select! {
                _ = &mut stop => continue,
                m = ws.next() => m,
            };
            let m = match m {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    if CLOSED.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("a connection failed: {e}");
                    }
                    break;
                }
                None => {
                    if CLOSED.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("a connection was closed by the gateway");
                    }
                    break;
                }
            };
            let Message::Text(t) = m else { continue };
            if measuring.load(Ordering::Relaxed)
                && t.starts_with("{\"type\":\"delta\"")
                && let Some(ts) = ts_of(&t)
            {
                lat.push((now_us() - ts).max(0) as u32);
            }
        }
        lat
    })
}

async fn bench(a: Args) -> anyhow::Result<()> {
    let files = yiping::gateway::admission::raise_open_files();
    anyhow::ensure!(
        files as usize > a.phones + a.walls + 64,
        "this process may open {files} files: raise the limit (ulimit -n) for {} phones",
        a.phones
    );
    let dir = std::env::temp_dir().join(format!("yiping-bench-units-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut tail = format!(
        "[limits]\ncommands_per_minute = 4294967295\nmax_clients = {}\n\
         [[tokens]]\ntoken = \"bench-admin\"\nrole = \"admin\"\nname = \"bench\"\n\
         [[tokens]]\ntoken = \"bench-operator\"\nrole = \"operator\"\nname = \"operator\"\n\
         [[tokens]]\ntoken = \"bench-viewer\"\nrole = \"viewer\"\nname = \"wall\"\n",
        a.phones + a.walls + 16
    );
    for i in 0..a.phones {
        tail.push_str(&format!(
            "[[tokens]]\ntoken = \"phone-{i:05}-token\"\nrole = \"unit\"\nname = \"网格员{i}\"\nunit = \"GW{i:05}\"\n"
        ));
    }
    let exe = std::env::current_exe()?;
    let mut g = crate::process::start_gateway(&exe, &dir, &tail, &[])?;
    let pid = g.child.id();
    let url = g.url.clone();
    let open = |token: String| {
        let url = url.clone();
        async move {
            handshake::open(&url, None, &handshake::hello(&token, None, None))
                .await
                .map_err(anyhow::Error::msg)
        }
    };

    // The units, registered by an admin (pipelined; every answer awaited).
    let t0 = Instant::now();
    let admin = open("bench-admin".into()).await?;
    let (mut tx, mut rx) = admin.split();
    // Answers are read as they come: 15,000 answers and deltas left unread would fill the
    // admin's outbox on the gateway, which cuts it off.
    let n = a.phones;
    let count = Arc::new(AtomicU64::new(0));
    let seen = count.clone();
    let answers = tokio::spawn(async move {
        let mut answered = 0;
        while answered < n {
            match rx.next().await {
                Some(Ok(Message::Text(t))) if t.starts_with("{\"type\":\"command_result\"") => {
                    answered += 1;
                    seen.store(answered as u64, Ordering::Relaxed);
                }
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        answered
    });
    for i in 0..a.phones {
        // A thousand in flight at most (each brings a delta and an answer).
        while i as u64 >= count.load(Ordering::Relaxed) + 1000 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let unit = Unit {
            id: format!("GW{i:05}"),
            name: format!("网格员{i}"),
            kind: UnitKind::GridWorker,
            area: String::new(),
            ..examples::unit()
        };
        let m = ClientMsg::Command {
            key: format!("u{i}"),
            command: Command::UpsertUnit { unit },
        };
        tx.send(Message::Text(serde_json::to_string(&m)?.into()))
            .await?;
    }
    let answered = tokio::time::timeout(Duration::from_secs(300), answers).await??;
    anyhow::ensure!(
        answered == a.phones,
        "{answered} of {} units registered",
        a.phones
    );
    println!(
        "units registered   {} in {:.1} s",
        a.phones,
        t0.elapsed().as_secs_f64()
    );

    let measuring = Arc::new(AtomicBool::new(false));
    let done: Arc<Done> = Arc::new((AtomicBool::new(false), tokio::sync::Notify::new()));
    let mut walls = vec![];
    for _ in 0..a.walls {
        walls.push(reader(
            open("bench-viewer".into()).await?,
            measuring.clone(),
            done.clone(),
        ));
    }
    // The operator: intakes at the rate, each dispatched to a random unit when its id comes.
    let op = open("bench-operator".into()).await?;
    let (op_tx, mut op_rx) = op.split();
    let op_tx = Arc::new(tokio::sync::Mutex::new(op_tx));
    let dispatched = Arc::new(AtomicU64::new(0));
    {
        let (op_tx, dispatched, n) = (op_tx.clone(), dispatched.clone(), a.phones.max(1));
        tokio::spawn(async move {
            let mut k = 0u64;
            while let Some(Ok(Message::Text(t))) = op_rx.next().await {
                let Ok(ServerMsg::CommandResult { key, outcome }) = serde_json::from_str(&t) else {
                    continue;
                };
                let (true, CommandOutcome::Ok { id: Some(id), .. }) =
                    (key.starts_with('i'), outcome)
                else {
                    continue;
                };
                k += 1;
                let unit = format!("GW{:05}", (k.wrapping_mul(2_654_435_761) % n as u64));
                let m = ClientMsg::Command {
                    key: format!("d{id}"),
                    command: Command::Dispatch { ticket: id, unit },
                };
                if let Ok(text) = serde_json::to_string(&m)
                    && op_tx
                        .lock()
                        .await
                        .send(Message::Text(text.into()))
                        .await
                        .is_ok()
                {
                    dispatched.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    let ticket = examples::new_ticket();
    // One phase: the load for `seconds` after a second's warm-up; the walls' and phones'
    // readers record while it runs. Returns the gateway's CPU seconds in it.
    let phase = |label: &'static str| {
        let (op_tx, measuring, ticket) = (op_tx.clone(), measuring.clone(), ticket.clone());
        let seconds = a.seconds;
        let per_tick = (a.rate / 10).max(1);
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let start = Instant::now();
            let mut sent = 0u64;
            let mut cpu0 = None;
            while start.elapsed() < Duration::from_secs(seconds + 1) {
                tick.tick().await;
                if cpu0.is_none() && start.elapsed() >= Duration::from_secs(1) {
                    measuring.store(true, Ordering::Relaxed);
                    cpu0 = Some((cpu_of(pid), Instant::now()));
                }
                for _ in 0..per_tick {
                    sent += 1;
                    let f = intake_frame(format!("i{label}{sent}"), &ticket)?;
                    op_tx.lock().await.send(f).await?;
                }
            }
            measuring.store(false, Ordering::Relaxed);
            let (c0, t0) = cpu0.unwrap_or((cpu_of(pid), start));
            tokio::time::sleep(Duration::from_millis(1500)).await;
            anyhow::Ok((cpu_of(pid) - c0) / t0.elapsed().as_secs_f64())
        }
    };

    // Phase A: the walls alone.
    let cpu_a = phase("a").await?;
    set_done(&done, true);
    let mut lat_a = vec![];
    for w in walls.drain(..) {
        lat_a.extend(w.await?);
    }
    set_done(&done, false);
    for _ in 0..a.walls {
        walls.push(reader(
            open("bench-viewer".into()).await?,
            measuring.clone(),
            done.clone(),
        ));
    }

    // The phones connect, `burst` at a time; then the gateway's memory per idle phone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = rss_of(pid);
    let t0 = Instant::now();
    let mut phones = Vec::with_capacity(a.phones);
    let mut failed = 0;
    for chunk in (0..a.phones).collect::<Vec<_>>().chunks(a.burst.max(1)) {
        let opened = futures_util::future::join_all(
            chunk.iter().map(|i| open(format!("phone-{i:05}-token"))),
        )
        .await;
        for ws in opened {
            match ws {
                Ok(ws) => phones.push(reader(ws, measuring.clone(), done.clone())),
                Err(_) => failed += 1,
            }
        }
    }
    let connect_s = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_after = rss_of(pid);
    let held = phones.len();

    // Phase B: the same load, with the phones.
    let d0 = dispatched.load(Ordering::Relaxed);
    let cpu_b = phase("b").await?;
    set_done(&done, true);
    let mut lat_b = vec![];
    for w in walls {
        lat_b.extend(w.await?);
    }
    let mut lat_p = vec![];
    for p in phones {
        lat_p.extend(p.await?);
    }
    let (wa, wb, ph) = (
        Spread::of(&mut lat_a),
        Spread::of(&mut lat_b),
        Spread::of(&mut lat_p),
    );
    println!(
        "phones             {held} held ({failed} refused), connected in {connect_s:.1} s ({:.0}/s)",
        held as f64 / connect_s.max(1e-9)
    );
    println!("walls              {}", a.walls);
    println!(
        "connections lost   {} (ended by the gateway or failed before the bench ended them)",
        CLOSED.load(Ordering::Relaxed)
    );
    println!(
        "load               {} intakes/s, each dispatched ({} dispatches in phase B)",
        a.rate,
        dispatched.load(Ordering::Relaxed) - d0
    );
    println!(
        "gateway RSS        {rss_before:.0} MB before the phones, {rss_after:.0} MB with them idle: {:.1} KB a phone",
        (rss_after - rss_before) * 1024.0 / held.max(1) as f64
    );
    println!(
        "gateway CPU        {:.0}% without the phones, {:.0}% with them (of one core)",
        cpu_a * 100.0,
        cpu_b * 100.0
    );
    println!("walls p50/p99/max  without phones {wa}");
    println!("walls p50/p99/max  with phones    {wb}");
    println!(
        "walls p99 ratio    {:.2}x (with / without, this run)",
        wb.p99 / wa.p99.max(1e-9)
    );
    println!("phones p50/p99/max {ph} (a dispatch to its phone)");
    let _ = g.child.kill();
    let _ = g.child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
