//! Roll-ups for the drill-down: for every region at every level (city "", district,
//! town, village, grid, micro-grid) the open tickets, the urgent among them, the status
//! mix the donuts draw (awaiting, assigned, in progress, overdue) and the worst live
//! warning. Kept up incrementally: each open ticket's part is remembered and taken back
//! when the ticket changes, and tickets move into "overdue" as their deadlines pass; the
//! work per change is the ticket's six regions, whatever the city's size.

use std::collections::{BTreeSet, HashMap};

use bevy::platform::collections::{HashMap as FastMap, HashSet as FastSet};

use bevy::math::Vec2;
use bevy::prelude::Resource;

use super::layers::Projection;
use domain::Deadlines;
use protocol::{Priority, Ticket, TicketStatus, Warning, WarningLevel};

/// The donut's segments: awaiting dispatch, assigned or accepted, in progress, overdue.
pub const BUCKETS: usize = 4;
pub const OVERDUE: usize = 3;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roll {
    pub open: u32,
    pub urgent: u32,
    /// Open tickets by donut segment; they add up to `open`.
    pub buckets: [u32; BUCKETS],
    /// The worst live warning on the region or below it.
    pub worst: Option<WarningLevel>,
    /// A red warning on it or below it that nobody has acknowledged yet: the map flashes.
    pub alarm: bool,
}

impl Roll {
    pub fn overdue(&self) -> u32 {
        self.buckets[OVERDUE]
    }
}

/// The four-colour rating (四色) of a region, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rating {
    Red,
    Orange,
    Yellow,
    Green,
}

/// Rate a region of `grids` grids: the pressure per grid (an open ticket counts 1, an
/// urgent one 2, an overdue one 3) or its worst live warning, whichever is worse.
/// Red from 3 per grid or a red warning; orange from 1.5 or an orange one; yellow from
/// 0.2 or any warning; green below.
pub fn rating(r: &Roll, grids: u32) -> Rating {
    let p = (r.open + r.urgent + 2 * r.overdue()) as f32 / grids.max(1) as f32;
    let by_load = if p >= 3.0 {
        Rating::Red
    } else if p >= 1.5 {
        Rating::Orange
    } else if p >= 0.2 {
        Rating::Yellow
    } else {
        Rating::Green
    };
    let by_warning = match r.worst {
        Some(WarningLevel::Red) => Rating::Red,
        Some(WarningLevel::Orange) => Rating::Orange,
        Some(_) => Rating::Yellow,
        None => Rating::Green,
    };
    by_load.min(by_warning)
}

/// A region id and those of the regions above it, city first: `321102-01-001-001` →
/// `""`, `321102`, `321102-01`, `321102-01-001`, `321102-01-001-001`.
pub fn regions_of(id: &str) -> Vec<String> {
    region_path(id).map(str::to_string).collect()
}

/// `regions_of` as slices of `id`, without allocating.
pub fn region_path(id: &str) -> impl Iterator<Item = &str> {
    let ends = id
        .char_indices()
        .filter(|&(_, c)| c == '-')
        .map(|(i, _)| i)
        .chain((!id.is_empty()).then_some(id.len()));
    std::iter::once("").chain(ends.map(move |i| &id[..i]))
}

/// How deep a region is: 0 the city, 1 a district, … 5 a micro-grid.
pub fn depth(id: &str) -> usize {
    if id.is_empty() {
        0
    } else {
        id.split('-').count()
    }
}

/// The region one level up (`None` for the city).
pub fn parent(id: &str) -> Option<&str> {
    if id.is_empty() {
        return None;
    }
    Some(id.rfind('-').map(|i| &id[..i]).unwrap_or(""))
}

/// One micro-grid, for putting tickets in it.
pub struct MicroCell {
    pub id: String,
    pub center: Vec2,
    /// Exterior rings, world km.
    pub rings: Vec<Vec<Vec2>>,
}

