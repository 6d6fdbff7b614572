//! The simulator: a feed source that runs a city by itself. It connects to a gateway like
//! any client (an admin token), registers the units, takes tickets in across channels and
//! categories with a daily rhythm, and moves them through their lifecycle as units would,
//! with realistic delays compressed by `speed`. It never touches the wall.

pub mod city;
pub mod history;
mod intake;
mod names;
mod run;
pub mod units;
pub mod year;

pub use run::{SimError, SimOptions, SimStats, run};

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use domain::time::now_ms;
use feed::{self, Change, FeedConfig, FeedEvent, Mirror};
use gis::city::{City, Region};
use protocol::{
    CallbackResult, Category, Channel, ClientMsg, Command, Level, NewTicket, NewWarning, Priority,
    Ticket, TicketStatus as S, Unit, WarningLevel,
};

/// Share of tickets that are hard cases (months to resolve).
/// Tickets the center takes to its 疑难 board, of those in progress at a step: the seeds'
/// city settled 89 hot and hard issues at 10 coordination meetings in a year; a few
/// hundred a year here, most settled within months.
const HARD_SHARE: f64 = 0.0006;
/// Tickets in progress that take days rather than hours: they ask for an extension as
/// their deadline nears, and most get it.
const SLOW_SHARE: f64 = 0.05;

/// An emergency (typhoon, flood): intake in the affected districts multiplied for a while.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    /// When it starts and how long it lasts, ms on the simulator's clock.
    pub start_ms: i64,
    pub duration_ms: i64,
    /// The affected grids (indices into the city's grids) and their share of normal intake.
    pub grids: Vec<usize>,
    pub share: f64,
    /// Intake multiplier in the affected area.
    pub factor: f64,
    /// The districts, for the weather warning it raises.
    pub districts: Vec<String>,
    pub warned: bool,
}

/// Hourly intake weights: quiet nights, a morning and an evening peak.
const HOURLY: [f64; 24] = [
    0.25, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.5, 1.7, 1.6, 1.4, 1.1, 1.2, 1.4, 1.5, 1.5, 1.6,
    1.5, 1.3, 1.1, 0.9, 0.6, 0.4,
];

/// Channel mix (Jiangyin-like: hotline and grid reports dominate).
const CHANNELS: [(Channel, f64); 8] = [
    (Channel::Hotline12345, 0.34),
    (Channel::GridApp, 0.30),
    (Channel::Wechat, 0.09),
    (Channel::Police110, 0.08),
    (Channel::VideoAi, 0.07),
    (Channel::WalkIn, 0.05),
    (Channel::Department, 0.04),
    (Channel::Petition, 0.03),
];

/// Categories with their shares (their sub-types: the domain's service catalogue).
const CATEGORIES: [(Category, f64); 8] = [
    (Category::Dispute, 0.24),
    (Category::CityManagement, 0.22),
    (Category::Livelihood, 0.18),
    (Category::SafetyHazard, 0.12),
    (Category::Environment, 0.09),
    (Category::PublicOrder, 0.08),
    (Category::Petition, 0.05),
    (Category::Emergency, 0.02),
];

