//! `yiping import-city`: a site's GeoJSON layers (districts, towns, villages, grids and
//! optionally micro-grids; which property holds the code, the name and the parent's code
//! set in a small TOML) into the layer set the wall and the gateway load, as the demo's.
//!
//! Ids become the project's hierarchical ones (`321102-01-003-07`: a region's id is its
//! parent's, a hyphen, and its own code with the parent's code taken off the front), so the
//! region rules (`protocol::within`) hold for a site's codes as for the demo's. Checked as
//! the demo city's tests check it: every code present and unique, every region's parent
//! found, a point inside it inside the parent, and each parent covered by its children (their
//! areas sum to its area within 1%). Every problem is listed with the feature's code.

use crate::ImportError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use geo::{Area, Contains};
use serde::Deserialize;

use gis::city::{City, Region, center_of};

/// The import's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// The city's name (镇江市).
    pub name: String,
    /// The city's code (321100): the districts' parent.
    #[serde(default)]
    pub code: String,
    pub districts: LayerSpec,
    pub towns: LayerSpec,
    pub villages: LayerSpec,
    pub grids: LayerSpec,
    pub micro_grids: Option<LayerSpec>,
}

/// One layer: its file and which properties hold what.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    pub file: PathBuf,
    /// The property with the region's code (string or number).
    pub code: String,
    /// The property with its name.
    pub name: String,
    /// The property with its parent's code; absent: the parent is the region of the layer
    /// above whose code is the longest prefix of this one's.
    #[serde(default)]
    pub parent: Option<String>,
    /// Grids: the property with the grid worker's name.
    #[serde(default)]
    pub worker: Option<String>,
}

/// One problem, with the layer and the feature's code (or its place in the file).
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub layer: &'static str,
    pub code: String,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.layer, self.code, self.what)
    }
}

