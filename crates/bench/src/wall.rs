//! `yiping-bench wall`: the CPU cost per frame of the wall's own work, headless. A wall
//! app (MinimalPlugins + the wall's state plugins) mirrors a snapshot of `--tickets`
//! tickets over `--cells` grids, then takes `--rate` deltas a second at 60 frames a second;
//! each frame is timed in parts: ingest + derive (the app's update: the mirror, queue,
//! roll-ups and marker slots), the map's writes (marker slots to the GPU buffer's bytes,
//! cells recoloured), and the egui layout of the queue table. The software renderer is too
//! slow to time frames honestly, so the GPU side is not in these figures.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy_egui::egui;
use crossbeam_channel::bounded;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use yiping::domain::time::{now_ms, now_us};
use yiping::feed::FeedEvent;
use yiping::protocol::{
    AuditEntry, Event, Priority, ServerMsg, Snapshot, Ticket, TicketStatus, examples,
};
use yiping::wall::layers::{Cell, Layer, Projection};
use yiping::wall::link::WallMirror;
use yiping::wall::map::render::recolor;
use yiping::wall::markers::MarkerSlots;
use yiping::wall::panels::PanelCtx;
use yiping::wall::rollup::{RegionIndex, RollUps};
use yiping::wall::state::Queue;
use yiping::wall::text::UiLang;
use yiping::wall::{FeedLink, WallCorePlugin};

#[derive(clap::Args)]
pub struct Args {
    /// Grid cells, one size after another (a city, then a province): with two sizes the
    /// run ends with the second's per-frame cost over the first's.
    #[arg(long, value_delimiter = ',', default_values_t = [20_000, 200_000])]
    cells: Vec<usize>,
    /// Open tickets in the snapshot, one per size.
    #[arg(long, value_delimiter = ',', default_values_t = [100_000, 1_000_000])]
    tickets: Vec<usize>,
    /// Deltas per second.
    #[arg(long, default_value_t = 1000)]
    rate: usize,
    #[arg(long, default_value_t = 600)]
    frames: usize,
    /// Tickets per snapshot part (the gateway's `limits.snapshot_part`).
    #[arg(long, default_value_t = 2000)]
    part: usize,
}

/// One size's per-frame figures, ms.
struct Figures {
    mean: f64,
    p99: f64,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

pub fn run(a: Args) -> anyhow::Result<()> {
    if a.cells.len() != a.tickets.len() || a.cells.is_empty() {
        anyhow::bail!(
            "give as many --cells as --tickets (e.g. --cells 20000,200000 --tickets 100000,1000000)"
        );
    }
    if a.part == 0 || a.frames <= 10 {
        anyhow::bail!("--part must be > 0 and --frames > 10");
    }
    let mut all = vec![];
    for (&cells, &tickets) in a.cells.iter().zip(&a.tickets) {
        all.push(run_size(cells, tickets, &a)?);
        println!();
    }
    if let [first, .., last] = &all[..] {
        println!(
            "per-frame total, {} cells + {} tickets over {} + {}: mean {:.2}x, p99 {:.2}x",
            a.cells[a.cells.len() - 1],
            a.tickets[a.tickets.len() - 1],
            a.cells[0],
            a.tickets[0],
            last.mean / first.mean,
            last.p99 / first.p99
        );
    }
    Ok(())
}

/// `cells` grid ids of one district, in the city's id scheme.
pub fn grid_ids(cells: usize) -> Vec<String> {
    (0..cells)
        .map(|i| {
            format!(
                "321102-{:02}-{:03}-{:03}",
                i / 10_000,
                i / 100 % 100,
                i % 100
            )
        })
        .collect()
}

/// A ticket of the benches: open, on a random grid of `grids`, with a deadline from an
/// hour ago to a day ahead.
pub fn bench_ticket(rng: &mut SmallRng, grids: &[String], id: u64, now: i64) -> Ticket {
    Ticket {
        id,
        grid: grids[rng.random_range(0..grids.len())].clone(),
        priority: [Priority::Urgent, Priority::Important, Priority::Normal][rng.random_range(0..3)],
        deadline_ms: now + rng.random_range(-3_600_000..86_400_000),
        lon: 119.2 + rng.random_range(0.0..0.6),
        lat: 31.9 + rng.random_range(0.0..0.4),
        status: TicketStatus::InProgress,
        ..examples::ticket()
    }
}

/// The grid layer as the map holds it (no shapes: only the colour writes are timed).
pub fn grid_layer(grids: &[String]) -> Layer {
    Layer {
        cells: grids
            .iter()
            .map(|g| Cell {
                id: g.clone(),
                name: g.clone(),
                parent: String::new(),
                center: Vec2::ZERO,
                polygons: vec![],
            })
            .collect(),
        index: grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.clone(), i as u32))
            .collect::<HashMap<String, u32>>(),
    }
}