/// What the roll-ups need of the map: each grid's micro-grids (to place a ticket in one)
/// and how many grids each region has (to rate it). Empty without a map: the roll-ups
/// then stop at the grid and rate every region as one grid.
#[derive(Resource, Default)]
pub struct RegionIndex {
    pub proj: Option<Projection>,
    pub micro: HashMap<String, Vec<MicroCell>>,
    pub grids_in: HashMap<String, u32>,
}

/// Is `p` inside the ring (even-odd rule)?
pub fn inside(p: Vec2, ring: &[Vec2]) -> bool {
    let mut c = false;
    let mut j = ring.len().wrapping_sub(1);
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            c = !c;
        }
        j = i;
    }
    c
}

impl RegionIndex {
    /// The micro-grid of `grid` that holds the point: the one it is inside, else the one
    /// whose centre is nearest (a point on a border, or just outside its grid).
    pub fn micro_of(&self, grid: &str, lon: f64, lat: f64) -> Option<&str> {
        let cells = self.micro.get(grid)?;
        let p = self.proj?.to_world(lon, lat);
        cells
            .iter()
            .find(|c| c.rings.iter().any(|r| inside(p, r)))
            .or_else(|| {
                cells
                    .iter()
                    .min_by(|a, b| a.center.distance(p).total_cmp(&b.center.distance(p)))
            })
            .map(|c| c.id.as_str())
    }

    pub fn grids_in(&self, region: &str) -> u32 {
        self.grids_in.get(region).copied().unwrap_or(1)
    }
}

/// What one open ticket adds to its regions: the chain of regions it is in (an index
/// into `RollUps::chains`), its donut segment, urgency and deadline. 16 bytes: at a
/// province's million tickets the parts are 16 MB, where a list of region names per
/// ticket was six strings each (hundreds of MB, and six allocations per ticket).
#[derive(Clone, Copy, Debug)]
struct Part {
    chain: u32,
    bucket: u8,
    urgent: bool,
    deadline: i64,
}

fn bucket(s: TicketStatus) -> usize {
    match s {
        TicketStatus::Received | TicketStatus::Returned => 0,
        TicketStatus::Assigned | TicketStatus::Accepted => 1,
        _ => 2,
    }
}

/// A grid's (and micro-grid's) key in `RollUps::chain_no`: two 64-bit hashes of the
/// names with fixed, different seeds, held in the table itself. A look-up by the name
/// touched the table and then the name's own allocation: at a province's 200,000 grids
/// that second cache miss (and a `format!` per ticket with a micro-grid) was a third of
/// the roll-ups' snapshot time. Names are the city's layers', not a caller's; two share a
/// key with odds under 10^-28.
fn chain_key(grid: &str, micro: Option<&str>) -> (u64, u64) {
    use std::hash::{BuildHasher, Hasher};
    let hash = |seed: u64| {
        let mut h = foldhash::quality::FixedState::with_seed(seed).build_hasher();
        h.write(grid.as_bytes());
        h.write_u8(0xff); // no name holds 0xff (UTF-8): "a" + "b" is not "ab"
        if let Some(m) = micro {
            h.write(m.as_bytes());
        }
        h.finish()
    };
    (hash(0x9e37_79b9_7f4a_7c15), hash(0xc2b2_ae3d_27d4_eb4f))
}

/// A snapshot's roll-ups while it comes in.
#[derive(Default)]
struct Bulk {
    /// `ahead`'s entries, unsorted, made into the set once it is whole (a million random
    /// inserts into a B-tree were a sixth of the snapshot's time).
    ahead: Vec<(i64, u64)>,
    /// Per chain: open, urgent, then each bucket; added to the chain's regions at the end.
    counts: Vec<[i32; 2 + BUCKETS]>,
}

