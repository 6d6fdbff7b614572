//! The schematic demo city: the real outline of 镇江市 with a generated hierarchy inside
//! it (districts → towns → villages → grids → micro-grids), deterministic from a seed.
//!
//! Grids are cells of a lattice refined near the urban cores (a denser core, as in real
//! cities), clipped to the outline. Every upper level is a union of whole grids, assigned
//! by nearest seed point, so each child lies exactly inside its parent and siblings never
//! overlap. Micro-grids are grid quarters. The boundaries are schematic (示意): a real
//! deployment swaps in its official layers through the same GeoJSON files.

use geo::{
    Area, BooleanOps, BoundingRect, Contains, Coord, Intersects, MultiPolygon, Polygon, Rect,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use gis::city::{City, Region, center_of};

use super::names;

/// Sizes to generate; the defaults follow the seeds' figures for 镇江.
#[derive(Clone, Debug)]
pub struct CitySpec {
    pub seed: u64,
    pub towns: usize,
    pub villages: usize,
    /// Comprehensive + dedicated grids, approximately.
    pub grids: usize,
    pub dedicated_share: f64,
}

impl Default for CitySpec {
    fn default() -> Self {
        CitySpec {
            seed: 321100,
            towns: 61,
            villages: 700,
            grids: 3416 + 585,
            dedicated_share: 585.0 / 4001.0,
        }
    }
}

/// 镇江's six districts and county-level cities with their seats (lon, lat) and how strongly
/// urban each seat is.
const DISTRICTS: [(&str, &str, f64, f64, f64); 6] = [
    ("321102", "京口区", 119.470, 32.198, 10.0),
    ("321111", "润州区", 119.412, 32.195, 9.0),
    ("321112", "丹徒区", 119.434, 32.125, 3.0),
    ("321181", "丹阳市", 119.606, 32.010, 5.0),
    ("321182", "扬中市", 119.797, 32.236, 3.0),
    ("321183", "句容市", 119.168, 31.945, 4.0),
];

fn km_dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dx = (a[0] - b[0]) * 111.32 * (32.1f64).to_radians().cos();
    let dy = (a[1] - b[1]) * 110.57;
    (dx * dx + dy * dy).sqrt()
}

/// Urban density at a point: 1 in the countryside, rising towards the district seats.
pub fn density(p: [f64; 2]) -> f64 {
    let mut d = 1.0;
    for (_, _, lon, lat, w) in DISTRICTS {
        let r = km_dist(p, [lon, lat]);
        let sigma = 2.0 + w * 0.45;
        d += w * (-(r * r) / (2.0 * sigma * sigma)).exp();
    }
    d
}

/// An axis-aligned rectangle, whose quarters and halves need no clipping.
fn is_rect(m: &MultiPolygon<f64>) -> bool {
    m.0.len() == 1
        && m.0[0].interiors().is_empty()
        && m.bounding_rect().is_some_and(|b| {
            (b.unsigned_area() - m.unsigned_area()).abs() <= b.unsigned_area() * 1e-9
        })
}