/// How a headless wall runs its systems.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// One thread: the figures are the systems' CPU time, without the task pool's
    /// wake-ups (which on two cores moved the mean by 2x between identical runs).
    One,
    /// Bevy's multi-threaded executor, as the wall runs (systems that share nothing run
    /// at once).
    AsTheWall,
}

/// A headless wall: the state plugins, fed by `link`, with marker slots as the map keeps
/// them.
pub fn wall_app(link: FeedLink, threads: Threads) -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins.set(yiping::wall::task_pools()),
        WallCorePlugin,
    ))
    .insert_resource(link)
    .insert_resource(MarkerSlots::new(
        16_384,
        now_ms(),
        Projection::new(119.45, 32.1),
    ));
    if threads == Threads::One {
        app.edit_schedule(Update, |s| {
            s.set_executor(bevy::ecs::schedule::SingleThreadedExecutor::new());
        });
    }
    app
}

/// The map's whole write after a snapshot, as the map system does it: every marker slot
/// (placed part by part as the snapshot came, `markers::place`) copied to the GPU buffer,
/// every cell's colour; returns the buffers it keeps for later frames.
pub fn full_map_write(app: &mut App, layer: &Layer) -> MapBuffers {
    let w = app.world_mut();
    // The GPU buffer's bytes, as the map system keeps them.
    let mut slots = w.resource_mut::<MarkerSlots>();
    let mut marker_gpu = vec![0u8; slots.bytes.len()];
    slots.flush_all_into(&mut marker_gpu);
    slots.take_pending();
    let mut grid_bytes = vec![0u8; layer.cells.len() * 16];
    let index = RegionIndex::default();
    let mut rolls = w.resource_mut::<RollUps>();
    recolor(layer, "", &mut rolls, &index, &mut grid_bytes, true);
    MapBuffers {
        marker_gpu,
        grid_bytes,
    }
}

pub struct MapBuffers {
    marker_gpu: Vec<u8>,
    grid_bytes: Vec<u8>,
}

/// The queue table laid out once, as a 1080p panel shows it.
pub fn queue_table(app: &App, ctx: &egui::Context) {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1920.0, 1080.0),
        )),
        ..Default::default()
    };
    let w = app.world();
    let (q, m) = (w.resource::<Queue>(), &w.resource::<WallMirror>().0);
    let trails = yiping::wall::link::AuditTrails::default();
    let photos = yiping::wall::photos::WallPhotos::default();
    let cx = PanelCtx {
        lang: UiLang::default(),
        mirror: m,
        map: None,
        trails: &trails,
        now: now_ms(),
        live: true,
        photos: &photos,
    };
    let mut out = ctx.run_ui(input, |ui| {
        egui::Panel::right("q").exact_size(800.0).show(ui, |ui| {
            yiping::wall::panels::queue::table(ui, &cx, q, None);
        });
    });
    // No renderer takes the font texture here: dropped unapplied, egui's debug build
    // panics (seen running `yiping-bench snapshot` from a debug build).
    out.textures_delta.clear();
}

