//! A city's divisions as layers of polygons (districts → towns → villages → grids →
//! micro-grids), read from and written to GeoJSON: the demo's generated city and a site's
//! imported one alike. What the simulator derives from them (its density of people) is
//! the simulator's own.

use std::collections::BTreeMap;
use std::path::Path;

use geo::{Centroid, MultiPolygon, Point};

use crate::{Feature, GisError};

/// One division at any level.
#[derive(Clone, Debug)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub parent: String,
    pub shape: MultiPolygon<f64>,
    /// Label point (lon, lat).
    pub center: [f64; 2],
    pub households: u32,
    /// Grid worker (grids only).
    pub worker: String,
    /// 综合 comprehensive / 专属 dedicated (grids only).
    pub dedicated: bool,
}

pub struct City {
    pub name: String,
    pub outline: MultiPolygon<f64>,
    pub districts: Vec<Region>,
    pub towns: Vec<Region>,
    pub villages: Vec<Region>,
    pub grids: Vec<Region>,
    pub micro_grids: Vec<Region>,
}

#[derive(thiserror::Error, Debug)]
pub enum CityError {
    #[error("cannot read the outline {0}: {1}")]
    Read(String, std::io::Error),
    #[error("the outline {0} is not a GeoJSON polygon layer: {1}")]
    Parse(String, String),
    #[error("cannot write {0}: {1}")]
    Write(String, std::io::Error),
}

/// Read a GeoJSON polygon layer (`gis`), with this module's errors.
fn read_features(path: &Path) -> Result<(String, Vec<Feature>), CityError> {
    let p = path.display().to_string();
    match crate::read_layer(path) {
        Ok(f) => Ok((p, f)),
        Err(GisError::Read(p, e)) => Err(CityError::Read(p, e)),
        Err(e) => Err(CityError::Parse(p, e.to_string())),
    }
}

pub fn read_outline(path: &Path) -> Result<MultiPolygon<f64>, CityError> {
    let (p, features) = read_features(path)?;
    if let Some(f) = features.iter().find(|f| !f.polygons.is_empty()) {
        return Ok(f.to_geo());
    }
    Err(CityError::Parse(p, "no polygon feature".into()))
}

pub fn center_of(shape: &MultiPolygon<f64>) -> [f64; 2] {
    shape
        .centroid()
        .map(|c: Point<f64>| [c.x(), c.y()])
        .unwrap_or([0.0, 0.0])
}

impl City {
    /// The layers by name, top down, as the GeoJSON files are named.
    pub fn layers(&self) -> [(&'static str, &[Region]); 5] {
        [
            ("districts", &self.districts),
            ("towns", &self.towns),
            ("villages", &self.villages),
            ("grids", &self.grids),
            ("micro_grids", &self.micro_grids),
        ]
    }

    /// Load the layers that `write_layers` wrote (or a real city's, with the same names).
    pub fn load(dir: &Path, outline: &Path) -> Result<City, CityError> {
        let layer = |n: &str| read_layer(&dir.join(format!("{n}.geojson")));
        Ok(City {
            name: "镇江市".into(),
            outline: read_outline(outline)?,
            districts: layer("districts")?,
            towns: layer("towns")?,
            villages: layer("villages")?,
            grids: layer("grids")?,
            // A city without micro-grids has no such file.
            micro_grids: if dir.join("micro_grids.geojson").exists() {
                layer("micro_grids")?
            } else {
                vec![]
            },
        })
    }

    /// Write one GeoJSON file per layer into `dir`, each region marked schematic (示意).
    pub fn write_layers(&self, dir: &Path) -> Result<(), CityError> {
        self.write_layers_as(dir, true)
    }

    /// Write one GeoJSON file per layer into `dir`; `schematic`: the regions are not a
    /// site's official boundaries (the demo's), and the wall says so.
    pub fn write_layers_as(&self, dir: &Path, schematic: bool) -> Result<(), CityError> {
        std::fs::create_dir_all(dir).map_err(|e| CityError::Write(dir.display().to_string(), e))?;
        for (name, regions) in self.layers() {
            let path = dir.join(format!("{name}.geojson"));
            // No micro-grids: no file (an empty layer is not one a wall can draw).
            if name == "micro_grids" && regions.is_empty() {
                continue;
            }
            let text = layer_geojson(name, regions, schematic);
            std::fs::write(&path, text)
                .map_err(|e| CityError::Write(path.display().to_string(), e))?;
        }
        Ok(())
    }
}

fn layer_geojson(layer: &str, regions: &[Region], schematic: bool) -> String {
    let features: Vec<geojson::Feature> = regions
        .iter()
        .map(|r| {
            let mut props = serde_json::Map::new();
            props.insert("id".into(), r.id.clone().into());
            props.insert("name".into(), r.name.clone().into());
            props.insert("parent".into(), r.parent.clone().into());
            props.insert("level".into(), layer.into());
            props.insert("households".into(), r.households.into());
            props.insert(
                "center".into(),
                serde_json::json!([r.center[0], r.center[1]]),
            );
            if layer == "grids" {
                props.insert("worker".into(), r.worker.clone().into());
                props.insert(
                    "kind".into(),
                    if r.dedicated {
                        "dedicated"
                    } else {
                        "comprehensive"
                    }
                    .into(),
                );
            }
            props.insert("schematic".into(), schematic.into());
            geojson::Feature {
                bbox: None,
                geometry: Some(geojson::Geometry::new(geojson::Value::from(&r.shape))),
                id: None,
                properties: Some(props),
                foreign_members: None,
            }
        })
        .collect();
    let fc = geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    };
    geojson::GeoJson::from(fc).to_string()
}

/// Read a layer written by `write_layers` (or a real city's layer with the same
/// properties: `id`, `name`, `parent`).
pub fn read_layer(path: &Path) -> Result<Vec<Region>, CityError> {
    let (p, features) = read_features(path)?;
    let mut out = Vec::with_capacity(features.len());
    for f in features {
        let bad = |m: &str| CityError::Parse(p.clone(), format!("feature {}: {m}", f.index));
        let s = |k: &str| f.prop(k).to_string();
        if !f.has_geometry {
            return Err(bad("no geometry"));
        }
        if f.polygons.is_empty() {
            return Err(bad("not a polygon"));
        }
        let shape = f.to_geo();
        let id = s("id");
        if id.is_empty() {
            return Err(bad("no `id` property"));
        }
        let center = f.point("center").unwrap_or_else(|| center_of(&shape));
        out.push(Region {
            id,
            name: s("name"),
            parent: s("parent"),
            center,
            households: f
                .properties
                .get("households")
                .and_then(|v| v.as_u64())
                .unwrap_or(0) as u32,
            worker: s("worker"),
            dedicated: s("kind") == "dedicated",
            shape,
        });
    }
    Ok(out)
}

/// Group regions by parent id, for roll-ups.
pub fn children_of(regions: &[Region]) -> BTreeMap<&str, Vec<&Region>> {
    let mut m: BTreeMap<&str, Vec<&Region>> = BTreeMap::new();
    for r in regions {
        m.entry(r.parent.as_str()).or_default().push(r);
    }
    m
}