#[derive(Resource, Default)]
pub struct RollUps {
    /// Every region seen, by number: its id and its roll-up.
    regions: Vec<(String, Roll)>,
    // foldhash (Bevy's): SipHash and its string compares were a fifth of a province
    // snapshot's roll-up time.
    region_no: FastMap<String, u32>,
    /// The regions a ticket counts in, city first: one list per grid (and per grid and
    /// micro-grid), shared by all the tickets there.
    chains: Vec<Vec<u32>>,
    /// (grid, micro-grid) → its chain, by `chain_key`.
    chain_no: FastMap<(u64, u64), u32>,
    parts: FastMap<u64, Part>,
    /// Open tickets not yet overdue, by deadline.
    ahead: BTreeSet<(i64, u64)>,
    /// While a snapshot comes in: what waits for its end (`Bulk`).
    bulk: Option<Bulk>,
    clock: i64,
    /// Regions whose roll-up changed since the map last looked.
    pub dirty: FastSet<String>,
    /// Every region changed (after a snapshot): `dirty` is not kept meanwhile.
    pub all_dirty: bool,
}

impl RollUps {
    pub fn get(&self, region: &str) -> Roll {
        self.region_no
            .get(region)
            .map(|&i| self.regions[i as usize].1)
            .unwrap_or_default()
    }

