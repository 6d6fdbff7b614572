//! `yiping bench-wall`: the CPU cost per frame of the wall's own work, headless. A wall
//! app (MinimalPlugins + the wall's state plugins) mirrors a snapshot of `--tickets`
//! tickets over `--cells` grids, then takes `--rate` deltas a second at 60 frames a second;
//! each frame is timed in parts: ingest + derive (the app's update), the map's recolour
//! and marker writes, and the egui layout of the queue table. The software renderer is too
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
use yiping::wall::link::{MirrorChanged, WallMirror};
use yiping::wall::map::render::recolor;
use yiping::wall::markers::MarkerSlots;
use yiping::wall::panels::PanelCtx;
use yiping::wall::rollup::{RegionIndex, RollUps};
use yiping::wall::state::Queue;
use yiping::wall::text::UiLang;
use yiping::wall::{FeedLink, WallCorePlugin, WallSet};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 20_000)]
    cells: usize,
    #[arg(long, default_value_t = 100_000)]
    tickets: usize,
    /// Deltas per second.
    #[arg(long, default_value_t = 1000)]
    rate: usize,
    #[arg(long, default_value_t = 600)]
    frames: usize,
}

/// Collected by a system in the Draw set, as the map's systems do.
#[derive(Resource, Default)]
struct Changed(Vec<u64>);

fn collect(mut r: MessageReader<MirrorChanged>, mut c: ResMut<Changed>) {
    for MirrorChanged(ch) in r.read() {
        if let yiping::feed::Change::Ticket { id, .. } = ch {
            c.0.push(*id);
        }
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(7);
    let grids: Vec<String> = (0..a.cells)
        .map(|i| {
            format!(
                "321102-{:02}-{:03}-{:03}",
                i / 10_000,
                i / 100 % 100,
                i % 100
            )
        })
        .collect();
    // The grid layer as the map holds it (no shapes: only the colour writes are timed).
    let grid_layer = Layer {
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
    };
    let index = RegionIndex::default();
    let now = now_ms();
    let mk = |rng: &mut SmallRng, id: u64| Ticket {
        id,
        grid: grids[rng.random_range(0..grids.len())].clone(),
        priority: [Priority::Urgent, Priority::Important, Priority::Normal][rng.random_range(0..3)],
        deadline_ms: now + rng.random_range(-3_600_000..86_400_000),
        lon: 119.2 + rng.random_range(0.0..0.6),
        lat: 31.9 + rng.random_range(0.0..0.4),
        status: TicketStatus::InProgress,
        ..examples::ticket()
    };
    let tickets: Vec<Ticket> = (1..=a.tickets as u64).map(|id| mk(&mut rng, id)).collect();

    let (tx, rx) = bounded(1 << 20);
    let (ctx_tx, _cmd_rx) = bounded(16);
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, WallCorePlugin))
        .insert_resource(FeedLink {
            events: rx,
            commands: ctx_tx,
        })
        .init_resource::<Changed>()
        .add_systems(Update, collect.in_set(WallSet::Draw));
    tx.send(FeedEvent::Msg(
        ServerMsg::Snapshot(Snapshot {
            epoch: "e".into(),
            seq: 0,
            part: 0,
            last: true,
            tickets,
            warnings: vec![],
            units: vec![],
            briefing: None,
        }),
        now_us(),
    ))?;
    let t0 = Instant::now();
    app.update();
    let snapshot_ms = t0.elapsed().as_secs_f64() * 1000.0;

    let proj = Projection::new(119.45, 32.1);
    let mut slots = MarkerSlots::new((a.tickets as u32 * 5 / 4).next_power_of_two(), now);
    // The GPU buffer's bytes, as the map system keeps them.
    let mut marker_gpu = vec![0u8; slots.bytes.len()];
    let mut grid_bytes = vec![0u8; a.cells * 16];
    let t0 = Instant::now();
    {
        let w = app.world_mut();
        let mirror = &w.resource::<WallMirror>().0;
        for t in mirror.tickets.values() {
            slots.set(t, &proj);
        }
        slots.flush_all_into(&mut marker_gpu);
        let mut rolls = w.resource_mut::<RollUps>();
        recolor(&grid_layer, "", &mut rolls, &index, &mut grid_bytes, true);
    }
    let full_map_ms = t0.elapsed().as_secs_f64() * 1000.0;
    app.world_mut().resource_mut::<Changed>().0.clear();

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
            let id = rng.random_range(1..=a.tickets as u64);
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
            let ids = std::mem::take(&mut w.resource_mut::<Changed>().0);
            let mirror = &w.resource::<WallMirror>().0;
            for id in ids {
                match mirror.tickets.get(&id) {
                    Some(t) => {
                        slots.set(t, &proj);
                    }
                    None => slots.remove(id),
                }
            }
            slots.flush_into(&mut marker_gpu);
            let mut rolls = w.resource_mut::<RollUps>();
            changed_cells += recolor(&grid_layer, "", &mut rolls, &index, &mut grid_bytes, false);
        }
        let t2 = Instant::now();
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1920.0, 1080.0),
            )),
            ..Default::default()
        };
        {
            let w = app.world();
            let (q, m) = (w.resource::<Queue>(), &w.resource::<WallMirror>().0);
            let trails = yiping::wall::link::AuditTrails::default();
            let cx = PanelCtx {
                lang: UiLang::default(),
                mirror: m,
                map: None,
                trails: &trails,
                now: now_ms(),
                live: true,
            };
            let _ = ctx.run_ui(input, |ui| {
                egui::Panel::right("q").exact_size(800.0).show(ui, |ui| {
                    yiping::wall::panels::queue::table(ui, &cx, q, None);
                });
            });
        }
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
        a.cells,
        a.tickets,
        a.rate,
        total.len()
    );
    println!("snapshot ingest+derive (once)   {snapshot_ms:8.1} ms");
    println!("full map write (once)           {full_map_ms:8.1} ms");
    println!("per frame            mean      p99");
    println!(
        "  ingest + derive  {:7.3}  {:7.3} ms",
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
    println!(
        "  total            {:7.3}  {:7.3} ms",
        mean(&total),
        pct(&mut total, 0.99)
    );
    Ok(())
}
