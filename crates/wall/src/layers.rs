//! Map layers from GeoJSON: projected to a flat km plane and tessellated (earcutr) into
//! merged triangle lists, one per layer, each vertex tagged with its cell's index.

use std::collections::HashMap;
use std::path::Path;

use bevy::math::Vec2;

/// Projection: equirectangular around the city's centre, in km. Accurate to well under
/// a pixel across one city.
#[derive(Clone, Copy, Debug)]
pub struct Projection {
    pub lon0: f64,
    pub lat0: f64,
    kx: f64,
}

impl Projection {
    pub fn new(lon0: f64, lat0: f64) -> Self {
        Projection {
            lon0,
            lat0,
            kx: 111.32 * lat0.to_radians().cos(),
        }
    }
    pub fn to_world(&self, lon: f64, lat: f64) -> Vec2 {
        Vec2::new(
            ((lon - self.lon0) * self.kx) as f32,
            ((lat - self.lat0) * 110.57) as f32,
        )
    }
}

/// One region of a layer.
#[derive(Clone, Debug)]
pub struct Cell {
    pub id: String,
    pub name: String,
    pub parent: String,
    pub center: Vec2,
    /// Polygons: exterior ring first, then holes; world coordinates.
    pub polygons: Vec<Vec<Vec<Vec2>>>,
}

#[derive(Clone, Debug, Default)]
pub struct Layer {
    pub cells: Vec<Cell>,
    pub index: HashMap<String, u32>,
}

#[derive(thiserror::Error, Debug)]
pub enum LayerError {
    #[error("cannot read map layer {0}: {1}")]
    Read(String, std::io::Error),
    #[error("map layer {0}: {1}")]
    Bad(String, String),
}

/// Read a polygon layer; every feature needs an `id` (or `adcode`) property.
pub fn load(path: &Path, proj: &Projection) -> Result<Layer, LayerError> {
    let p = path.display().to_string();
    let features = gis::read_layer(path).map_err(|e| match e {
        gis::GisError::Read(p, e) => LayerError::Read(p, e),
        other => LayerError::Bad(p.clone(), other.to_string()),
    })?;
    let mut layer = Layer::default();
    for f in &features {
        let id = match (f.prop("id"), f.properties.get("adcode")) {
            ("", Some(code)) => code
                .as_str()
                .map(str::to_string)
                .unwrap_or(code.to_string()),
            ("", None) => format!("feature-{}", f.index),
            (id, _) => id.to_string(),
        };
        if !f.has_geometry {
            return Err(LayerError::Bad(p, format!("feature {id} has no geometry")));
        }
        let polygons: Vec<Vec<Vec<Vec2>>> = f
            .polygons
            .iter()
            .map(|poly| {
                poly.iter()
                    .map(|ring| ring.iter().map(|c| proj.to_world(c[0], c[1])).collect())
                    .collect()
            })
            .collect();
        if polygons.is_empty() {
            return Err(LayerError::Bad(p, format!("feature {id} is not a polygon")));
        }
        let center = f
            .point("center")
            .map(|c| proj.to_world(c[0], c[1]))
            .unwrap_or_else(|| {
                let pts = &polygons[0][0];
                pts.iter().copied().sum::<Vec2>() / pts.len().max(1) as f32
            });
        layer.index.insert(id.clone(), layer.cells.len() as u32);
        layer.cells.push(Cell {
            id,
            name: f.prop("name").to_string(),
            parent: f.prop("parent").to_string(),
            center,
            polygons,
        });
    }
    Ok(layer)
}

/// A merged triangle list: positions, and per vertex the cell index.
#[derive(Default)]
pub struct Triangles {
    pub positions: Vec<[f32; 3]>,
    pub cell: Vec<u32>,
    pub indices: Vec<u32>,
}

/// Tessellate every cell of a layer into one triangle list.
pub fn fill(layer: &Layer, z: f32) -> Triangles {
    let mut out = Triangles::default();
    for (ci, cell) in layer.cells.iter().enumerate() {
        for poly in &cell.polygons {
            let mut flat = Vec::new();
            let mut holes = Vec::new();
            for (ri, ring) in poly.iter().enumerate() {
                // GeoJSON rings repeat the first point last; earcut wants it once.
                let n = if ring.len() > 1 && ring[0] == ring[ring.len() - 1] {
                    ring.len() - 1
                } else {
                    ring.len()
                };
                if ri > 0 {
                    holes.push(flat.len() / 2);
                }
                for v in &ring[..n] {
                    flat.push(v.x as f64);
                    flat.push(v.y as f64);
                }
            }
            let Ok(tris) = earcutr::earcut(&flat, &holes, 2) else {
                continue;
            };
            let base = out.positions.len() as u32;
            for k in 0..flat.len() / 2 {
                out.positions
                    .push([flat[2 * k] as f32, flat[2 * k + 1] as f32, z]);
                out.cell.push(ci as u32);
            }
            out.indices
                .extend(tris.into_iter().map(|i| base + i as u32));
        }
    }
    out
}

/// Every ring edge of a layer as thin quads `width` km wide: outlines as one mesh.
pub fn outline(layer: &Layer, width: f32, z: f32) -> (Vec<[f32; 3]>, Vec<u32>) {
    let mut pos = Vec::new();
    let mut idx = Vec::new();
    for cell in &layer.cells {
        for poly in &cell.polygons {
            for ring in poly {
                for w in ring.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    let d = b - a;
                    if d.length_squared() == 0.0 {
                        continue;
                    }
                    let n = Vec2::new(-d.y, d.x).normalize() * (width / 2.0);
                    let base = pos.len() as u32;
                    for v in [a + n, a - n, b - n, b + n] {
                        pos.push([v.x, v.y, z]);
                    }
                    idx.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
                }
            }
        }
    }
    (pos, idx)
}
