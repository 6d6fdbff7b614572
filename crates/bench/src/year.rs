//! `yiping-bench year`: the gateway's memory over a simulated year.
//!
//! A gateway child process runs on a fresh SQLite file with its clock `--speed` times as
//! fast as the wall clock (`domain::time::run_fast`, this process's too, from the same
//! origin), and the demo city's simulator (`sim::run`, the same code as `yiping sim`)
//! drives it over a real WebSocket at the demo's rate, on that clock: deadlines,
//! idempotency keys' expiry and supervision all see simulated time. Each simulated day
//! the gateway's resident memory is read from /proc and its figures from `/metrics`;
//! the run ends with the resident memory at `--days` against that at `--compare`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use yiping::domain::time::{DAY_MS, now_ms, run_fast};
use yiping::gis::city::City;
use yiping::sim::{self, SimOptions};

use crate::process::{Gateway, metrics_text, series, start_gateway};
use crate::wall::{rss_of, status_mb};

#[derive(clap::Args)]
pub struct Args {
    /// Simulated days to run.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// The day whose resident memory the last day's is compared with.
    #[arg(long, default_value_t = 30)]
    compare: u32,
    /// Tickets a simulated day (the demo city's rate).
    #[arg(long, default_value_t = 2600.0)]
    per_day: f64,
    /// Simulated seconds per real second (20,000: a year in 26 minutes).
    #[arg(long, default_value_t = 20_000.0)]
    speed: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value = "assets/city")]
    city: PathBuf,
}

const ADMIN: &str = "bench-year-admin-token";

/// One day's reading.
#[derive(Clone, Copy, Debug, Default)]
struct Reading {
    rss_mb: f64,
    intake: f64,
    open: f64,
    seq: f64,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.compare >= 1 && a.compare < a.days,
        "--compare is a day before --days"
    );
    let city = City::load(&a.city, &a.city.join("../geo/zhenjiang_outline.geojson"))
        .context("loading the city layers (run `yiping gen-city` to make them)")?;
    let dir = std::env::temp_dir().join(format!("yiping-bench-year-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let origin = now_ms();
    run_fast(origin, a.speed).map_err(anyhow::Error::msg)?;
    // Heartbeats (supervision, key expiry) every 100 ms: at 20,000 times, 33 simulated
    // minutes apart.
    let tail = format!(
        "\n[limits]\nheartbeat_ms = 100\n\n\
         [[tokens]]\ntoken = \"{ADMIN}\"\nrole = \"admin\"\nname = \"仿真系统\"\n"
    );
    let args = [
        "--clock-speed".to_string(),
        a.speed.to_string(),
        "--clock-origin-ms".to_string(),
        origin.to_string(),
    ];
    let exe = std::env::current_exe()?;
    let mut gateway = start_gateway(&exe, &dir, &tail, &args)?;
    let stop = Arc::new(AtomicBool::new(false));
    let opts = SimOptions {
        url: gateway.url.clone(),
        ca: None,
        token: ADMIN.into(),
        // The simulator runs on the fast clock: its own speed is one.
        speed: 1.0,
        tickets_per_day: a.per_day,
        seed: a.seed,
        duration: None,
        warmup: None,
        flood_after: None,
    };
    let sim = {
        let stop = stop.clone();
        std::thread::spawn(move || sim::run(&opts, &city, stop))
    };
    let result = watch(&a, origin, &gateway);
    stop.store(true, Ordering::Relaxed);
    let stats = sim
        .join()
        .map_err(|_| anyhow::anyhow!("the simulator panicked"))??;
    println!(
        "simulator: {} tickets, {} commands, {} refused",
        stats.intake, stats.commands, stats.refused
    );
    let _ = gateway.child.kill();
    let _ = gateway.child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Read the gateway each simulated day until `--days`; print the comparison.
fn watch(a: &Args, origin: i64, g: &Gateway) -> anyhow::Result<()> {
    let started = Instant::now();
    let pid = g.child.id();
    let mut readings: Vec<Reading> = Vec::with_capacity(a.days as usize + 1);
    println!("day  real s  resident MB  peak MB  tickets in  open now  log seq");
    while readings.len() <= a.days as usize {
        let day = ((now_ms() - origin) / DAY_MS) as usize;
        if day < readings.len() {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let m = scrape(g.http_port).unwrap_or_default();
        let r = Reading {
            rss_mb: rss_of(pid),
            intake: m.intake,
            open: m.open,
            seq: m.seq,
        };
        while readings.len() <= day {
            readings.push(r);
        }
        if day.is_multiple_of(15) || day == a.compare as usize || day >= a.days as usize {
            println!(
                "{day:>3}  {:>6.0}  {:>11.0}  {:>7.0}  {:>10.0}  {:>8.0}  {:>7.0}",
                started.elapsed().as_secs_f64(),
                r.rss_mb,
                status_mb(pid, "VmHWM"),
                r.intake,
                r.open,
                r.seq
            );
        }
    }
    let (at, end) = (readings[a.compare as usize], readings[a.days as usize]);
    let expect = a.per_day * a.days as f64;
    println!(
        "gateway resident: {:.0} MB at day {} → {:.0} MB at day {}: {:.2}x \
         (goal ≤ 1.2x); {:.0} tickets taken in of ~{expect:.0} expected",
        at.rss_mb,
        a.compare,
        end.rss_mb,
        a.days,
        end.rss_mb / at.rss_mb.max(1.0),
        end.intake
    );
    Ok(())
}

/// The figures read from `/metrics`.
#[derive(Default)]
struct Scraped {
    intake: f64,
    open: f64,
    seq: f64,
}

/// GET /metrics over plain HTTP/1.1 and sum the series the bench prints.
fn scrape(port: u16) -> anyhow::Result<Scraped> {
    let text = metrics_text(port)?;
    Ok(Scraped {
        intake: series(&text, "yiping_intake_total"),
        open: series(&text, "yiping_open_tickets"),
        seq: series(&text, "yiping_log_seq"),
    })
}
