//! The binary's commands: the wall, the gateway, the simulator and the tools, as
//! subcommands. Each command's own module is beside this one; `main.rs` only calls `main`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use yiping::gis::city::City;
use yiping::sim;

mod demo;
mod replay_cmd;

/// Start the feed's network thread and open the wall on it. `demo`: the epoch of the
/// demo's own gateway, the only one the wall may command.
fn open_wall(
    config: yiping::wall::config::WallConfig,
    feed: yiping::feed::FeedConfig,
    args: &WallArgs,
    demo: Option<String>,
    rewind: Option<std::sync::Arc<dyn yiping::wall::rewind::RewindSource>>,
) -> anyhow::Result<()> {
    let rewind = rewind.map(|source| yiping::wall::rewind::Rewind {
        source,
        live: feed.clone(),
        active: None,
        error: None,
    });
    // Field photos come from the gateway's HTTP port: as configured, or the next port on
    // the feed's host.
    let http = (!config.feed.http.is_empty())
        .then(|| config.feed.http.clone())
        .or_else(|| yiping::feed::photos::http_beside(&feed.url));
    let photos = match http {
        Some(h) => match yiping::feed::photos::start(&h, &feed.token, feed.ca.as_deref()) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!("no field photos on this wall: {e}");
                None
            }
        },
        None => None,
    };
    let h = yiping::feed::spawn(feed)?;
    yiping::wall::run(yiping::wall::WallOptions {
        photos,
        config,
        feed: yiping::wall::FeedLink::from(h),
        demo: demo.is_some(),
        own_epoch: demo,
        tour: args.tour.clone().map(|p| (p, args.tour_step.max(1) - 1)),
        rewind,
        screenshot: args.screenshot.clone().map(|p| (p, args.frames)),
        select_top: args.select_top,
        brief: args.brief,
        board: match args.board.as_deref() {
            None => None,
            Some(b) => Some(yiping::wall::action::QueueFilter::board(b).ok_or_else(|| {
                anyhow::anyhow!(
                    "--board {b}: not one of review, callback, extension, hard, suspended, unplaced, overdue, supervised"
                )
            })?),
        },
        focus: args.focus.clone().unwrap_or_default(),
    })?;
    Ok(())
}

/// The wall's config with this run's flags applied.
fn wall_config(a: &WallArgs) -> anyhow::Result<yiping::wall::config::WallConfig> {
    use yiping::wall::config::{Lang, WallConfig};
    let mut cfg = if a.config.exists() {
        WallConfig::load(&a.config)?
    } else {
        tracing::warn!("{} not found: using defaults", a.config.display());
        WallConfig::default()
    };
    match a.lang.as_deref() {
        None => {}
        Some("zh") => cfg.lang = Lang::Zh,
        Some("en") => cfg.lang = Lang::En,
        Some(other) => anyhow::bail!("--lang {other}: use zh or en"),
    }
    if a.fullscreen {
        cfg.window.fullscreen = true;
    }
    if let Some(path) = &a.layout {
        let l = yiping::wall::layout::Layout::load(path)?;
        (cfg.window.width, cfg.window.height) = l.size();
        cfg.layout = Some(l);
    }
    if let Some(s) = &a.size {
        let (w, h) = s
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            .ok_or_else(|| {
                anyhow::anyhow!("--size {s}: write it as WIDTHxHEIGHT, e.g. 7680x2160")
            })?;
        cfg.window.width = w;
        cfg.window.height = h;
    }
    Ok(cfg)
}

#[derive(Parser)]
#[command(
    name = "yiping",
    version,
    about = "一屏 Yiping: a city command center's live wall"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(clap::Args, Clone)]
struct WallArgs {
    /// The wall's config file.
    #[arg(long, default_value = "config/wall.toml")]
    config: PathBuf,
    /// Interface language: zh or en.
    #[arg(long)]
    lang: Option<String>,
    /// Full screen (a video wall).
    #[arg(long)]
    fullscreen: bool,
    /// Window size, e.g. 7680x2160.
    #[arg(long)]
    size: Option<String>,
    /// A wall layout (config/layouts/*.toml): panels, regions, type for reading at 5 m;
    /// the window takes the wall's size unless --size says otherwise.
    #[arg(long)]
    layout: Option<PathBuf>,
    /// Save a screenshot to this PNG after --frames frames, then exit.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    #[arg(long, default_value_t = 30)]
    frames: u32,
    /// With --screenshot: select the first ticket of the queue (shows the dispatch panel).
    #[arg(long)]
    select_top: bool,
    /// Open drilled down to this region (a district, town, village or grid id).
    #[arg(long)]
    focus: Option<String>,
    /// With --screenshot: start a briefing on the worst warning first (shows briefing mode).
    #[arg(long)]
    brief: bool,
    /// Open with the queue on one of the center's boards: review, callback, extension,
    /// hard, suspended, unplaced (or overdue, supervised).
    #[arg(long)]
    board: Option<String>,
    /// Run a self-running tour (config/tours/*.toml), looping.
    #[arg(long)]
    tour: Option<PathBuf>,
    /// With --tour: start at this step (1 = the first).
    #[arg(long, default_value_t = 1)]
    tour_step: usize,
}

