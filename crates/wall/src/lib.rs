//! The wall: a Bevy app that mirrors a gateway's feed and shows it on a GPU grid map with
//! egui panels. Plugins by feature; systems ordered ingest → derive → draw (`WallSet`).
//! It reaches a gateway only over the wire (`feed`), never by calling `gateway`.
//!
//! The rooms, and which way they import:
//! - vocabulary, imported by the features and importing none of them: `action` (what
//!   widgets ask for, the selection), `view` (the map's layers, focus, camera view),
//!   `clock` (the time every view counts against), `theme` (the palette), `text`
//!   (language and formats), `fonts`, `config`, `layout`, `layers`, `rollup`;
//! - features, each a plugin over the vocabulary: `link` (the feed into the mirror,
//!   time-boxed), `state` (queue and roll-ups, kept up by the changes), `markers` (each
//!   open ticket's slot for the map's marker buffer, kept up beside them), `act` (applies
//!   every `UiAction`), `briefing`, `tour`, `screen` (burn-in, dimming), `drill` (which
//!   level where), `rewind` (the source it is handed);
//! - views, which read everything and nothing imports: `map` (render, camera, picking)
//!   and `panels` (one file per panel kind).

pub mod act;
pub mod action;
pub mod basemap;
pub mod briefing;
pub mod clock;
pub mod config;
pub mod drill;
mod error;
mod fonts;
pub mod layers;
pub mod layout;
pub mod link;
pub mod map;
pub mod markers;
pub mod panels;
pub mod photos;
pub mod ranked;
pub mod rewind;
pub mod rollup;
pub mod screen;
mod screenshot;
pub mod state;
pub mod text;
pub mod theme;
pub mod tour;
pub mod view;

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::window::{PresentMode, WindowMode, WindowResolution};

pub use error::{RewindError, WallError};
pub use link::FeedLink;

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum WallSet {
    Ingest,
    Derive,
    Draw,
}

/// The wall runs on simulated data: watermark it.
#[derive(Resource, Default, Clone, Copy)]
pub struct DemoMode(pub bool);

/// The wall's state without any rendering: the feed link, the mirror, derived views and
/// the command path. Headless tests run this under `MinimalPlugins`.
pub struct WallCorePlugin;

impl Plugin for WallCorePlugin {
    fn build(&self, app: &mut App) {
        app.configure_sets(
            Update,
            (WallSet::Ingest, WallSet::Derive, WallSet::Draw).chain(),
        )
        .init_resource::<DemoMode>()
        .init_resource::<text::UiLang>();
        link::plugin(app);
        clock::plugin(app);
        state::plugin(app);
        markers::plugin(app);
        act::plugin(app);
        screen::plugin(app);
        tour::plugin(app);
        briefing::plugin(app);
        app.init_resource::<view::DonutHits>();
    }
}

/// Everything drawn: the map and the panels. Needs a window and a renderer.
pub struct WallViewPlugin;

impl Plugin for WallViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins(bevy_egui::EguiPlugin::default())
            .insert_resource(ClearColor(Color::srgb(0.02, 0.035, 0.06)))
            .add_systems(PreStartup, spawn_camera);
        map::plugin(app);
        basemap::plugin(app);
        photos::plugin(app);
        panels::plugin(app);
    }
}

/// The camera that draws the map, into the area the panels leave.
#[derive(Component)]
pub struct MapCamera;