/// Generate the city inside `outline`.
pub fn generate(outline: MultiPolygon<f64>, spec: &CitySpec) -> City {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let cells = lattice(&outline, spec.grids);
    // Districts: nearest seat, weighted so that the urban districts stay compact.
    let mut by_district: Vec<Vec<usize>> = vec![vec![]; DISTRICTS.len()];
    for (i, c) in cells.iter().enumerate() {
        let p = center_of(c);
        let best = (0..DISTRICTS.len())
            .min_by(|&a, &b| {
                let da = km_dist(p, [DISTRICTS[a].2, DISTRICTS[a].3]) / DISTRICTS[a].4.sqrt();
                let db = km_dist(p, [DISTRICTS[b].2, DISTRICTS[b].3]) / DISTRICTS[b].4.sqrt();
                da.total_cmp(&db)
            })
            .unwrap_or(0);
        by_district[best].push(i);
    }
    let centers: Vec<[f64; 2]> = cells.iter().map(center_of).collect();
    // Exactly the dedicated share: schools, hospitals, parks and markets sit mostly in
    // the denser places.
    let n_dedicated = (cells.len() as f64 * spec.dedicated_share).round() as usize;
    let mut order: Vec<(f64, usize)> = centers
        .iter()
        .enumerate()
        .map(|(i, c)| (density(*c).sqrt() * rng.random::<f64>(), i))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let dedicated_cells: std::collections::HashSet<usize> =
        order.iter().take(n_dedicated).map(|(_, i)| *i).collect();
    let total = cells.len().max(1);
    let mut city = City {
        name: "镇江市".into(),
        outline: outline.clone(),
        districts: vec![],
        towns: vec![],
        villages: vec![],
        grids: vec![],
        micro_grids: vec![],
    };
    let mut town_budget = spec.towns;
    let mut village_budget = spec.villages;
    for (di, members) in by_district.iter().enumerate() {
        let (code, dname, lon, lat, _) = DISTRICTS[di];
        let left = DISTRICTS.len() - di;
        let n_towns = if left == 1 {
            town_budget
        } else {
            ((spec.towns * members.len()) as f64 / total as f64)
                .round()
                .max(1.0) as usize
        }
        .min(members.len().max(1))
        .min(town_budget.saturating_sub(left - 1).max(1));
        town_budget = town_budget.saturating_sub(n_towns);
        let towns = split(members, &centers, n_towns, &mut rng);
        let mut d_households = 0;
        for (ti, tmembers) in towns.iter().enumerate() {
            let tid = format!("{code}-{:02}", ti + 1);
            let suffix = if density(centers[tmembers[0]]) > 3.0 {
                "街道"
            } else {
                "镇"
            };
            let tname = names::place(&mut rng) + suffix;
            let share = tmembers.len() as f64 / total as f64;
            let n_vill = ((spec.villages as f64 * share).round() as usize)
                .clamp(1, tmembers.len())
                .min(village_budget.max(1));
            village_budget = village_budget.saturating_sub(n_vill);
            let villages = split(tmembers, &centers, n_vill, &mut rng);
            let mut t_households = 0;
            for (vi, vmembers) in villages.iter().enumerate() {
                let vid = format!("{tid}-{:03}", vi + 1);
                let urban = density(centers[vmembers[0]]) > 3.0;
                let vname = names::place(&mut rng) + if urban { "社区" } else { "村" };
                let mut v_households = 0;
                for (gi, &ci) in vmembers.iter().enumerate() {
                    let gid = format!("{vid}-{:03}", gi + 1);
                    let dedicated = dedicated_cells.contains(&ci);
                    let households = if dedicated {
                        0
                    } else {
                        rng.random_range(300..=500)
                    };
                    v_households += households;
                    let grid = Region {
                        name: format!("{vname}第{}网格", gi + 1),
                        id: gid.clone(),
                        parent: vid.clone(),
                        shape: cells[ci].clone(),
                        center: centers[ci],
                        households,
                        worker: names::person(&mut rng),
                        dedicated,
                    };
                    city.micro_grids.extend(quarters(&grid, &mut rng));
                    city.grids.push(grid);
                }
                t_households += v_households;
                city.villages.push(union_region(
                    vid,
                    vname,
                    tid.clone(),
                    vmembers,
                    &cells,
                    v_households,
                ));
            }
            d_households += t_households;
            city.towns.push(union_region(
                tid,
                tname,
                code.into(),
                tmembers,
                &cells,
                t_households,
            ));
        }
        let mut d = union_region(
            code.into(),
            dname.into(),
            "321100".into(),
            members,
            &cells,
            d_households,
        );
        d.center = [lon, lat];
        city.districts.push(d);
    }
    city
}

fn union_region(
    id: String,
    name: String,
    parent: String,
    members: &[usize],
    cells: &[MultiPolygon<f64>],
    households: u32,
) -> Region {
    let shape = geo::unary_union(members.iter().map(|&i| &cells[i]));
    let center = center_of(&shape);
    Region {
        id,
        name,
        parent,
        center,
        shape,
        households,
        worker: String::new(),
        dedicated: false,
    }
}