fn weighted<T: Copy>(rng: &mut SmallRng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|i| i.1).sum();
    let mut x = rng.random_range(0.0..total);
    for (t, w) in items {
        if x < *w {
            return *t;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

pub struct Sim {
    rng: SmallRng,
    grids: Vec<Region>,
    /// Cumulative grid weights (households and density) for picking a place.
    cumulative: Vec<f64>,
    units: Vec<Unit>,
    pub speed: f64,
    /// The speed deadlines are scaled to (the steady speed, not the warm-up's).
    sla_speed: f64,
    tickets_per_day: f64,
    /// Next action for each ticket, in real ms.
    due: std::collections::BTreeSet<(i64, u64)>,
    due_at: HashMap<u64, i64>,
    /// Tickets seen per grid (for the repeated-complaints rule) and raised warnings.
    /// Keyed by (grid, category): a repeated complaint is the same matter again, not any
    /// four tickets of a busy grid (by grid alone the flood raised ~300 yellow warnings).
    per_grid: HashMap<(String, Category), std::collections::VecDeque<i64>>,
    /// (grid, category) pairs that crossed the threshold since the last step.
    hot: Vec<(String, Category)>,
    warned: HashMap<(String, Category), u64>,
    /// Unit ids by (category handled, area), so that routing a ticket looks only at the
    /// units of its category whose area contains its grid (over all ~900 units, ranking
    /// was most of a fast-forward's time).
    units_by_place: HashMap<(Category, String), Vec<String>>,
    /// Warnings a command was sent for, with the status it was sent at and when: at a
    /// high speed the next step comes before the change does, and the command went twice
    /// (481 refusals in a simulated year at 20,000 times). Asked again after a day.
    warning_asked: HashMap<u64, (protocol::WarningStatus, i64)>,
    next_key: u64,
    pub stats: SimStats,
    pub scenario: Option<Scenario>,
}

impl Sim {
    pub fn new(city: &City, speed: f64, tickets_per_day: f64, seed: u64) -> Sim {
        let mut acc = 0.0;
        let cumulative = city
            .grids
            .iter()
            .map(|g| {
                acc += (g.households.max(150) as f64) * city::density(g.center);
                acc
            })
            .collect();
        let units = units::units_of(city);
        let mut units_by_place: HashMap<(Category, String), Vec<String>> = HashMap::new();
        for u in &units {
            for c in &u.categories {
                units_by_place
                    .entry((*c, u.area.clone()))
                    .or_default()
                    .push(u.id.clone());
            }
        }
        Sim {
            rng: SmallRng::seed_from_u64(seed),
            grids: city.grids.clone(),
            cumulative,
            units,
            units_by_place,
            speed: speed.max(0.01),
            sla_speed: speed.max(0.01),
            tickets_per_day,
            due: Default::default(),
            due_at: HashMap::new(),
            per_grid: HashMap::new(),
            hot: vec![],
            warned: HashMap::new(),
            warning_asked: HashMap::new(),
            next_key: 0,
            stats: SimStats::default(),
            scenario: None,
        }
    }

    /// A flood in the given districts (id prefixes of their grids), starting at `start_ms`
    /// for an hour of simulated time, `factor` times the usual intake there.
    pub fn flood(&mut self, districts: &[&str], start_ms: i64, factor: f64) {
        let grids: Vec<usize> = (0..self.grids.len())
            .filter(|&i| districts.iter().any(|d| self.grids[i].id.starts_with(d)))
            .collect();
        let weight =
            |i: usize| self.cumulative[i] - if i == 0 { 0.0 } else { self.cumulative[i - 1] };
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let share = grids.iter().map(|&i| weight(i)).sum::<f64>() / total;
        self.scenario = Some(Scenario {
            name: "flood".into(),
            start_ms,
            duration_ms: (3_600_000.0 / self.speed) as i64,
            grids,
            share,
            factor,
            districts: districts.iter().map(|d| d.to_string()).collect(),
            warned: false,
        });
    }

    fn key(&mut self) -> String {
        self.next_key += 1;
        format!("sim-{:x}-{}", self.rng.random::<u32>(), self.next_key)
    }

    fn cmd(&mut self, command: Command) -> ClientMsg {
        self.stats.commands += 1;
        ClientMsg::Command {
            key: self.key(),
            command,
        }
    }

    /// The commands that register the city's units.
    pub fn setup(&mut self) -> Vec<ClientMsg> {
        let units = self.units.clone();
        units
            .into_iter()
            .map(|unit| self.cmd(Command::UpsertUnit { unit }))
            .collect()
    }

    /// Simulated minutes until someone (its unit, or the center) acts on a ticket as it
    /// stands, in real ms.
    fn delay(&mut self, t: &Ticket, now: i64) -> i64 {
        const DAY: f64 = 24.0 * 60.0;
        let (lo, hi) = match t.status {
            S::Received | S::Returned => (2.0, 15.0),
            S::Assigned => (5.0, 40.0),
            S::Accepted => (10.0, 60.0),
            // A hard case (疑难) waits for the monthly coordination meeting (疑难工单处置
            // 协调会), then for what it decided: weeks to months; some are still open at
            // the year's end, which keeps the closure rate under 100%.
            // A hard case waits for the month's coordination meeting (协调会), then the
            // meeting decides.
            S::InProgress if t.work.hard.is_some() => match &t.work.meeting {
                Some(m) => {
                    let wait = (m.at_ms - now).max(0) as f64 * self.speed / 60_000.0;
                    (wait + 60.0, wait + 240.0)
                }
                None => (DAY, 7.0 * DAY),
            },
            // The center decides an extension within hours.
            S::InProgress if t.work.extension_asked.is_some() => (30.0, 240.0),
            // Some take days (a part to order, a neighbour away): these ask for more time.
            S::InProgress if self.rng.random_bool(SLOW_SHARE) => (720.0, 3.0 * DAY),
            S::InProgress => (60.0, 720.0),
            // The center reviews within a few hours.
            S::Reviewing => (20.0, 240.0),
            // Callbacks within a day; an unreached citizen is called again.
            S::Resolved => (60.0, 1440.0),
            S::Rated => (10.0, 120.0),
            S::Archived => (0.0, 1.0),
        };
        let d = (self.rng.random_range(lo..hi) * 60_000.0 / self.speed) as i64;
        // A unit that will not make it acts before its deadline: it asks for more time
        // then (the step's 延期申请), once.
        let before = t.deadline_ms - now - (20.0 * 60_000.0 / self.speed) as i64;
        let asks = t.status == S::InProgress
            && t.work.hard.is_none()
            && t.work.extension_asked.is_none()
            && t.work.extensions == 0;
        if asks && before > 0 { d.min(before) } else { d }
    }

    fn schedule(&mut self, id: u64, at: i64) {
        if let Some(old) = self.due_at.insert(id, at) {
            self.due.remove(&(old, id));
        }
        self.due.insert((at, id));
    }

    fn unschedule(&mut self, id: u64) {
        if let Some(old) = self.due_at.remove(&id) {
            self.due.remove(&(old, id));
        }
    }

    /// React to a change the feed brought: schedule the ticket's next step.
    pub fn observe(&mut self, mirror: &Mirror, change: &Change, now: i64) {
        match change {
            Change::Snapshot { .. } => {
                for (id, t) in &mirror.tickets {
                    let d = self.delay(t, now);
                    self.schedule(*id, now + d);
                }
            }
            Change::Ticket { id, before } => match mirror.tickets.get(id) {
                Some(t) => {
                    // A new state, or a workflow mark (疑难, an extension asked, a callback
                    // that did not get through): the next step is someone else's.
                    if before
                        .as_ref()
                        .is_none_or(|b| b.status != t.status || b.work != t.work)
                    {
                        let d = self.delay(t, now);
                        self.schedule(*id, now + d);
                    }
                    if before.is_none() {
                        // Repeated complaints: 4 or more in one grid within a simulated day.
                        let window = (86_400_000.0 / self.speed) as i64;
                        let key = (t.grid.clone(), t.category);
                        let q = self.per_grid.entry(key.clone()).or_default();
                        q.push_back(now);
                        while q.front().is_some_and(|&f| f < now - window) {
                            q.pop_front();
                        }
                        if q.len() == 4 && !self.warned.contains_key(&key) {
                            self.hot.push(key);
                        }
                    }
                }
                None => self.unschedule(*id),
            },
            _ => {}
        }
    }

    /// The commands due at `now` (real ms).
    pub fn step(&mut self, mirror: &Mirror, now: i64, dt_ms: f64) -> Vec<ClientMsg> {
        let mut out = vec![];
        let (normal, flood) = self.intake_due(now, dt_ms);
        for k in 0..normal + flood {
            let ticket = self.new_ticket(k >= normal);
            self.stats.intake += 1;
            out.push(self.cmd(Command::Intake { ticket }));
        }
        let mut ready = vec![];
        while let Some(&(at, id)) = self.due.first()
            && at <= now
        {
            self.due.pop_first();
            self.due_at.remove(&id);
            ready.push(id);
        }
        for id in ready {
            let Some(t) = mirror.tickets.get(&id) else {
                continue;
            };
            let r: f64 = self.rng.random();
            let command = match t.status {
                S::Received | S::Returned => {
                    // The areas that contain the grid: the city (""), then each id prefix.
                    let areas = std::iter::once(0)
                        .chain(t.grid.match_indices('-').map(|(i, _)| i))
                        .chain(std::iter::once(t.grid.len()));
                    let nearby = areas
                        .filter_map(|end| {
                            self.units_by_place.get(&(t.category, t.grid[..end].into()))
                        })
                        .flatten()
                        .filter_map(|id| mirror.units.get(id));
                    match domain::units::rank_units(nearby, t).first() {
                        Some(u) => Command::Dispatch {
                            ticket: id,
                            unit: u.id.clone(),
                        },
                        None if t.level < Level::City => Command::Escalate {
                            ticket: id,
                            reason: "本级无对口单位".into(),
                        },
                        None => continue,
                    }
                }
                S::Assigned if r < 0.04 => Command::Return {
                    ticket: id,
                    reason: "不属本单位职责".into(),
                },
                S::Assigned => Command::Accept { ticket: id },
                S::Accepted => Command::Start { ticket: id },
                // A hard case goes to the next monthly meeting, which settles it there
                // (most) or names a lead unit and a new deadline.
                S::InProgress if t.work.hard.is_some() => match &t.work.meeting {
                    None => Command::ScheduleMeeting {
                        ticket: id,
                        at_ms: now
                            + (self.rng.random_range(3.0..30.0) * 86_400_000.0 / self.speed) as i64,
                        title: "疑难工单处置协调会".into(),
                    },
                    Some(_) => Command::MeetingOutcome {
                        ticket: id,
                        units_present: t.unit.iter().cloned().collect(),
                        lead_unit: None,
                        deadline_ms: (r >= 0.7)
                            .then(|| now + (7.0 * 86_400_000.0 / self.speed) as i64),
                        resolved: r < 0.7,
                        note: if r < 0.7 {
                            "会议协调，已解决".into()
                        } else {
                            "会议明确责任，限期办结".into()
                        },
                    },
                },
                // The center decides an extension: most are granted.
                S::InProgress if t.work.extension_asked.is_some() => Command::DecideExtension {
                    ticket: id,
                    approve: r < 0.9,
                    note: String::new(),
                },
                S::InProgress if r < 0.006 && t.level < Level::City => Command::Escalate {
                    ticket: id,
                    reason: "涉及多部门，需上级协调".into(),
                },
                // The center takes a case that will not move to its 疑难 board.
                S::InProgress if t.work.hard.is_none() && r < 0.006 + HARD_SHARE => {
                    Command::MarkHard {
                        ticket: id,
                        reason: "涉及多部门职责交叉，提交疑难工单协调会".into(),
                    }
                }
                // A unit short of time asks for more (延期申请).
                S::InProgress
                    if t.work.hard.is_none()
                        && t.work.extensions < 1
                        && now + (360.0 * 60_000.0 / self.speed) as i64 > t.deadline_ms
                        && r < 0.9 =>
                {
                    Command::RequestExtension {
                        ticket: id,
                        until_ms: t.deadline_ms.max(now) + 3 * 86_400_000,
                        reason: "需协调相关部门，申请延期".into(),
                    }
                }
                S::InProgress => Command::Resolve {
                    ticket: id,
                    note: "已处置完毕".into(),
                },
                // The center's review: a few results go back (重办).
                S::Reviewing => Command::Review {
                    ticket: id,
                    approve: r >= 0.02,
                    note: if r < 0.02 {
                        "处置结果不完整，请补充现场照片".into()
                    } else {
                        String::new()
                    },
                },
                // 回访: most reach the citizen; a few are unsatisfied and reopened.
                S::Resolved => {
                    let result = match r {
                        r if r < 0.08 => CallbackResult::Unreached,
                        r if r < 0.095 => CallbackResult::Unsatisfied,
                        r if r < 0.2 => CallbackResult::BasicallySatisfied,
                        _ => CallbackResult::Satisfied,
                    };
                    Command::Callback {
                        ticket: id,
                        result,
                        words: String::new(),
                    }
                }
                S::Rated => Command::Close { ticket: id },
                S::Archived => continue,
            };
            if now > t.deadline_ms && !t.supervised && t.status.is_open() && r < 0.5 {
                out.push(self.cmd(Command::Supervise {
                    ticket: id,
                    note: "超期督办".into(),
                    stage: None,
                }));
            }
            out.push(self.cmd(command));
        }
        // Rule: repeated complaints in one grid raise a warning; lifted when quiet again.
        // The flood's own red warning, raised when the rain starts.
        if let Some(sc) = self.scenario.as_mut()
            && !sc.warned
            && now >= sc.start_ms
        {
            sc.warned = true;
            let names: Vec<&str> = sc
                .districts
                .iter()
                .map(|d| match d.as_str() {
                    "321182" => "扬中市",
                    "321112" => "丹徒区",
                    "321102" => "京口区",
                    "321111" => "润州区",
                    "321181" => "丹阳市",
                    "321183" => "句容市",
                    other => other,
                })
                .collect();
            let warning = NewWarning {
                level: WarningLevel::Red,
                kind: protocol::WarningKind::Flood,
                title: format!("暴雨内涝红色预警：{}", names.join("、")),
                grids: sc.districts.clone(),
                tickets: vec![],
                cap_refs: vec![],
                expires_ms: None,
            };
            self.stats.warnings += 1;
            out.push(self.cmd(Command::RaiseWarning { warning }));
        }
        let hot = std::mem::take(&mut self.hot);
        // Inside an emergency's area its own warning covers the surge: no yellow card per
        // flooded grid under the red one.
        let covered = |grid: &str| {
            self.scenario.as_ref().is_some_and(|sc| {
                sc.warned
                    && now < sc.start_ms + 4 * sc.duration_ms
                    && sc.districts.iter().any(|d| grid.starts_with(d.as_str()))
            })
        };
        let hot: Vec<_> = hot.into_iter().filter(|(g, _)| !covered(g)).collect();
        for key in hot {
            if self.warned.contains_key(&key) {
                continue;
            }
            let n = self.per_grid.get(&key).map(|q| q.len()).unwrap_or(0);
            let (grid, category) = key.clone();
            let tickets: Vec<u64> = mirror
                .tickets
                .values()
                .filter(|t| t.grid == grid && t.category == category)
                .map(|t| t.id)
                .collect();
            let level = if n >= 8 {
                WarningLevel::Red
            } else if n >= 6 {
                WarningLevel::Orange
            } else {
                WarningLevel::Yellow
            };
            let name = self
                .grids
                .iter()
                .find(|g| g.id == grid)
                .map(|g| g.name.clone())
                .unwrap_or_default();
            self.warned.insert(key, 0);
            self.stats.warnings += 1;
            out.push(self.cmd(Command::RaiseWarning {
                warning: NewWarning {
                    level,
                    kind: protocol::WarningKind::RepeatedComplaints,
                    title: format!("{name}{}类诉求短期内重复{n}起", category.zh()),
                    grids: vec![grid],
                    tickets,
                    cap_refs: vec![],
                    expires_ms: None,
                },
            }));
        }
        self.warning_asked
            .retain(|id, _| mirror.warnings.contains_key(id));
        for w in mirror.warnings.values() {
            let day = (86_400_000.0 / self.speed) as i64;
            if self
                .warning_asked
                .get(&w.id)
                .is_some_and(|&(st, at)| st == w.status && now - at < day)
            {
                continue;
            }
            let age = now - w.updated_ms;
            let step = 10.0 * 60_000.0 / self.speed;
            let next = match w.status {
                protocol::WarningStatus::Raised if age as f64 > step => {
                    Some(Command::AckWarning { warning: w.id })
                }
                protocol::WarningStatus::Acknowledged if age as f64 > step => {
                    Some(Command::AssignTaskForce {
                        warning: w.id,
                        team: "联合处置专班".into(),
                    })
                }
                protocol::WarningStatus::TaskForce if age as f64 > 12.0 * step => {
                    for g in &w.grids {
                        self.per_grid.retain(|k, _| &k.0 != g);
                        self.warned.retain(|k, _| &k.0 != g);
                    }
                    Some(Command::LiftWarning {
                        warning: w.id,
                        note: "诉求已化解".into(),
                    })
                }
                _ => None,
            };
            if let Some(c) = next {
                self.warning_asked.insert(w.id, (w.status, now));
                out.push(self.cmd(c));
            }
        }
        out
    }
}
