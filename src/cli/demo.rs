//! The built-in demo: a gateway on a fresh temporary database, the simulated city feeding
//! it, and a wall on both, all on loopback in one process. The wall still reaches the
//! gateway only over its WebSocket, with an operator token of the demo's own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use yiping::gateway::config::{GatewayConfig, Role, TokenConfig};
use yiping::sim::{self, city::City};

use super::{WallArgs, wall_config};

pub fn run(
    args: WallArgs,
    speed: f64,
    warmup: u64,
    flood_after: Option<u64>,
) -> anyhow::Result<()> {
    let cfg = wall_config(&args)?;
    let dir = std::env::temp_dir().join(format!("yiping-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // Tokens made for this run only: nothing outside this process can use them.
    let admin = format!("demo-admin-{:016x}", rand::random::<u64>());
    let operator = format!("demo-operator-{:016x}", rand::random::<u64>());
    let mut gcfg = GatewayConfig {
        listen: "127.0.0.1:0".parse()?,
        http_listen: "127.0.0.1:0".parse()?,
        database: dir.join("demo.sqlite"),
        ..Default::default()
    };
    // The gateway knows the city's grids: a ticket on any other is refused.
    gcfg.area.grids = Some(cfg.map.grids.clone());
    gcfg.tokens = vec![
        TokenConfig::new(admin.clone(), Role::Admin, "仿真系统"),
        TokenConfig::new(operator.clone(), Role::Operator, "值班员(演示)"),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let gateway = rt.block_on(yiping::gateway::start(gcfg))?;
    let url = format!("ws://{}", gateway.ws_addr);
    tracing::info!("demo gateway on {url}, database {}", dir.display());

    let city_dir = cfg
        .map
        .grids
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| "assets/city".into());
    let city = City::load(&city_dir, &cfg.map.outline).context("loading the demo city's layers")?;
    let stop = Arc::new(AtomicBool::new(false));
    let sim_opts = sim::SimOptions {
        url: url.clone(),
        ca: None,
        token: admin,
        speed,
        tickets_per_day: 2600.0,
        seed: rand::random(),
        duration: None,
        warmup: (warmup > 0).then(|| (Duration::from_secs(warmup), 3600.0)),
        flood_after: flood_after.map(Duration::from_secs),
    };
    let sim_stop = stop.clone();
    let sim_thread = std::thread::Builder::new()
        .name("yiping-sim".into())
        .spawn(move || {
            if let Err(e) = sim::run(&sim_opts, &city, sim_stop) {
                tracing::error!("simulator stopped: {e:#}");
            }
        })?;
    let result = super::open_wall(
        cfg,
        yiping::feed::FeedConfig::new(url, operator),
        &args,
        Some(gateway.epoch.clone()),
        Some(std::sync::Arc::new(yiping::bridge::DbRewind::new(
            dir.join("demo.sqlite"),
            rt.handle().clone(),
        ))),
    );
    stop.store(true, Ordering::Relaxed);
    let _ = sim_thread.join();
    rt.block_on(gateway.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
    result
}
