//! Reading a polygon layer from GeoJSON, in one place: the wall's map layers, the
//! simulator's city, a site's imported layers and the gateway's grid check all read
//! FeatureCollections of (Multi)Polygons with string properties (`id`, `name`, `parent`,
//! …). What each reader does with the shapes (a projection for the GPU, geo's polygons
//! for the simulator) is its own. `city` holds a city's divisions as layers.

use std::path::Path;

use serde_json::{Map, Value};

pub mod city;
pub mod gazetteer;
pub mod validity;

pub use gazetteer::{Gazetteer, Match};

#[derive(thiserror::Error, Debug)]
pub enum GisError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0} is not GeoJSON: {1}")]
    Parse(String, String),
    #[error("{0} is not a FeatureCollection")]
    NotCollection(String),
}

/// A ring: [lon, lat] points, WGS84 degrees.
pub type Ring = Vec<[f64; 2]>;
/// A polygon: its exterior ring, then its holes.
pub type Polygon = Vec<Ring>;

/// One feature of a layer.
pub struct Feature {
    /// Its place in the file, from 0: errors name it when it has no id.
    pub index: usize,
    pub properties: Map<String, Value>,
    /// False when the feature has no geometry at all.
    pub has_geometry: bool,
    /// Its polygons; empty when its geometry is not a (Multi)Polygon.
    pub polygons: Vec<Polygon>,
    /// Its lines ((Multi)LineString) and points ((Multi)Point): a base map's rivers,
    /// roads and place names.
    pub lines: Vec<Ring>,
    pub points: Vec<[f64; 2]>,
}

impl Feature {
    /// A string property ("" when absent or not a string).
    pub fn prop(&self, key: &str) -> &str {
        self.properties
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }

    /// A property as a [lon, lat] pair, if it is one.
    pub fn point(&self, key: &str) -> Option<[f64; 2]> {
        serde_json::from_value(self.properties.get(key)?.clone()).ok()
    }

    /// Its polygons as geo's.
    pub fn to_geo(&self) -> geo::MultiPolygon<f64> {
        let line =
            |r: &Ring| geo::LineString::from(r.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>());
        geo::MultiPolygon(
            self.polygons
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| geo::Polygon::new(line(&p[0]), p[1..].iter().map(line).collect()))
                .collect(),
        )
    }
}

/// Read every feature of a GeoJSON FeatureCollection.
pub fn read_layer(path: &Path) -> Result<Vec<Feature>, GisError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| GisError::Read(p.clone(), e))?;
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e| GisError::Parse(p.clone(), format!("{e}")))?;
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        return Err(GisError::NotCollection(p));
    };
    let ring = |r: &Vec<Vec<f64>>| -> Ring {
        r.iter()
            .filter(|c| c.len() >= 2)
            .map(|c| [c[0], c[1]])
            .collect()
    };
    Ok(fc
        .features
        .into_iter()
        .enumerate()
        .map(|(index, f)| {
            let polygons = match f.geometry.as_ref().map(|g| &g.value) {
                Some(geojson::Value::Polygon(p)) => vec![p.iter().map(ring).collect()],
                Some(geojson::Value::MultiPolygon(mp)) => {
                    mp.iter().map(|p| p.iter().map(ring).collect()).collect()
                }
                _ => vec![],
            };
            let (lines, points) = match f.geometry.as_ref().map(|g| &g.value) {
                Some(geojson::Value::LineString(l)) => (vec![ring(l)], vec![]),
                Some(geojson::Value::MultiLineString(ls)) => {
                    (ls.iter().map(ring).collect(), vec![])
                }
                Some(geojson::Value::Point(p)) if p.len() >= 2 => (vec![], vec![[p[0], p[1]]]),
                Some(geojson::Value::MultiPoint(ps)) => (vec![], ring(ps)),
                _ => (vec![], vec![]),
            };
            Feature {
                index,
                properties: f.properties.unwrap_or_default(),
                has_geometry: f.geometry.is_some(),
                polygons,
                lines,
                points,
            }
        })
        .collect())
}

/// Grids by position: which grid holds a point (an Open311 request brings a position, not
/// a grid). A bounding-box test first, then the polygon.
pub struct GridIndex {
    cells: Vec<(String, geo::Rect<f64>, geo::MultiPolygon<f64>)>,
}

impl GridIndex {
    /// From a grid layer: every feature with an `id` and a polygon.
    pub fn new(features: &[Feature]) -> GridIndex {
        use geo::BoundingRect;
        GridIndex {
            cells: features
                .iter()
                .filter(|f| !f.prop("id").is_empty())
                .filter_map(|f| {
                    let shape = f.to_geo();
                    let rect = shape.bounding_rect()?;
                    Some((f.prop("id").to_string(), rect, shape))
                })
                .collect(),
        }
    }