    /// Every region with a roll-up, and the roll-up.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Roll)> {
        self.regions.iter().map(|(id, r)| (id.as_str(), r))
    }

    /// How many open tickets are counted.
    pub fn tickets(&self) -> usize {
        self.parts.len()
    }

    /// The time overdue is counted against.
    pub fn clock(&self) -> i64 {
        self.clock
    }

    /// Forget every ticket and warning (a snapshot follows), with the clock at `now_ms`.
    /// The regions and chains stay: they are names, the same in the next snapshot.
    pub fn clear(&mut self, now_ms: i64) {
        for (_, r) in &mut self.regions {
            *r = Roll::default();
        }
        self.parts.clear();
        self.ahead.clear();
        self.bulk = None;
        self.clock = now_ms;
        self.dirty.clear();
        self.all_dirty = true;
    }

    fn region(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.region_no.get(id) {
            return i;
        }
        let i = self.regions.len() as u32;
        self.regions.push((id.to_string(), Roll::default()));
        self.region_no.insert(id.to_string(), i);
        i
    }

    /// The chain of `grid` (with its micro-grid, if any), made on first use.
    fn chain(&mut self, grid: &str, micro: Option<&str>) -> u32 {
        let key = chain_key(grid, micro);
        if let Some(&c) = self.chain_no.get(&key) {
            return c;
        }
        // Slices of the name: a province's first snapshot makes 200,000 chains.
        let mut chain: Vec<u32> = region_path(grid).map(|r| self.region(r)).collect();
        if let Some(m) = micro {
            chain.push(self.region(m));
        }
        let c = self.chains.len() as u32;
        self.chains.push(chain);
        self.chain_no.insert(key, c);
        c
    }

    fn add(&mut self, p: &Part, sign: i32) {
        if let Some(b) = self.bulk.as_mut() {
            // While a snapshot comes in, per chain (one place a ticket); its regions take
            // the sums at `end_bulk`. A ticket's five or six regions, each a cache miss
            // at a province's 200,000 grids, were a third of the roll-ups' time.
            let i = p.chain as usize;
            if b.counts.len() <= i {
                b.counts.resize(i + 1, [0; 2 + BUCKETS]);
            }
            let c = &mut b.counts[i];
            c[0] += sign;
            c[1] += sign * p.urgent as i32;
            c[2 + p.bucket as usize] += sign;
            return;
        }
        let f = |v: &mut u32| *v = (*v as i32 + sign).max(0) as u32;
        for &r in &self.chains[p.chain as usize] {
            let (id, roll) = &mut self.regions[r as usize];
            f(&mut roll.open);
            if p.urgent {
                f(&mut roll.urgent);
            }
            f(&mut roll.buckets[p.bucket as usize]);
            if !self.all_dirty && !self.dirty.contains(id.as_str()) {
                self.dirty.insert(id.clone());
            }
        }
    }

    /// Ticket `id` is now `t` (`None`: it left the mirror).
    pub fn set_ticket(&mut self, id: u64, t: Option<&Ticket>, index: &RegionIndex) {
        let now = t
            .filter(|t| t.status.is_open() && t.merged_into.is_none())
            .map(|t| {
                // 超期 as the figures count it: only a ticket whose clock runs (not 疑难,
                // 挂起 or 待审核) goes overdue; the others never enter `ahead`.
                let deadline = if t.clock_runs() {
                    t.deadline_ms
                } else {
                    i64::MAX
                };
                let overdue = deadline < self.clock;
                Part {
                    chain: self.chain(&t.grid, index.micro_of(&t.grid, t.lon, t.lat)),
                    bucket: if overdue { OVERDUE } else { bucket(t.status) } as u8,
                    urgent: t.priority == Priority::Urgent,
                    deadline,
                }
            });
        // One look-up for both the old part and the new (a snapshot's million tickets
        // are all new: a removal first was a second miss each).
        let old = match now {
            Some(p) => self.parts.insert(id, p),
            None => self.parts.remove(&id),
        };
        if let Some(old) = old {
            match self.bulk.as_mut() {
                Some(b) => b.ahead.retain(|e| *e != (old.deadline, id)),
                None => {
                    self.ahead.remove(&(old.deadline, id));
                }
            }
            self.add(&old, -1);
        }
        if let Some(p) = now {
            if p.bucket != OVERDUE as u8 && p.deadline != i64::MAX {
                match self.bulk.as_mut() {
                    Some(b) => b.ahead.push((p.deadline, id)),
                    None => {
                        self.ahead.insert((p.deadline, id));
                    }
                }
            }
            self.add(&p, 1);
        }
    }

    /// A snapshot begins coming in (after `clear`): collect, sort once at `end_bulk`.
    pub fn begin_bulk(&mut self) {
        self.bulk = Some(Bulk::default());
    }

    /// The snapshot is whole.
    pub fn end_bulk(&mut self) {
        if let Some(Bulk { mut ahead, counts }) = self.bulk.take() {
            ahead.sort_unstable();
            if self.ahead.is_empty() {
                // Built from sorted keys at once, not a million inserts.
                self.ahead = ahead.into_iter().collect();
            } else {
                self.ahead.extend(ahead);
            }
            for (chain, c) in counts.iter().enumerate() {
                if c[0] == 0 && c[1] == 0 {
                    continue;
                }
                for &r in &self.chains[chain] {
                    let roll = &mut self.regions[r as usize].1;
                    let f = |v: &mut u32, by: i32| *v = (*v as i32 + by).max(0) as u32;
                    f(&mut roll.open, c[0]);
                    f(&mut roll.urgent, c[1]);
                    for (b, by) in roll.buckets.iter_mut().zip(&c[2..]) {
                        f(b, *by);
                    }
                }
            }
            // Every region may have changed.
            self.all_dirty = true;
        }
    }

    /// Move the clock to `now_ms`: tickets whose deadline it passes turn overdue.
    pub fn advance(&mut self, now_ms: i64) {
        if now_ms <= self.clock {
            return;
        }
        self.clock = now_ms;
        while let Some(&(d, id)) = self.ahead.first() {
            if d >= now_ms {
                break;
            }
            self.ahead.remove(&(d, id));
            if let Some(mut p) = self.parts.remove(&id) {
                self.add(&p, -1);
                p.bucket = OVERDUE as u8;
                self.add(&p, 1);
                self.parts.insert(id, p);
            }
        }
    }

    /// The worst live warning of every region, from the warnings' grids (few warnings,
    /// so this is recomputed whole when one changes).
    pub fn set_warnings<'a>(&mut self, warnings: impl Iterator<Item = &'a Warning>) {
        for (id, r) in self.regions.iter_mut() {
            if r.worst.take().is_some() | std::mem::take(&mut r.alarm) {
                self.dirty.insert(id.clone());
            }
        }
        for w in warnings {
            for g in &w.grids {
                for r in regions_of(g) {
                    let i = self.region(&r) as usize;
                    let roll = &mut self.regions[i].1;
                    if roll.worst.is_none_or(|x| w.level < x) {
                        roll.worst = Some(w.level);
                    }
                    roll.alarm |=
                        w.level == WarningLevel::Red && w.status == protocol::WarningStatus::Raised;
                    self.dirty.insert(r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
