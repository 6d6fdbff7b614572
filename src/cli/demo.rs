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
    // The duty room runs as on a site, with no channel to send on: the wall shows who is
    // on duty and the escalations, each saying no channel is configured.
    let mut duty = yiping::gateway::duty::DutyConfig::default();
    duty.reports.center = "镇江市社会治理现代化指挥中心".into();
    gcfg.duty = Some(duty);
    let roster_admin = admin.clone();
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
            let http = format!("http://{}", gcfg.http_listen);
            let gateway = handle.block_on(yiping::gateway::start(gcfg))?;
            if let Err(e) = demo_roster(&http, &roster_admin) {
                tracing::warn!("the demo's roster was not set: {e:#}");
            }
            // YIPING_DEMO_REPORT=yesterday.pdf: the demo city's daily report of yesterday
            // (the README's picture of one).
            if let Ok(out) = std::env::var("YIPING_DEMO_REPORT")
                && let Err(e) = demo_report(&http, &roster_admin, out.into())
            {
                tracing::warn!("the demo's report was not made: {e:#}");
            }
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

/// The demo's roster: the city center's 值班员, 值班长 (day 08:00-20:00 and night) and
/// 值班领导 (24 hours), yesterday to tomorrow; the wall's operator is the day's officer.
fn demo_roster(http: &str, admin: &str) -> anyhow::Result<()> {
    use yiping::domain::time::{HOUR_MS, civil, day_start, local_day, now_ms};
    let today = local_day(now_ms());
    let at = |day: i64, hour: i64| {
        let c = civil(day_start(day) + hour * HOUR_MS);
        format!("{} {}", c.date(), c.hhmm())
    };
    let people = [
        ("officer", "ZB001", "王磊", "13800000001", "值班员(演示)"),
        ("officer", "ZB002", "陈静", "13800000002", "陈静"),
        ("chief", "ZB011", "张伟", "13800000011", "张伟"),
        ("chief", "ZB012", "刘洋", "13800000012", "刘洋"),
        ("leader", "ZB021", "李强", "13800000021", "李强"),
        ("leader", "ZB022", "赵敏", "13800000022", "赵敏"),
    ];
    let mut csv = String::from("center,role,person,name,phone,credential,start,end\n");
    for day in today - 1..=today + 1 {
        for (i, (role, id, name, phone, cred)) in people.iter().enumerate() {
            let (start, end) = match (role, i % 2) {
                (&"leader", k) if (day + k as i64) % 2 == 0 => (at(day, 8), at(day + 1, 8)),
                (&"leader", _) => continue,
                (_, 0) => (at(day, 8), at(day, 20)),
                _ => (at(day, 20), at(day + 1, 8)),
            };
            csv += &format!(",{role},{id},{name},{phone},{cred},{start},{end}\n");
        }
    }
    let file = std::env::temp_dir().join(format!("yiping-demo-roster-{}.csv", std::process::id()));
    std::fs::write(&file, csv)?;
    let r = yiping::gateway::cli::duty::roster(yiping::gateway::cli::duty::RosterArgs {
        cmd: yiping::gateway::cli::duty::RosterCmd::Import {
            file: file.clone(),
            check: false,
            remote: yiping::gateway::cli::duty::Remote {
                gateway: http.to_string(),
                token: Some(admin.to_string()),
            },
        },
    });
    let _ = std::fs::remove_file(&file);
    r
}

/// Yesterday's daily report of the demo city, into `out`.
fn demo_report(http: &str, token: &str, out: std::path::PathBuf) -> anyhow::Result<()> {
    use yiping::domain::time::{DAY_MS, civil, now_ms};
    let date = civil(now_ms() - DAY_MS).date();
    let format = if out.extension().is_some_and(|e| e == "html") {
        "html"
    } else {
        "pdf"
    };
    yiping::gateway::cli::duty::report(yiping::gateway::cli::duty::ReportArgs {
        kind: "daily".into(),
        date,
        format: format.into(),
        region: None,
        out: Some(out),
        remote: yiping::gateway::cli::duty::Remote {
            gateway: http.to_string(),
            token: Some(token.to_string()),
        },
    })
}
