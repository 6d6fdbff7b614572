//! The server's own commands, shared by the `yiping-gateway` binary (a server machine's,
//! built without the wall) and the `yiping` binary's `gateway` and `account`.

pub mod account;
pub mod duty;
mod qr;

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::GatewayConfig;

/// The log of a binary (`yiping`, `yiping-gateway`, `yiping-bench`): `RUST_LOG`, or
/// `default`; colours only on a terminal, so that logs piped to a file or a supervisor
/// stay plain.
pub fn init_log(default: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
}

/// Run the gateway: WebSocket feed, HTTP intake, SQLite store (or, with
/// config/cluster.toml, a cluster node on PostgreSQL and JetStream).
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The gateway's settings (config/gateway.toml documents each; config/cluster.toml a
    /// cluster node's).
    #[arg(long, default_value = "config/gateway.toml")]
    pub config: PathBuf,
    /// Override the WebSocket address.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Override the HTTP address.
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// Override the database file.
    #[arg(long)]
    pub database: Option<PathBuf>,
    /// Override the node's name (cluster mode, config/cluster.toml).
    #[arg(long)]
    pub node: Option<String>,
    /// (Benches only) run the gateway's clock this many times as fast as the wall
    /// clock, from `--clock-origin-ms` on (see `yiping-bench year`).
    #[arg(long, hide = true, requires = "clock_origin_ms")]
    pub clock_speed: Option<f64>,
    #[arg(long, hide = true)]
    pub clock_origin_ms: Option<i64>,
}

/// Run the gateway until Ctrl-C (or SIGINT).
pub fn serve(a: ServeArgs) -> anyhow::Result<()> {
    if let (Some(speed), Some(origin)) = (a.clock_speed, a.clock_origin_ms) {
        domain::time::run_fast(origin, speed).map_err(anyhow::Error::msg)?;
        tracing::warn!("the gateway's clock runs {speed} times as fast (a bench)");
    }
    let mut cfg = GatewayConfig::load(&a.config)?;
    if let Some(n) = a.node {
        match cfg.cluster.as_mut() {
            Some(c) => c.node = n,
            None => anyhow::bail!("--node is for a cluster's config ([cluster] in the file)"),
        }
    }
    if let Some(addr) = a.listen {
        cfg.listen = addr;
    }
    if let Some(addr) = a.http_listen {
        cfg.http_listen = addr;
    }
    if let Some(d) = a.database {
        cfg.database = d;
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let g = crate::start(cfg).await?;
        tokio::signal::ctrl_c().await?;
        tracing::info!("stopping");
        g.shutdown().await;
        anyhow::Ok(())
    })
}