/// Split `members` (cell indices) into `k` groups by nearest of `k` seeds picked among them.
fn split(members: &[usize], centers: &[[f64; 2]], k: usize, rng: &mut SmallRng) -> Vec<Vec<usize>> {
    let k = k.clamp(1, members.len().max(1));
    if members.is_empty() {
        return vec![];
    }
    // Farthest-point seeding from a random start spreads seeds evenly over the area.
    let mut seeds = vec![centers[members[rng.random_range(0..members.len())]]];
    let mut best: Vec<f64> = members
        .iter()
        .map(|&m| km_dist(centers[m], seeds[0]))
        .collect();
    while seeds.len() < k {
        let (i, _) = best
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((0, &0.0));
        let s = centers[members[i]];
        seeds.push(s);
        for (j, &m) in members.iter().enumerate() {
            best[j] = best[j].min(km_dist(centers[m], s));
        }
    }
    // Two Lloyd steps even out the group sizes.
    let mut groups: Vec<Vec<usize>> = vec![];
    for step in 0..3 {
        groups = vec![vec![]; k];
        for &m in members {
            let g = (0..k)
                .min_by(|&a, &b| {
                    km_dist(centers[m], seeds[a]).total_cmp(&km_dist(centers[m], seeds[b]))
                })
                .unwrap_or(0);
            groups[g].push(m);
        }
        if step < 2 {
            for (g, s) in groups.iter().zip(seeds.iter_mut()) {
                if !g.is_empty() {
                    let n = g.len() as f64;
                    *s = [
                        g.iter().map(|&m| centers[m][0]).sum::<f64>() / n,
                        g.iter().map(|&m| centers[m][1]).sum::<f64>() / n,
                    ];
                }
            }
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// Lattice cells refined towards the cores, clipped to the outline, about `target` of them.
fn lattice(outline: &MultiPolygon<f64>, target: usize) -> Vec<MultiPolygon<f64>> {
    let Some(bb) = outline.bounding_rect() else {
        return vec![];
    };
    // Find the base cell size that gives about `target` cells: count without clipping.
    let count = |size: f64| plan(outline, bb, size).len();
    let (mut lo, mut hi) = (0.005, 0.2);
    for _ in 0..25 {
        let mid = (lo + hi) / 2.0;
        if count(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut cells: Vec<MultiPolygon<f64>> = plan(outline, bb, hi)
        .into_iter()
        .filter_map(|r| {
            let poly = r.to_polygon();
            if outline.contains(&poly) {
                Some(MultiPolygon(vec![poly]))
            } else {
                let clipped = outline.intersection(&poly);
                // Slivers along the outline under 2% of a cell are dropped: they carry no
                // households and would only be noise on the wall.
                (clipped.unsigned_area() > 0.02 * poly.unsigned_area()).then_some(clipped)
            }
        })
        .collect();
    // Make the count exact: halve the largest cell (across its longer side) until there
    // are `target`. The halves tile the cell, so nothing is lost or overlaps.
    while cells.len() < target {
        let Some((i, _)) = cells
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.unsigned_area()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            break;
        };
        let Some(b) = cells[i].bounding_rect() else {
            break;
        };
        let (r1, r2) = if b.width() >= b.height() * 1.18 {
            let mx = (b.min().x + b.max().x) / 2.0;
            (
                Rect::new(
                    b.min(),
                    Coord {
                        x: mx,
                        y: b.max().y,
                    },
                ),
                Rect::new(
                    Coord {
                        x: mx,
                        y: b.min().y,
                    },
                    b.max(),
                ),
            )
        } else {
            let my = (b.min().y + b.max().y) / 2.0;
            (
                Rect::new(
                    b.min(),
                    Coord {
                        x: b.max().x,
                        y: my,
                    },
                ),
                Rect::new(
                    Coord {
                        x: b.min().x,
                        y: my,
                    },
                    b.max(),
                ),
            )
        };
        let halves = |r: Rect<f64>| -> MultiPolygon<f64> {
            if is_rect(&cells[i]) {
                MultiPolygon(vec![r.to_polygon()])
            } else {
                cells[i].intersection(&r.to_polygon())
            }
        };
        let (a, c) = (halves(r1), halves(r2));
        if a.unsigned_area() <= 0.0 || c.unsigned_area() <= 0.0 {
            break;
        }
        cells[i] = a;
        cells.push(c);
    }
    cells
}

/// The cells of a lattice with base size `size` degrees, each refined into 4 or 16 where the
/// density calls for it, keeping those that touch the outline.
fn plan(outline: &MultiPolygon<f64>, bb: Rect<f64>, size: f64) -> Vec<Rect<f64>> {
    let dy = size * 0.85;
    let mut out = vec![];
    let nx = ((bb.width() / size).ceil() as usize).max(1);
    let ny = ((bb.height() / dy).ceil() as usize).max(1);
    for j in 0..ny {
        for i in 0..nx {
            let x0 = bb.min().x + i as f64 * size;
            let y0 = bb.min().y + j as f64 * dy;
            let d = density([x0 + size / 2.0, y0 + dy / 2.0]);
            let split = if d > 5.0 {
                4
            } else if d > 2.0 {
                2
            } else {
                1
            };
            let (w, h) = (size / split as f64, dy / split as f64);
            for b in 0..split {
                for a in 0..split {
                    let r = Rect::new(
                        Coord {
                            x: x0 + a as f64 * w,
                            y: y0 + b as f64 * h,
                        },
                        Coord {
                            x: x0 + (a + 1) as f64 * w,
                            y: y0 + (b + 1) as f64 * h,
                        },
                    );
                    if outline.intersects(&r.to_polygon()) {
                        out.push(r);
                    }
                }
            }
        }
    }
    out
}

/// A grid's four micro-grids: its shape cut into quarters of its bounding box.
fn quarters(grid: &Region, rng: &mut SmallRng) -> Vec<Region> {
    let Some(bb) = grid.shape.bounding_rect() else {
        return vec![];
    };
    let (cx, cy) = (
        (bb.min().x + bb.max().x) / 2.0,
        (bb.min().y + bb.max().y) / 2.0,
    );
    let whole = is_rect(&grid.shape);
    let mut out = vec![];
    for (k, (x0, y0, x1, y1)) in [
        (bb.min().x, bb.min().y, cx, cy),
        (cx, bb.min().y, bb.max().x, cy),
        (bb.min().x, cy, cx, bb.max().y),
        (cx, cy, bb.max().x, bb.max().y),
    ]
    .into_iter()
    .enumerate()
    {
        let q: Polygon<f64> =
            Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }).to_polygon();
        let shape = if whole {
            MultiPolygon(vec![q])
        } else {
            grid.shape.intersection(&q)
        };
        if shape.unsigned_area() <= 0.0 {
            continue;
        }
        out.push(Region {
            id: format!("{}-{}", grid.id, k + 1),
            name: format!("{}微网格{}", grid.name, k + 1),
            parent: grid.id.clone(),
            center: center_of(&shape),
            shape,
            households: if grid.dedicated {
                0
            } else {
                rng.random_range(50..=100)
            },
            worker: String::new(),
            dedicated: grid.dedicated,
        });
    }
    out
}
