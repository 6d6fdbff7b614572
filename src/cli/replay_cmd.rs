//! `yiping record` and `yiping replay`: write a gateway's feed to a file, and play such a
//! file back through a gateway of its own (a fresh temporary database) so that any wall
//! shows it as if live, with a replay badge and the recorded clock. `--wall` opens a
//! wall on it in the same process.

use std::path::PathBuf;
use std::time::Duration;

use yiping::gateway::config::{GatewayConfig, ReplaySource, Role, TokenConfig};

use super::{WallArgs, wall_config};

#[derive(clap::Args)]
pub struct RecordArgs {
    /// The gateway's feed, e.g. ws://127.0.0.1:7400, or a cluster's nodes comma-separated.
    #[arg(long)]
    feed: String,
    /// A viewer token is enough.
    #[arg(long, env = "YIPING_TOKEN")]
    token: String,
    /// The CA (PEM) that signed a wss:// gateway's certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The file to append to (one JSON line per message).
    #[arg(long)]
    out: PathBuf,
    /// Stop after this many seconds (default: until Ctrl-C or the gateway closes).
    #[arg(long)]
    seconds: Option<u64>,
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// A recording made by `yiping record`, or a gateway's own database (its event log:
    /// rewinds that gateway's history, read-only, while it runs).
    file: PathBuf,
    /// Recorded seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Start at this recorded time: `2026-11-23 10:30[:00]` (Beijing time), `-2h` or
    /// `-90m` (before now: a rewind), or ms since the epoch. What comes before is applied
    /// at once.
    #[arg(long)]
    from: Option<String>,
    /// Serve the replay here (walls connect with a viewer token from --config).
    #[arg(long, default_value = "127.0.0.1:7400")]
    listen: std::net::SocketAddr,
    #[arg(long, default_value = "127.0.0.1:7401")]
    http_listen: std::net::SocketAddr,
    /// Tokens and limits (the database is always a fresh temporary one).
    #[arg(long, default_value = "config/gateway.toml")]
    gateway_config: PathBuf,
    /// Open a wall on the replay too.
    #[arg(long)]
    wall: bool,
    #[command(flatten)]
    wall_args: WallArgs,
}

pub fn record(a: RecordArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let secs = a.seconds;
        tokio::spawn(async move {
            match secs {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            let _ = stop.send(true);
        });
        let r = yiping::feed::record::record(&a.feed, (&a.token, a.ca.as_deref()), &a.out, stop_rx)
            .await?;
        println!(
            "recorded {} lines up to sequence {} into {}",
            r.lines,
            r.last_seq,
            a.out.display()
        );
        anyhow::Ok(())
    })
}

/// `2026-11-23 10:30[:00]` (or with a `T`), Beijing time; `-2h` or `-90m` before now
/// (to rewind); or ms since the epoch.
pub fn parse_from(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    if let Some(ago) = s.strip_prefix('-') {
        let (n, unit) = ago.split_at(ago.len().saturating_sub(1));
        let per = match unit {
            "h" => 3_600_000,
            "m" => 60_000,
            _ => 0,
        };
        if let (Ok(n), true) = (n.parse::<i64>(), per > 0) {
            return Ok(yiping::domain::time::now_ms() - n * per);
        }
    }
    yiping::domain::time::parse_civil(s).ok_or_else(|| {
        anyhow::anyhow!(
            "--from {s}: write 2026-11-23 10:30 (Beijing time), -2h, or ms since the epoch"
        )
    })
}

pub fn replay(a: ReplayArgs) -> anyhow::Result<()> {
    let from_ms = a.from.as_deref().map(parse_from).transpose()?;
    if !std::fs::metadata(&a.file).is_ok_and(|m| m.is_file()) {
        anyhow::bail!("no recording at {}", a.file.display());
    }
    let mut cfg = GatewayConfig::load(&a.gateway_config)?;
    let dir = std::env::temp_dir().join(format!("yiping-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    cfg.database = dir.join("replay.sqlite");
    cfg.listen = a.listen;
    cfg.http_listen = a.http_listen;
    cfg.replay = Some(ReplaySource {
        path: a.file.clone(),
        speed: a.speed,
        from_ms,
        postgres: None,
    });
    // A wall of this process watches with a token of its own.
    let viewer = format!("replay-viewer-{:016x}", rand::random::<u64>());
    cfg.tokens
        .push(TokenConfig::new(viewer.clone(), Role::Viewer, "回放大屏"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let g = rt.block_on(yiping::gateway::start(cfg))?;
    println!(
        "replaying {} at {}x on ws://{}",
        a.file.display(),
        a.speed,
        g.ws_addr
    );
    let result = if a.wall {
        let wcfg = wall_config(&a.wall_args)?;
        let url = format!("ws://{}", g.ws_addr);
        super::open_wall(
            wcfg,
            yiping::feed::FeedConfig::new(url, viewer),
            &a.wall_args,
            None,
            None,
        )
    } else {
        rt.block_on(async { tokio::signal::ctrl_c().await })
            .map_err(anyhow::Error::from)
    };
    rt.block_on(g.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_times_are_beijing_time() {
        // 2026-11-23 00:00 Beijing is 2026-11-22 16:00 UTC.
        assert_eq!(parse_from("2026-11-23 00:00").unwrap(), 1_795_363_200_000);
        assert_eq!(
            parse_from("2026-11-23T08:00:30").unwrap(),
            1_795_363_200_000 + 8 * 3_600_000 + 30_000
        );
        assert_eq!(parse_from("12345").unwrap(), 12345);
        let ago = yiping::domain::time::now_ms() - parse_from("-2h").unwrap();
        assert!((7_199_000..7_201_000).contains(&ago), "{ago}");
        assert!(
            parse_from("yesterday")
                .unwrap_err()
                .to_string()
                .contains("Beijing")
        );
        assert!(parse_from("2026-13-01 10:00").is_err());
    }
}