fn run_size(cells: usize, tickets: usize, a: &Args) -> anyhow::Result<Figures> {
    let mut rng = SmallRng::seed_from_u64(7);
    let grids = grid_ids(cells);
    let grid_layer = grid_layer(&grids);
    let index = RegionIndex::default();
    let now = now_ms();
    let mk = |rng: &mut SmallRng, id: u64| bench_ticket(rng, &grids, id, now);
    let all: Vec<Ticket> = (1..=tickets as u64).map(|id| mk(&mut rng, id)).collect();

    let (tx, rx) = bounded(1 << 20);
    let (ctx_tx, _cmd_rx) = bounded(16);
    let mut app = wall_app(
        FeedLink {
            events: rx,
            commands: ctx_tx,
            wake: Default::default(),
        },
        Threads::One,
    );
    // In parts, as the gateway sends it; the frames run until the last is in.
    let parts: Vec<Vec<Ticket>> = all.chunks(a.part).map(|c| c.to_vec()).collect();
    drop(all);
    let n_parts = parts.len();
    let t0 = Instant::now();
    for (i, p) in parts.into_iter().enumerate() {
        tx.send(FeedEvent::Msg(
            ServerMsg::Snapshot(Snapshot {
                epoch: "e".into(),
                seq: 0,
                part: i as u32,
                last: i + 1 == n_parts,
                tickets: p,
                warnings: vec![],
                units: vec![],
                briefing: None,
                duty: None,
            }),
            now_us(),
        ))?;
    }
    let mut snapshot_frames = 0;
    while app
        .world()
        .resource::<yiping::wall::link::FeedHealth>()
        .loading
        || !tx.is_empty()
    {
        app.update();
        snapshot_frames += 1;
    }
    let snapshot_ms = t0.elapsed().as_secs_f64() * 1000.0;

    let t0 = Instant::now();
    let MapBuffers {
        mut marker_gpu,
        mut grid_bytes,
    } = full_map_write(&mut app, &grid_layer);
    let full_map_ms = t0.elapsed().as_secs_f64() * 1000.0;

    let ctx = egui::Context::default();
    let per_frame = a.rate as f64 / 60.0;
    let mut carry = 0.0;
    let mut seq = 1;
    let (mut upd, mut map, mut ui, mut total) = (vec![], vec![], vec![], vec![]);
    let mut changed_cells = 0usize;
    for f in 0..a.frames {
        carry += per_frame;
        while carry >= 1.0 {
            carry -= 1.0;
            let id = rng.random_range(1..=tickets as u64);
            let t = mk(&mut rng, id);
            let audit = AuditEntry {
                seq,
                ..examples::audit()
            };
            tx.send(FeedEvent::Msg(
                ServerMsg::Delta {
                    epoch: "e".into(),
                    seq,
                    ts_us: now_us(),
                    event: Event::TicketTransitioned { ticket: t, audit },
                },
                now_us(),
            ))?;
            seq += 1;
        }
        let t0 = Instant::now();
        app.update();
        let t1 = Instant::now();
        {
            let w = app.world_mut();
            w.resource_mut::<MarkerSlots>().flush_into(&mut marker_gpu);
            let mut rolls = w.resource_mut::<RollUps>();
            changed_cells += recolor(&grid_layer, "", &mut rolls, &index, &mut grid_bytes, false);
        }
        let t2 = Instant::now();
        queue_table(&app, &ctx);
        let t3 = Instant::now();
        if f >= 10 {
            upd.push((t1 - t0).as_secs_f64() * 1000.0);
            map.push((t2 - t1).as_secs_f64() * 1000.0);
            ui.push((t3 - t2).as_secs_f64() * 1000.0);
            total.push((t3 - t0).as_secs_f64() * 1000.0);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let n = total.len() as f64;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
    println!(
        "cells {} · tickets {} · {} deltas/s at 60 frames/s · {} frames",
        cells,
        tickets,
        a.rate,
        total.len()
    );
    println!(
        "snapshot ingest+derive+markers  {snapshot_ms:8.1} ms  ({n_parts} parts in {snapshot_frames} frames)"
    );
    println!("full map write (once)           {full_map_ms:8.1} ms");
    println!("per frame            mean      p99");
    println!(
        "  ingest + derive  {:7.3}  {:7.3} ms  (mirror, queue, roll-ups, marker slots)",
        mean(&upd),
        pct(&mut upd, 0.99)
    );
    println!(
        "  map writes       {:7.3}  {:7.3} ms  ({:.1} grids recoloured a frame)",
        mean(&map),
        pct(&mut map, 0.99),
        changed_cells as f64 / n
    );
    println!(
        "  egui queue table {:7.3}  {:7.3} ms",
        mean(&ui),
        pct(&mut ui, 0.99)
    );
    let figures = Figures {
        mean: mean(&total),
        p99: pct(&mut total, 0.99),
    };
    println!(
        "  total            {:7.3}  {:7.3} ms",
        figures.mean, figures.p99
    );
    println!("  resident now     {:7.0} MB", rss_mb());
    Ok(figures)
}

/// This process's resident memory, MB (Linux).
pub fn rss_mb() -> f64 {
    rss_of("self")
}

/// A process's resident memory (`pid`, or "self"), MB (Linux; 0 where unreadable).
pub fn rss_of(pid: impl std::fmt::Display) -> f64 {
    status_mb(pid, "VmRSS")
}

/// A memory field of a process's /proc status (`VmRSS`, `VmHWM`: the peak), MB (Linux; 0
/// where unreadable).
pub fn status_mb(pid: impl std::fmt::Display, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
