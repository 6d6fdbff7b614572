//! The map's vocabulary, shared by the map's systems, the panels and the input: the
//! loaded layers, the region in focus, where the camera looks and where it is going, the
//! screen area the panels leave to the map. Data and view state only; no systems.

use bevy::prelude::*;

use super::config::MapConfig;
use super::layers::{self, Layer, Projection as GeoProjection};
use super::rollup::{MicroCell, RegionIndex, regions_of};

/// The loaded map layers and their projection.
#[derive(Resource)]
pub struct MapLayers {
    pub proj: GeoProjection,
    pub outline: Layer,
    pub districts: Layer,
    pub towns: Layer,
    pub villages: Layer,
    pub grids: Layer,
    pub micro_grids: Layer,
    /// For each grid, its micro-grids' indices.
    pub micro_of: Vec<Vec<u32>>,
    pub schematic: bool,
}

impl MapLayers {
    /// The layer at a depth: 1 districts, 2 towns, 3 villages, 4 grids, 5 micro-grids.
    pub fn layer(&self, depth: usize) -> Option<&Layer> {
        match depth {
            1 => Some(&self.districts),
            2 => Some(&self.towns),
            3 => Some(&self.villages),
            4 => Some(&self.grids),
            5 => Some(&self.micro_grids),
            _ => None,
        }
    }

    /// What the roll-ups need of the map: micro-grid shapes by grid, grid counts by region.
    pub fn region_index(&self) -> RegionIndex {
        let mut ix = RegionIndex {
            proj: Some(self.proj),
            ..Default::default()
        };
        for m in &self.micro_grids.cells {
            ix.micro
                .entry(m.parent.clone())
                .or_default()
                .push(MicroCell {
                    id: m.id.clone(),
                    center: m.center,
                    rings: m.polygons.iter().map(|p| p[0].clone()).collect(),
                });
        }
        for g in &self.grids.cells {
            for r in regions_of(&g.id) {
                *ix.grids_in.entry(r).or_default() += 1;
            }
        }
        ix
    }

    pub fn load(cfg: &MapConfig) -> Result<MapLayers, crate::WallError> {
        // The projection centre comes from the outline's first feature.
        let probe = layers::load(&cfg.outline, &GeoProjection::new(0.0, 0.0))?;
        let (mut lo, mut hi) = (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN));
        for p in probe
            .cells
            .iter()
            .flat_map(|c| c.polygons.iter().flat_map(|p| p[0].iter()))
        {
            lo = lo.min(*p);
            hi = hi.max(*p);
        }
        // With lon0 = lat0 = 0 the probe's x is lon * 111.32 and y is lat * 110.57.
        let proj = GeoProjection::new(
            ((lo.x + hi.x) / 2.0 / 111.32) as f64,
            ((lo.y + hi.y) / 2.0 / 110.57) as f64,
        );
        let load = |p: &std::path::Path| layers::load(p, &proj);
        let grids = load(&cfg.grids)?;
        // A city without micro-grids has no such layer.
        let micro_grids = if cfg.micro_grids.exists() {
            load(&cfg.micro_grids)?
        } else {
            layers::Layer::default()
        };
        let mut micro_of = vec![vec![]; grids.cells.len()];
        for (i, m) in micro_grids.cells.iter().enumerate() {
            if let Some(&g) = grids.index.get(&m.parent) {
                micro_of[g as usize].push(i as u32);
            }
        }
        Ok(MapLayers {
            outline: load(&cfg.outline)?,
            districts: load(&cfg.districts)?,
            towns: load(&cfg.towns)?,
            villages: load(&cfg.villages)?,
            grids,
            micro_grids,
            micro_of,
            proj,
            schematic: cfg.schematic,
        })
    }
}

/// A region's name from the map layers (district, town, village, grid), else its id.
pub fn region_name(map: Option<&MapLayers>, id: &str) -> String {
    let Some(m) = map else { return id.to_string() };
    [
        &m.districts,
        &m.towns,
        &m.villages,
        &m.grids,
        &m.micro_grids,
    ]
    .iter()
    .find_map(|l| l.index.get(id).map(|&i| l.cells[i as usize].name.clone()))
    .unwrap_or_else(|| id.to_string())
}

/// The region the wall is looking at ("" = the whole city). View state: it changes through
/// `UiAction::Focus`.
#[derive(Resource, Default, Debug, Clone, PartialEq)]
pub struct Focus(pub String);

/// Where the donuts were drawn this frame (screen centre, radius, region), for clicks.
#[derive(Resource, Default)]
pub struct DonutHits(pub Vec<(Vec2, f32, String)>);

/// Where the camera is going (a fly-to), in world km and km per pixel.
#[derive(Resource, Default)]
pub struct CameraGoal(pub Option<(Vec2, f32)>);

/// The camera's view this frame, for labels and hit tests drawn by egui.
#[derive(Resource, Default, Clone, Copy)]
pub struct MapView {
    pub center: Vec2,
    /// km per logical pixel.
    pub scale: f32,
    /// The map's area on screen (logical pixels): top-left and size.
    pub origin: Vec2,
    pub size: Vec2,
}

impl MapView {
    pub fn to_screen(&self, w: Vec2) -> Vec2 {
        let d = (w - self.center) / self.scale;
        self.origin + Vec2::new(self.size.x / 2.0 + d.x, self.size.y / 2.0 - d.y)
    }
    pub fn to_world(&self, s: Vec2) -> Vec2 {
        let s = s - self.origin;
        let d = Vec2::new(s.x - self.size.x / 2.0, self.size.y / 2.0 - s.y);
        self.center + d * self.scale
    }
}

/// The screen area the panels leave to the map (logical pixels: min, max), set by the UI.
#[derive(Resource, Default, Clone, Copy)]
pub struct MapRect(pub Option<(Vec2, Vec2)>);

/// The world box the camera was last fitted to (a focus, a briefing's area, a ticket's
/// village with its neighbours): fitted again when the map's area changes size (a
/// briefing takes the wall, and gives it back).
#[derive(Resource, Default)]
pub struct Framed(pub Option<(Vec2, Vec2)>);

/// Fit the whole city into the map area once it is known.
#[derive(Resource, Default)]
pub struct FitPending(pub bool);