/// Read the settings file; relative layer paths are relative to it.
pub fn read_spec(path: &Path) -> Result<SiteSpec, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut spec: SiteSpec = toml::from_str(&text).map_err(|e| ImportError::Settings {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    for l in spec.layers_mut() {
        if l.file.is_relative() {
            l.file = base.join(&l.file);
        }
    }
    Ok(spec)
}

impl SiteSpec {
    fn layers_mut(&mut self) -> Vec<&mut LayerSpec> {
        let mut v = vec![
            &mut self.districts,
            &mut self.towns,
            &mut self.villages,
            &mut self.grids,
        ];
        if let Some(m) = self.micro_grids.as_mut() {
            v.push(m);
        }
        v
    }
}

/// A region as read, before its id is made: its own code and its parent's.
struct Read {
    code: String,
    parent_code: Option<String>,
    region: Region,
}

/// A property as text: a string, or a number written as it is.
fn text(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn read(
    layer: &'static str,
    spec: &LayerSpec,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Read>, ImportError> {
    let features = gis::read_layer(&spec.file)?;
    let bar = progress(features.len() as u64, layer);
    let mut out = Vec::with_capacity(features.len());
    for f in &features {
        bar.inc(1);
        let code = text(f.properties.get(&spec.code));
        let label = if code.is_empty() {
            format!("(feature {} of the file)", f.index)
        } else {
            code.clone()
        };
        let mut bad = |what: String| {
            problems.push(Problem {
                layer,
                code: label.clone(),
                what,
            })
        };
        if code.is_empty() {
            bad(format!("no code in property {:?}", spec.code));
            continue;
        }
        if !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            bad("a code is letters and digits only".into());
            continue;
        }
        if f.polygons.is_empty() {
            bad("its geometry is not a polygon".into());
            continue;
        }
        // A polygon that crosses itself, is open or too short: named with where, and the
        // feature left out of the nesting checks (its area means nothing).
        let broken = gis::validity::problems(f);
        if !broken.is_empty() {
            for p in broken {
                bad(p);
            }
            continue;
        }
        let name = text(f.properties.get(&spec.name));
        if name.is_empty() {
            bad(format!("no name in property {:?}", spec.name));
        }
        let shape = f.to_geo();
        let center = center_of(&shape);
        out.push(Read {
            parent_code: spec.parent.as_ref().map(|p| text(f.properties.get(p))),
            region: Region {
                id: String::new(),
                name,
                parent: String::new(),
                shape,
                center,
                households: 0,
                worker: spec
                    .worker
                    .as_ref()
                    .map(|w| text(f.properties.get(w)))
                    .unwrap_or_default(),
                dedicated: false,
            },
            code,
        });
    }
    bar.finish_and_clear();
    Ok(out)
}

fn progress(n: u64, layer: &str) -> indicatif::ProgressBar {
    // Only on a terminal, and only for files big enough to wait for.
    if n < 2000 || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(n);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} {per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(layer.to_string());
    bar
}

/// Give each region its hierarchical id under its parent (from `parents`: code → region).
fn place(
    layer: &'static str,
    what_parent: &str,
    regions: Vec<Read>,
    parents: &HashMap<String, Region>,
    problems: &mut Vec<Problem>,
) -> HashMap<String, Region> {
    let mut out: HashMap<String, Region> = HashMap::new();
    for mut r in regions {
        let parent_code = match &r.parent_code {
            Some(p) if !p.is_empty() => Some(p.clone()),
            Some(_) => None,
            None => parents
                .keys()
                .filter(|p| r.code.starts_with(p.as_str()) && r.code.len() > p.len())
                .max_by_key(|p| p.len())
                .cloned(),
        };
        let parent = match parent_code
            .as_ref()
            .and_then(|p| parents.get(p).map(|x| (p, x)))
        {
            Some(found) => found,
            None => {
                problems.push(Problem {
                    layer,
                    code: r.code.clone(),
                    what: format!(
                        "no {what_parent} holds it (parent code {})",
                        parent_code.as_deref().unwrap_or("none")
                    ),
                });
                continue;
            }
        };
        let (pcode, p) = parent;
        let local = r
            .code
            .strip_prefix(pcode.as_str())
            .filter(|l| !l.is_empty())
            .unwrap_or(&r.code);
        r.region.id = format!("{}-{local}", p.id);
        r.region.parent = p.id.clone();
        // A point surely inside the region (a centroid of a bent shape may not be).
        let inside = geo::InteriorPoint::interior_point(&r.region.shape);
        if inside.is_none_or(|pt| !p.shape.contains(&pt)) {
            problems.push(Problem {
                layer,
                code: r.code.clone(),
                what: format!("it lies outside its {what_parent} {pcode}"),
            });
        }
        if out.contains_key(&r.code) {
            problems.push(Problem {
                layer,
                code: r.code.clone(),
                what: "the code is there twice".into(),
            });
            continue;
        }
        out.insert(r.code, r.region);
    }
    out
}

/// Each parent's children must cover it: their areas sum to its area within 1%.
fn covered(
    layer: &'static str,
    children_name: &str,
    parents: &HashMap<String, Region>,
    children: &HashMap<String, Region>,
    problems: &mut Vec<Problem>,
) {
    let mut sums: HashMap<&str, f64> = HashMap::new();
    for c in children.values() {
        *sums.entry(c.parent.as_str()).or_default() += c.shape.unsigned_area();
    }
    for (code, p) in parents {
        let want = p.shape.unsigned_area();
        let got = sums.get(p.id.as_str()).copied().unwrap_or(0.0);
        if want > 0.0 && ((got / want) - 1.0).abs() > 0.01 {
            problems.push(Problem {
                layer,
                code: code.clone(),
                what: format!("its {children_name} cover {:.1}% of it", 100.0 * got / want),
            });
        }
    }
}

/// Import the layers `spec` names: the city, or every problem found.
pub fn import(spec: &SiteSpec) -> Result<Result<City, Vec<Problem>>, ImportError> {
    let mut problems = vec![];
    let mut districts = HashMap::new();
    for r in read("district", &spec.districts, &mut problems)? {
        let mut region = r.region;
        region.id = r.code.clone();
        region.parent = spec.code.clone();
        if districts.insert(r.code.clone(), region).is_some() {
            problems.push(Problem {
                layer: "district",
                code: r.code,
                what: "the code is there twice".into(),
            });
        }
    }
    let towns = read("town", &spec.towns, &mut problems)?;
    let towns = place("town", "district", towns, &districts, &mut problems);
    covered("district", "towns", &districts, &towns, &mut problems);
    let villages = read("village", &spec.villages, &mut problems)?;
    let villages = place("village", "town", villages, &towns, &mut problems);
    covered("town", "villages", &towns, &villages, &mut problems);
    let grids = read("grid", &spec.grids, &mut problems)?;
    let grids = place("grid", "village", grids, &villages, &mut problems);
    covered("village", "grids", &villages, &grids, &mut problems);
    let micro = match &spec.micro_grids {
        Some(m) => {
            let read = read("micro-grid", m, &mut problems)?;
            let micro = place("micro-grid", "grid", read, &grids, &mut problems);
            covered("grid", "micro-grids", &grids, &micro, &mut problems);
            micro
        }
        None => HashMap::new(),
    };
    if !problems.is_empty() {
        problems.sort_by(|a, b| (a.layer, &a.code).cmp(&(b.layer, &b.code)));
        return Ok(Err(problems));
    }
    let sorted = |m: HashMap<String, Region>| {
        let mut v: Vec<Region> = m.into_values().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    };
    Ok(Ok(City {
        name: spec.name.clone(),
        outline: geo::MultiPolygon(vec![]),
        districts: sorted(districts),
        towns: sorted(towns),
        villages: sorted(villages),
        grids: sorted(grids),
        micro_grids: sorted(micro),
    }))
}