    /// The grid holding (lon, lat), if any.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<&str> {
        use geo::Contains;
        let p = geo::Point::new(lon, lat);
        self.cells
            .iter()
            .find(|(_, r, shape)| r.contains(&p) && shape.contains(&p))
            .map(|(id, _, _)| id.as_str())
    }

    /// The grids a CAP area names: by id or region (`321102` → every grid inside it).
    pub fn within(&self, region: &str) -> Vec<String> {
        self.cells
            .iter()
            .filter(|(id, _, _)| protocol::within(id, region))
            .map(|(id, _, _)| id.clone())
            .collect()
    }

    /// The grids whose polygons intersect `area` (a CAP polygon): touching it counts, as
    /// for a warning a grid partly under the area is under it. Bounding boxes first.
    pub fn intersecting(&self, area: &geo::Polygon<f64>) -> Vec<String> {
        use geo::{BoundingRect, Intersects};
        let Some(bbox) = area.bounding_rect() else {
            return vec![];
        };
        self.cells
            .iter()
            .filter(|(_, r, shape)| r.intersects(&bbox) && shape.intersects(area))
            .map(|(id, _, _)| id.clone())
            .collect()
    }

    /// The grids within `radius_km` of (lon, lat) (a CAP circle): measured on a local
    /// plane around the centre (under 0.1% off at a city's size).
    pub fn near(&self, lon: f64, lat: f64, radius_km: f64) -> Vec<String> {
        use geo::{Distance, Euclidean, MapCoords};
        let kx = 111.320 * lat.to_radians().cos();
        let ky = 110.574;
        let plane = |c: geo::Coord<f64>| geo::Coord {
            x: (c.x - lon) * kx,
            y: (c.y - lat) * ky,
        };
        let (dlon, dlat) = (radius_km / kx.max(1e-9), radius_km / ky);
        let reach = geo::Rect::new(
            geo::coord! { x: lon - dlon, y: lat - dlat },
            geo::coord! { x: lon + dlon, y: lat + dlat },
        );
        let centre = geo::Point::new(0.0, 0.0);
        self.cells
            .iter()
            .filter(|(_, r, _)| geo::Intersects::intersects(r, &reach))
            .filter(|(_, _, shape)| {
                Euclidean.distance(&centre, &shape.map_coords(plane)) <= radius_km
            })
            .map(|(id, _, _)| id.clone())
            .collect()
    }

    /// The city's region a GB/T 2260 code names: 6 digits a county (区县, the id itself),
    /// 9 a town, 12 a village. A town's part of the id is the code's three digits as an
    /// imported city has it (`import-city`: the code less its parent's, `321102-001`) or
    /// two as the demo city numbers towns (`321102-01`): whichever the city has. `None`
    /// when it has neither.
    pub fn region_of_code(&self, code: &str) -> Option<String> {
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let county = code.get(..6)?;
        let towns = |t: &str| -> Vec<String> {
            let mut v = vec![t.to_string()];
            if let Ok(n) = t.parse::<u32>()
                && n < 100
            {
                v.push(format!("{n:02}"));
            }
            v
        };
        let candidates: Vec<String> = match code.len() {
            6 => vec![county.to_string()],
            9 => towns(&code[6..9])
                .into_iter()
                .map(|t| format!("{county}-{t}"))
                .collect(),
            12 => towns(&code[6..9])
                .into_iter()
                .map(|t| format!("{county}-{t}-{}", &code[9..12]))
                .collect(),
            _ => return None,
        };
        candidates.into_iter().find(|id| self.knows(id))
    }

    /// Does the city have the grid or region `id`?
    pub fn knows(&self, id: &str) -> bool {
        self.cells.iter().any(|(g, _, _)| protocol::within(g, id))
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

#[cfg(test)]
mod code_tests {
    use super::*;

    fn grid(id: &str, x: f64) -> Feature {
        let mut properties = Map::new();
        properties.insert("id".into(), id.into());
        Feature {
            index: 0,
            properties,
            has_geometry: true,
            polygons: vec![vec![vec![
                [x, 0.0],
                [x + 1.0, 0.0],
                [x + 1.0, 1.0],
                [x, 1.0],
                [x, 0.0],
            ]]],
            lines: vec![],
            points: vec![],
        }
    }

    #[test]
    fn gb_t_2260_codes_name_the_citys_regions_as_it_numbers_them() {
        // The demo's two-digit towns, and an imported city's three-digit ones.
        let ix = GridIndex::new(&[
            grid("321102-01-003-005", 0.0),
            grid("321111-002-004-01", 2.0),
        ]);
        assert_eq!(ix.region_of_code("321102").as_deref(), Some("321102"));
        assert_eq!(ix.region_of_code("321102001").as_deref(), Some("321102-01"));
        assert_eq!(
            ix.region_of_code("321102001003").as_deref(),
            Some("321102-01-003")
        );
        assert_eq!(
            ix.region_of_code("321111002").as_deref(),
            Some("321111-002")
        );
        assert_eq!(
            ix.region_of_code("321111002004").as_deref(),
            Some("321111-002-004")
        );
        assert_eq!(ix.region_of_code("110101"), None);
        assert_eq!(ix.region_of_code("3211x2"), None);
        // Touching counts: a triangle in the first grid's corner, away from its centre.
        let tri = geo::Polygon::new(
            geo::LineString::from(vec![(0.05, 0.05), (0.1, 0.05), (0.05, 0.1), (0.05, 0.05)]),
            vec![],
        );
        assert_eq!(ix.intersecting(&tri), vec!["321102-01-003-005".to_string()]);
    }
}