#[derive(Subcommand)]
enum Cmd {
    /// The built-in demo (the default): a gateway and the simulated city on loopback,
    /// and the wall on them.
    Demo {
        #[command(flatten)]
        wall: WallArgs,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
        /// Days of history written first (the simulator on a virtual clock, ending now), so
        /// the city has a yesterday, a last week and a month when the wall opens (0: none).
        #[arg(long, default_value_t = 30)]
        history_days: u32,
        /// Start a flood this many seconds in: 30x intake in 扬中市 and 丹徒区 for an hour
        /// of simulated time.
        #[arg(long)]
        flood_after: Option<u64>,
    },
    /// A wall on a real gateway.
    Wall {
        #[command(flatten)]
        wall: WallArgs,
        /// The gateway's feed, e.g. ws://10.0.0.5:7400, or a cluster's nodes comma-separated
        /// (default: config/wall.toml).
        #[arg(long)]
        feed: Option<String>,
        /// A viewer or operator token (default: config/wall.toml; or YIPING_TOKEN).
        #[arg(long, env = "YIPING_TOKEN")]
        token: Option<String>,
        /// Scope the wall to a region (grid-id prefix).
        #[arg(long)]
        region: Option<String>,
        /// The CA (PEM) that signed a wss:// gateway's certificate.
        #[arg(long)]
        ca: Option<PathBuf>,
        /// The gateway's HTTP address, where field photos come from (default: config/
        /// wall.toml's, or the feed's port + 1 on its host).
        #[arg(long)]
        http: Option<String>,
        /// Rewind from the gateway's database file, readable from here, instead of over
        /// the wire (the default: the gateway replays its own log to the wall).
        #[arg(long)]
        gateway_db: Option<PathBuf>,
    },
    /// Run the gateway: WebSocket feed, HTTP intake, SQLite store (or, with
    /// config/cluster.toml, a cluster node on PostgreSQL and JetStream).
    Gateway(yiping::gateway::cli::ServeArgs),
    /// Run the simulated city against a gateway (needs an admin token).
    Sim {
        /// The gateway, or a cluster's nodes comma-separated.
        #[arg(long, default_value = "ws://127.0.0.1:7400")]
        url: String,
        /// The CA (PEM) that signed a wss:// gateway's certificate.
        #[arg(long)]
        ca: Option<PathBuf>,
        #[arg(long, env = "YIPING_TOKEN")]
        token: String,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
        /// Tickets per simulated day for the whole city.
        #[arg(long, default_value_t = 2600.0)]
        per_day: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Stop after this many seconds.
        #[arg(long)]
        seconds: Option<u64>,
        #[arg(long, default_value = "assets/city")]
        city: PathBuf,
        /// Start a flood this many seconds in (see `demo --flood-after`).
        #[arg(long)]
        flood_after: Option<u64>,
    },
    /// Generate the schematic demo city's GeoJSON layers.
    GenCity {
        #[arg(long, default_value = "assets/city")]
        out: PathBuf,
        #[arg(long, default_value = "assets/geo/zhenjiang_outline.geojson")]
        outline: PathBuf,
        #[arg(long, default_value_t = 321100)]
        seed: u64,
    },
    /// Fast-forward the simulator over a period (no gateway, no sleeping) and print how it
    /// compares with the seeds' figures.
    SimYear {
        #[arg(long, default_value_t = 260.0)]
        per_day: f64,
        #[arg(long, default_value_t = 365)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "assets/city")]
        city: PathBuf,
    },
    /// Print one JSON example of every protocol message (the source of PROTOCOL.md).
    ProtocolExamples,
    /// Record a gateway's feed into an append-only file (one JSON line per message).
    Record(replay_cmd::RecordArgs),
    /// Play a recording back through a gateway of its own, as if live (walls connect to
    /// it and show a replay badge); `--wall` opens one.
    Replay(Box<replay_cmd::ReplayArgs>),
    /// The gateway's credentials: add, list, revoke, rotate, and the access log.
    Account(yiping::gateway::cli::account::AccountArgs),
    /// 值班表: check a roster CSV and send it to the gateway.
    Roster(yiping::gateway::cli::duty::RosterArgs),
    /// 日报 / 周报: a daily or weekly report of the token's scope, as PDF or HTML.
    Report(yiping::gateway::cli::duty::ReportArgs),
    /// A site's own division layers (GeoJSON, the properties named in a TOML) into the
    /// layer set the wall and the gateway load; every problem listed with its code.
    ImportCity {
        /// The settings: the city's name, and per layer its file and its code, name and
        /// parent properties (see README, "A real city").
        #[arg(long)]
        spec: PathBuf,
        /// Where to write the layers (point config/wall.toml and [area] grids there).
        #[arg(long)]
        out: PathBuf,
    },
    /// A site's units from a CSV into a gateway (an admin's token).
    ImportUnits {
        #[arg(long)]
        csv: PathBuf,
        #[arg(long, default_value = "ws://127.0.0.1:7400")]
        url: String,
        #[arg(long, env = "YIPING_TOKEN")]
        token: String,
        #[arg(long)]
        ca: Option<PathBuf>,
    },
}

