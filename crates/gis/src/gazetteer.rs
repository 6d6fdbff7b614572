//! Placing an address by the city's own names (地名): the division layers' `name`s
//! (district, town, village or community, grid) matched inside an address string. A
//! hotline sends "京口区大港街道港南社区3幢"; the names it holds say where. The deepest
//! level matched wins (a grid over its village over its town), the longest name within a
//! level; the score says how much of the address the chain of names explains.

use std::path::Path;

use super::{Feature, GisError, read_layer};

/// One named place: its id, its name, its level (0 district … 3 grid), its centre.
struct Place {
    id: String,
    name: String,
    level: u8,
    center: Option<[f64; 2]>,
}

/// Where an address was placed.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// The deepest division named: a grid, village, town or district id.
    pub id: String,
    pub name: String,
    /// 0 district, 1 town, 2 village, 3 grid.
    pub level: u8,
    /// The grid to put the ticket on: the match itself at grid level, else `None`
    /// (a village or coarser does not say which grid: an operator places it).
    pub grid: Option<String>,
    pub center: Option<[f64; 2]>,
    /// Characters of the address the matched names cover, of its length (0-1).
    pub score: f64,
}

pub struct Gazetteer {
    places: Vec<Place>,
}

/// The layers a gazetteer reads beside the grid layer, from the coarsest, by name.
const LAYERS: [&str; 3] = ["districts.geojson", "towns.geojson", "villages.geojson"];

impl Gazetteer {
    /// From the division layers in `dir` (those present) and the grid layer, read
    /// already by the caller.
    pub fn load(dir: &Path, grids: &[Feature]) -> Result<Gazetteer, GisError> {
        let mut places = vec![];
        let mut add = |features: &[Feature], level: u8| {
            for f in features {
                let (id, name) = (f.prop("id"), f.prop("name"));
                if id.is_empty() || name.chars().count() < 2 {
                    continue;
                }
                places.push(Place {
                    id: id.to_string(),
                    name: name.to_string(),
                    level,
                    center: f.point("center"),
                });
            }
        };
        for (level, file) in LAYERS.iter().enumerate() {
            let path = dir.join(file);
            if path.exists() {
                add(&read_layer(&path)?, level as u8);
            }
        }
        add(grids, 3);
        Ok(Gazetteer { places })
    }

    pub fn len(&self) -> usize {
        self.places.len()
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The best place `address` names, if any. A deeper match must lie inside the
    /// coarser ones matched (a 港南社区 of another town does not count).
    pub fn place(&self, address: &str) -> Option<Match> {
        let address = address.trim();
        if address.is_empty() {
            return None;
        }
        let found: Vec<&Place> = self
            .places
            .iter()
            .filter(|p| address.contains(p.name.as_str()))
            .collect();
        let coarse: Vec<&&Place> = found.iter().filter(|p| p.level < 3).collect();
        // The deepest, then the longest name; one consistent with the coarser names
        // matched (each of them contains it, or none was matched at that level).
        let consistent = |p: &Place| {
            (0..p.level).all(|l| {
                let at: Vec<_> = coarse.iter().filter(|c| c.level == l).collect();
                at.is_empty() || at.iter().any(|c| protocol::within(&p.id, &c.id))
            })
        };
        let best = found
            .iter()
            .filter(|p| consistent(p))
            .max_by_key(|p| (p.level, p.name.chars().count()))?;
        let covered: usize = found
            .iter()
            .filter(|p| p.level <= best.level && protocol::within(&best.id, &p.id))
            .map(|p| p.name.chars().count())
            .sum();
        let score = (covered as f64 / address.chars().count() as f64).min(1.0);
        Some(Match {
            id: best.id.clone(),
            name: best.name.clone(),
            level: best.level,
            grid: (best.level == 3).then(|| best.id.clone()),
            center: best.center,
            score,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Gazetteer {
        let p = |id: &str, name: &str, level: u8| Place {
            id: id.into(),
            name: name.into(),
            level,
            center: Some([119.4, 32.2]),
        };
        Gazetteer {
            places: vec![
                p("321102", "京口区", 0),
                p("321102-01", "大港街道", 1),
                p("321102-02", "象山街道", 1),
                p("321102-01-003", "港南社区", 2),
                p("321102-02-001", "港南社区", 2),
                p("321102-01-003-002", "港南社区第2网格", 3),
            ],
        }
    }

    #[test]
    fn the_deepest_consistent_name_wins_and_says_how_sure_it_is() {
        let m = g().place("京口区大港街道港南社区第2网格18号").unwrap();
        assert_eq!((m.id.as_str(), m.level), ("321102-01-003-002", 3));
        assert_eq!(m.grid.as_deref(), Some("321102-01-003-002"));
        assert!(m.score > 0.5, "{}", m.score);
        // A community named in two towns: the town named decides.
        let m = g().place("象山街道港南社区5幢").unwrap();
        assert_eq!((m.id.as_str(), m.grid), ("321102-02-001", None));
        let m = g().place("大港街道某小区").unwrap();
        assert_eq!(m.level, 1);
        assert!(g().place("南京市鼓楼区中山路1号").is_none());
        assert!(g().place("").is_none());
    }
}
