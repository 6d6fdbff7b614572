//! The built-in demo: a gateway on a fresh temporary database, the simulated city feeding
//! it, and a wall on both, all on loopback in one process. The wall still reaches the
//! gateway only over its WebSocket, with an operator token of the demo's own.
//!
//! The city's past (30 days by default) is generated and written while the wall starts:
//! the wall's window opens at once and shows "connecting" until the gateway, opened on
//! that past, takes its connection (2-4 s on this 2-core machine: BENCHMARKS.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use yiping::gateway::config::{GatewayConfig, Role, TokenConfig};
use yiping::gis::city::City;
use yiping::sim;
use yiping::store::Past;

use super::{WallArgs, wall_config};

/// The demo city's intake (镇江-sized: DOMAIN.md's figures for a city of 3.2 million).
const TICKETS_PER_DAY: f64 = 2600.0;

pub fn run(
    args: WallArgs,
    speed: f64,
    history_days: u32,
    flood_after: Option<u64>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut cfg = wall_config(&args)?;
    let dir = std::env::temp_dir().join(format!("yiping-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // Tokens made for this run only: nothing outside this process can use them.
    let admin = format!("demo-admin-{:016x}", rand::random::<u64>());
    let operator = format!("demo-operator-{:016x}", rand::random::<u64>());
    // The wall needs the address before the gateway is up: take a free port now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    // ... and one for HTTP, where the wall fetches field photos.
    let http_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    cfg.feed.http = format!("http://127.0.0.1:{http_port}");
    let mut gcfg = GatewayConfig {
        listen: format!("127.0.0.1:{port}").parse()?,
        http_listen: format!("127.0.0.1:{http_port}").parse()?,
        database: dir.join("demo.sqlite"),
        ..Default::default()
    };
    // The gateway knows the city's grids: a ticket on any other is refused.
    gcfg.area.grids = Some(cfg.map.grids.clone());
    gcfg.tokens = vec![
        TokenConfig::new(admin.clone(), Role::Admin, "仿真系统"),
        TokenConfig::new(operator.clone(), Role::Operator, "值班员(演示)"),
    ];
    // The file, and so its epoch (the one log this wall may command), exists from here.
    let epoch = yiping::store::Store::open(&gcfg.database, Default::default())?
        .epoch()
        .to_string();
    let city_dir = cfg
        .map
        .grids
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| "assets/city".into());
    let city = Arc::new(
        City::load(&city_dir, &cfg.map.outline).context("loading the demo city's layers")?,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let url = format!("ws://127.0.0.1:{port}");
    let stop = Arc::new(AtomicBool::new(false));
    let sim_opts = sim::SimOptions {
        url: url.clone(),
        ca: None,
        token: admin,
        speed,
        tickets_per_day: TICKETS_PER_DAY,
        seed: rand::random(),
        duration: None,
        warmup: None,
        flood_after: flood_after.map(Duration::from_secs),
    };
    let city_stop = stop.clone();
    let handle = rt.handle().clone();
    let gateway_url = url.clone();
    let city_thread = std::thread::Builder::new()
        .name("yiping-demo-city".into())
        .spawn(move || -> anyhow::Result<()> {
            if history_days > 0 {
                write_history(city.clone(), history_days, &gcfg.database)?;
            }
            let gateway = handle.block_on(yiping::gateway::start(gcfg))?;
            tracing::info!(
                "demo gateway on {gateway_url} after {:.2} s",
                started.elapsed().as_secs_f64()
            );
            if let Err(e) = sim::run(&sim_opts, &city, city_stop) {
                tracing::error!("simulator stopped: {e:#}");
            }
            handle.block_on(gateway.shutdown());
            Ok(())
        })?;
    let mut feed = yiping::feed::FeedConfig::new(url, operator);
    // On loopback, while the gateway opens on the past: try again often.
    feed.backoff_max = Duration::from_millis(400);
    let result = super::open_wall(
        cfg,
        feed,
        &args,
        Some(epoch),
        Some(std::sync::Arc::new(yiping::bridge::DbRewind::new(
            dir.join("demo.sqlite"),
            rt.handle().clone(),
        ))),
    );
    stop.store(true, Ordering::Relaxed);
    match city_thread.join() {
        Ok(Err(e)) => tracing::error!("the demo city did not start: {e:#}"),
        Err(_) => tracing::error!("the demo city's thread panicked"),
        Ok(Ok(())) => {}
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The city's past, written before the gateway opens the file: its first snapshot already
/// has yesterday, last week and the month. The past is generated on one thread and
/// written on this one as it comes (generating and writing each take ~2 s here).
fn write_history(city: Arc<City>, days: u32, database: &std::path::Path) -> anyhow::Result<()> {
    let t = Instant::now();
    let store = yiping::store::Store::open(database, Default::default())?;
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Past>>(16);
    let generator = std::thread::Builder::new()
        .name("yiping-demo-past".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(4096);
            let history = sim::history::generate(
                &city,
                TICKETS_PER_DAY,
                days,
                rand::random(),
                yiping::domain::time::now_ms(),
                |p| {
                    batch.push(p);
                    if batch.len() == 4096 {
                        // The writer gone (it failed): its error is the one to report.
                        let _ = tx.send(std::mem::take(&mut batch));
                    }
                },
            );
            let _ = tx.send(batch);
            history
        })?;
    let mut records = 0usize;
    store.import_history(rx.iter().flatten().inspect(|_| records += 1), || {
        generator.join().unwrap_or_default()
    })?;
    tracing::info!(
        "demo history: {days} days, {records} records, generated and written in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
