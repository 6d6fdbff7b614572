//! The base map under the grids: water areas, rivers, roads, rail and place names from
//! GeoJSON files named in wall.toml (`[[map.base]]`), so that a site shows its own GIS
//! data. Areas and lines are GPU meshes drawn over the cells' tint and under the grid
//! lines, markers and labels (the tint is nearly opaque: a river under it would not
//! show); lines are built at a few widths, each shown in its band of zoom, so they keep
//! about the same width in pixels. Place names are drawn with the map's labels. Each
//! layer can be switched off on the wall.

use crate::WallError;
use std::path::Path;

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;

use super::config::{BaseKind, MapConfig};
use super::layers::{Cell, Layer, Projection};
use super::map::render::{BANDS, ZoomBand};

/// One loaded layer: its shapes in world km, and the entity that shows it.
pub struct BaseLayer {
    pub kind: BaseKind,
    pub name: String,
    pub areas: Layer,
    pub lines: Vec<Vec<Vec2>>,
    /// Named points (place names).
    pub places: Vec<(Vec2, String)>,
    pub visible: bool,
    pub entity: Option<Entity>,
}

#[derive(Resource, Default)]
pub struct BaseMap {
    pub layers: Vec<BaseLayer>,
    pub note: String,
}

impl BaseMap {
    /// Read every configured layer; a missing or broken file is an error that names it.
    pub fn load(cfg: &MapConfig, proj: &Projection) -> Result<BaseMap, WallError> {
        let mut layers = vec![];
        for b in &cfg.base {
            layers.push(load_layer(&b.file, b.kind, &b.name, proj)?);
        }
        Ok(BaseMap {
            layers,
            note: cfg.base_note.clone(),
        })
    }
}

fn load_layer(
    path: &Path,
    kind: BaseKind,
    name: &str,
    proj: &Projection,
) -> Result<BaseLayer, WallError> {
    let features = gis::read_layer(path).map_err(|e| WallError::BaseMap {
        kind: kind.en(),
        message: e.to_string(),
    })?;
    let mut l = BaseLayer {
        kind,
        name: if name.is_empty() {
            kind.zh().into()
        } else {
            name.into()
        },
        areas: Layer::default(),
        lines: vec![],
        places: vec![],
        visible: true,
        entity: None,
    };
    let w = |c: &[f64; 2]| proj.to_world(c[0], c[1]);
    for f in &features {
        if !f.polygons.is_empty() {
            l.areas.cells.push(Cell {
                id: f.prop("id").into(),
                name: f.prop("name").into(),
                parent: String::new(),
                center: Vec2::ZERO,
                polygons: f
                    .polygons
                    .iter()
                    .map(|p| p.iter().map(|r| r.iter().map(w).collect()).collect())
                    .collect(),
            });
        }
        l.lines
            .extend(f.lines.iter().map(|r| r.iter().map(w).collect::<Vec<_>>()));
        l.places
            .extend(f.points.iter().map(|p| (w(p), f.prop("name").to_string())));
    }
    if l.areas.cells.is_empty() && l.lines.is_empty() && l.places.is_empty() {
        return Err(WallError::BaseMap {
            kind: kind.en(),
            message: format!(
                "{} has nothing to draw (no polygons, lines or points)",
                path.display()
            ),
        });
    }
    Ok(l)
}

/// Thick polylines as quads `width` km wide, one mesh.
fn line_mesh(lines: &[Vec<Vec2>], width: f32) -> Mesh {
    let (mut pos, mut idx) = (Vec::<[f32; 3]>::new(), Vec::<u32>::new());
    for line in lines {
        for s in line.windows(2) {
            let d = s[1] - s[0];
            if d.length_squared() == 0.0 {
                continue;
            }
            let n = Vec2::new(-d.y, d.x).normalize() * (width / 2.0);
            // Half a width past each end, so that the joints have no gaps.
            let e = d.normalize() * (width / 2.0);
            let base = pos.len() as u32;
            for v in [s[0] - e + n, s[0] - e - n, s[1] + e - n, s[1] + e + n] {
                pos.push([v.x, v.y, 0.0]);
            }
            idx.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
        }
    }
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, pos)
    .with_inserted_indices(Indices::U32(idx))
}

fn area_mesh(layer: &Layer) -> Mesh {
    let t = super::layers::fill(layer, 0.0);
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, t.positions)
    .with_inserted_indices(Indices::U32(t.indices))
}

/// How a kind is drawn: colour, width in pixels, and z (over the cells' tint at 1.0,
/// under the grid lines from 2.0).
fn style(kind: BaseKind) -> (Color, f32, f32) {
    match kind {
        BaseKind::Water => (Color::srgba(0.10, 0.32, 0.55, 0.85), 0.0, 1.2),
        BaseKind::River => (Color::srgba(0.22, 0.50, 0.80, 0.9), 3.0, 1.3),
        BaseKind::Road => (Color::srgba(0.85, 0.72, 0.45, 0.55), 2.5, 1.5),
        BaseKind::Rail => (Color::srgba(0.78, 0.78, 0.85, 0.6), 2.0, 1.6),
        BaseKind::Place => (Color::WHITE, 0.0, 0.0),
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, spawn)
        .add_systems(Update, show_toggled.in_set(super::WallSet::Derive));
}

fn spawn(
    mut commands: Commands,
    base: Option<ResMut<BaseMap>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut colors: ResMut<Assets<ColorMaterial>>,
) {
    let Some(mut base) = base else { return };
    for l in base.layers.iter_mut() {
        let (color, px, z) = style(l.kind);
        if l.kind == BaseKind::Place {
            continue;
        }
        let material = colors.add(ColorMaterial::from(color));
        let parent = commands
            .spawn((Transform::from_xyz(0.0, 0.0, z), Visibility::Inherited))
            .id();
        if !l.areas.cells.is_empty() {
            let child = commands
                .spawn((
                    Mesh2d(meshes.add(area_mesh(&l.areas))),
                    MeshMaterial2d(material.clone()),
                ))
                .id();
            commands.entity(parent).add_child(child);
        }
        if !l.lines.is_empty() {
            for (min, max, at) in BANDS {
                let child = commands
                    .spawn((
                        Mesh2d(meshes.add(line_mesh(&l.lines, px * at))),
                        MeshMaterial2d(material.clone()),
                        ZoomBand { min, max },
                    ))
                    .id();
                commands.entity(parent).add_child(child);
            }
        }
        l.entity = Some(parent);
    }
}

/// A layer switched on or off on the wall shows or hides its meshes.
fn show_toggled(base: Option<Res<BaseMap>>, mut q: Query<&mut Visibility>) {
    let Some(base) = base else { return };
    if !base.is_changed() {
        return;
    }
    for l in &base.layers {
        if let Some(e) = l.entity
            && let Ok(mut v) = q.get_mut(e)
        {
            v.set_if_neq(if l.visible {
                Visibility::Inherited
            } else {
                Visibility::Hidden
            });
        }
    }
}