fn spawn_camera(mut commands: Commands, mut egui: ResMut<bevy_egui::EguiGlobalSettings>) {
    use bevy::camera::CameraOutputMode;
    use bevy::camera::visibility::RenderLayers;
    use bevy::render::render_resource::BlendState;
    commands.spawn((
        MapCamera,
        Camera2d,
        // Software renderers pay double for MSAA; the map's edges are axis-aligned anyway.
        Msaa::Off,
        Projection::Orthographic(OrthographicProjection {
            scale: 0.08,
            ..OrthographicProjection::default_2d()
        }),
    ));
    // egui gets a camera of its own over the whole window, so that the map camera's
    // viewport can be the central area alone.
    egui.auto_create_primary_context = false;
    commands.spawn((
        bevy_egui::PrimaryEguiContext,
        Camera2d,
        Msaa::Off,
        RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
}

/// The task pools: at least two threads for the systems. Bevy's multi-threaded executor
/// runs systems on the compute pool only (the main thread waits for them), and on two
/// cores its default gives that pool one thread (and one each to I/O and async compute):
/// the queue, the roll-ups and the marker slots, which share nothing and could run at
/// once, ran one after the other. Measured with `yiping-bench snapshot
/// --first-frame-only` (a million tickets, this 2-core machine): see BENCHMARKS.md, "A
/// province".
pub fn task_pools() -> TaskPoolPlugin {
    let d = TaskPoolOptions::default();
    TaskPoolPlugin {
        task_pool_options: TaskPoolOptions {
            compute: bevy::app::TaskPoolThreadAssignmentPolicy {
                min_threads: 2,
                ..d.compute
            },
            ..d
        },
    }
}

/// How to run a wall.
pub struct WallOptions {
    pub config: config::WallConfig,
    pub feed: FeedLink,
    pub demo: bool,
    /// Save a screenshot to this file after `frames` frames, then exit.
    pub screenshot: Option<(PathBuf, u32)>,
    /// With a screenshot: select the queue's first ticket first.
    pub select_top: bool,
    /// With a screenshot: start a briefing first.
    pub brief: bool,
    /// Open with the queue on this board (`--board`).
    pub board: Option<action::QueueFilter>,
    /// The region to open on ("" = the whole city).
    pub focus: String,
    /// Demo mode: the epoch of the demo's own gateway, the only one it may command.
    pub own_epoch: Option<String>,
    /// Run this tour (config/tours/*.toml), from this step (0-based).
    pub tour: Option<(PathBuf, usize)>,
    /// How to rewind the gateway's history, with the live feed to come back to.
    pub rewind: Option<rewind::Rewind>,
    /// Fetches field photos from the gateway's HTTP port (`None`: the wall shows their
    /// count only).
    pub photos: Option<feed::photos::PhotoFetcher>,
}

/// Open the wall's window and run until it is closed.
pub fn run(opts: WallOptions) -> Result<(), WallError> {
    let layers = view::MapLayers::load(&opts.config.map)?;
    let tour = match &opts.tour {
        Some((path, start)) => {
            let known = |a: &str| {
                layers
                    .layer(rollup::depth(a))
                    .is_some_and(|l| l.index.contains_key(a))
            };
            Some(tour::TourState::new(tour::Tour::load(path, known)?, *start))
        }
        None => None,
    };
    let w = &opts.config.window;
    let window = Window {
        title: w.title.clone(),
        resolution: WindowResolution::new(w.width, w.height).with_scale_factor_override(1.0),
        mode: if w.fullscreen {
            WindowMode::BorderlessFullscreen(bevy::window::MonitorSelection::Primary)
        } else {
            WindowMode::Windowed
        },
        present_mode: PresentMode::AutoNoVsync,
        ..default()
    };
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(window),
                ..default()
            })
            .set(task_pools())
            // The binary sets up tracing itself.
            .disable::<bevy::log::LogPlugin>(),
    )
    .add_plugins((WallCorePlugin, WallViewPlugin))
    .insert_resource(view::Focus(opts.focus.clone()))
    .insert_resource(screen::ScreenCare::new(
        opts.config.screen.clone(),
        std::time::Instant::now(),
    ))
    .insert_resource(basemap::BaseMap::load(&opts.config.map, &layers.proj)?)
    .insert_resource(layers.region_index())
    .insert_resource(layers)
    .insert_resource(opts.feed)
    .insert_resource(photos::WallPhotos::new(opts.photos))
    .insert_resource(DemoMode(opts.demo))
    .insert_resource(text::UiLang(opts.config.lang))
    .insert_resource(panels::WallLayout(opts.config.layout.clone()));
    if let Some(t) = tour {
        app.insert_resource(t);
    }
    if let Some(r) = opts.rewind {
        app.insert_resource(r);
    }
    if opts.demo {
        // A demo wall commands its own gateway or none (an unknown epoch matches nothing).
        app.world_mut().resource_mut::<link::Outbox>().only_epoch =
            Some(opts.own_epoch.clone().unwrap_or_else(|| "-".into()));
    }
    if let Some(f) = opts.board {
        app.insert_resource(f);
    }
    if let Some((path, frames)) = opts.screenshot {
        screenshot::plugin(&mut app, path, frames, opts.select_top, opts.brief);
    }
    app.run();
    Ok(())
}