pub fn main() -> anyhow::Result<()> {
    yiping::gateway::cli::init_log("info,wgpu=error,naga=warn");
    let cli = Cli::parse();
    match cli.cmd {
        None => demo::run(
            WallArgs {
                config: "config/wall.toml".into(),
                lang: None,
                fullscreen: false,
                size: None,
                layout: None,
                screenshot: None,
                frames: 30,
                select_top: false,
                focus: None,
                tour: None,
                tour_step: 1,
                brief: false,
                board: None,
            },
            60.0,
            30,
            None,
        ),
        Some(Cmd::Demo {
            wall,
            speed,
            history_days,
            flood_after,
        }) => demo::run(wall, speed, history_days, flood_after),
        Some(Cmd::Wall {
            wall,
            feed,
            token,
            region,
            ca,
            http,
            gateway_db,
        }) => {
            let mut cfg = wall_config(&wall)?;
            if let Some(h) = http {
                cfg.feed.http = h;
            }
            if let Some(f) = feed {
                cfg.feed.url = f;
            }
            if let Some(t) = token {
                cfg.feed.token = t;
            }
            if let Some(r) = region {
                cfg.feed.region = r;
            }
            if cfg.feed.url.is_empty() {
                anyhow::bail!("no gateway: pass --feed ws://HOST:PORT (or run `yiping demo`)");
            }
            let mut fc =
                yiping::feed::FeedConfig::new(cfg.feed.url.clone(), cfg.feed.token.clone());
            fc.region = (!cfg.feed.region.is_empty()).then(|| cfg.feed.region.clone());
            fc.ca = ca;
            // The wall rewinds over the wire (its gateway replays its own log), or, with
            // the gateway's database file at hand, from that file in this process.
            let rt = tokio::runtime::Runtime::new()?;
            let rewind: std::sync::Arc<dyn yiping::wall::rewind::RewindSource> = match gateway_db {
                Some(db) => {
                    std::sync::Arc::new(yiping::bridge::DbRewind::new(db, rt.handle().clone()))
                }
                None => std::sync::Arc::new(yiping::bridge::WireRewind::new(fc.clone())),
            };
            let rewind = Some(rewind);
            open_wall(cfg, fc, &wall, None, rewind)
        }
        Some(Cmd::Gateway(args)) => yiping::gateway::cli::serve(args),
        Some(Cmd::Sim {
            url,
            ca,
            token,
            speed,
            per_day,
            seed,
            seconds,
            city,
            flood_after,
        }) => {
            let city = City::load(&city, &city.join("../geo/zhenjiang_outline.geojson"))
                .context("loading the city layers (run `yiping gen-city` to make them)")?;
            let opts = sim::SimOptions {
                url,
                ca,
                token,
                speed,
                tickets_per_day: per_day,
                seed,
                duration: seconds.map(Duration::from_secs),
                warmup: None,
                flood_after: flood_after.map(Duration::from_secs),
            };
            let stats = sim::run(&opts, &city, Arc::new(AtomicBool::new(false)))?;
            println!(
                "intake {} · commands {} · accepted {} · refused {} · warnings {}",
                stats.intake, stats.commands, stats.accepted, stats.refused, stats.warnings
            );
            Ok(())
        }
        Some(Cmd::GenCity { out, outline, seed }) => {
            let t = std::time::Instant::now();
            let shape = yiping::gis::city::read_outline(&outline)?;
            let spec = sim::city::CitySpec {
                seed,
                ..Default::default()
            };
            let city = sim::city::generate(shape, &spec);
            let gen_s = t.elapsed().as_secs_f64();
            city.write_layers(&out)?;
            for (name, regions) in city.layers() {
                println!("{name:12} {:6}", regions.len());
            }
            println!("generated in {gen_s:.2} s, written to {}", out.display());
            Ok(())
        }
        Some(Cmd::SimYear {
            per_day,
            days,
            seed,
            city,
        }) => {
            let city = City::load(&city, &city.join("../geo/zhenjiang_outline.geojson"))?;
            let t = std::time::Instant::now();
            let r = sim::year::fast_forward(&city, per_day, days, seed, 1_767_196_800_000, None);
            let secs = t.elapsed().as_secs_f64();
            let pct = |x: f64| format!("{:.2}%", x * 100.0);
            println!("days                       {}", r.days);
            println!("tickets                    {}", r.tickets);
            println!(
                "closure rate 办结率         {} (seeds: 98.91%)",
                pct(r.closure_rate)
            );
            println!(
                "dispute resolution 化解率   {} (seeds: 98.7%)",
                pct(r.dispute_resolution_rate)
            );
            println!(
                "resolved at town/village   {} (seeds: 98.3%)",
                pct(r.resolved_low_share)
            );
            println!(
                "satisfaction 满意率         {} (seeds: 97.89%)",
                pct(r.satisfaction)
            );
            let share = |a: u64, b: u64| pct(if b == 0 { 0.0 } else { a as f64 / b as f64 });
            println!(
                "reviews sent back 审核退回   {} of {} reviews",
                share(r.reviews_rejected, r.reviews),
                r.reviews
            );
            println!(
                "extensions 延期             {} asked, {} approved",
                r.extensions_asked, r.extensions_approved
            );
            println!(
                "callbacks 回访              {}: unanswered 未接通 {}, unsatisfied 不满意 {} (reopened)",
                r.callbacks,
                share(r.callbacks_unreached, r.callbacks),
                share(r.callbacks_unsatisfied, r.callbacks)
            );
            println!(
                "hard cases 疑难             {} marked (seeds: 89 hard issues settled at 10 coordination meetings)",
                r.hard_marked
            );
            println!(
                "open at the end            {}: overdue 超期 {} ({}), 疑难 {}",
                r.open_end,
                r.overdue_end,
                share(r.overdue_end, r.open_end),
                r.hard_end
            );
            println!("warnings raised            {}", r.warnings);
            println!("busiest hour               {} tickets", r.peak_hour);
            println!("refused commands           {}", r.refused);
            println!(
                "{} commands in {secs:.1} s: {:.0} events/s",
                r.commands,
                r.commands as f64 / secs
            );
            Ok(())
        }
        Some(Cmd::Record(a)) => replay_cmd::record(a),
        Some(Cmd::Replay(a)) => replay_cmd::replay(*a),
        Some(Cmd::ProtocolExamples) => {
            print!("{}", yiping::protocol::examples::markdown());
            Ok(())
        }
        Some(Cmd::Account(args)) => yiping::gateway::cli::account::run(args),
        Some(Cmd::Roster(a)) => yiping::gateway::cli::duty::roster(a),
        Some(Cmd::Report(a)) => yiping::gateway::cli::duty::report(a),
        Some(Cmd::ImportCity { spec, out }) => {
            let spec = yiping::import::city::read_spec(&spec)?;
            match yiping::import::city::import(&spec)? {
                Ok(city) => {
                    city.write_layers_as(&out, false)?;
                    for (name, regions) in city.layers() {
                        println!("{name:12} {:6}", regions.len());
                    }
                    println!("written to {}", out.display());
                    Ok(())
                }
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    anyhow::bail!("{} problems: nothing written", problems.len())
                }
            }
        }
        Some(Cmd::ImportUnits {
            csv,
            url,
            token,
            ca,
        }) => {
            let units = match yiping::import::units::read(&csv)? {
                Ok(u) => u,
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{}: {p}", csv.display());
                    }
                    anyhow::bail!("{} problems: nothing sent", problems.len());
                }
            };
            let rt = tokio::runtime::Runtime::new()?;
            let out = rt.block_on(yiping::import::units::send(
                &url,
                &token,
                ca.as_deref(),
                &units,
            ))?;
            let mut refused = 0;
            for (id, o) in &out {
                if let yiping::protocol::CommandOutcome::Refused { code, message } = o {
                    refused += 1;
                    eprintln!("{id}: {code}: {message}");
                }
            }
            println!("{} units sent, {refused} refused", out.len());
            anyhow::ensure!(refused == 0, "{refused} units refused");
            Ok(())
        }
    }
}
