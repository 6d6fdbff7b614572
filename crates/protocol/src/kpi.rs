//! The figures a wall shows, as the gateway computed them and sends them once a second
//! (`kpis`). How they are kept up is the domain's (`domain::kpi`).

use serde::{Deserialize, Serialize};

use super::records::{Category, Channel, Level};

/// What the wall shows, as the gateway computed it. Rates are `None` while nothing is in
/// their denominator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KpiFigures {
    /// The time these figures are for, ms since the epoch.
    pub at_ms: i64,
    /// Tickets ever taken in (in this scope).
    pub total: u64,
    /// 今日受理: taken in since local midnight.
    pub intake_today: u32,
    /// 在办: not yet resolved.
    pub open: u64,
    /// 超期: open, in its unit's hands and past its resolution deadline; 疑难 and 挂起
    /// tickets are left out (counted in `hard` and `suspended`), an approved extension
    /// moved the deadline, and a result waiting for review (待审核) is the center's.
    pub overdue: u64,
    /// 督办中: open and under supervision.
    pub supervised: u64,
    /// 办结: resolved, rated or archived.
    pub resolved: u64,
    /// 办结率: resolved, of the tickets due by now (应办结: resolved, or open and past
    /// their deadline, 疑难 cases included). A ticket still within its time, suspended or
    /// under review does not count against it.
    pub closure_rate: Option<f64>,
    /// 按时办结率: resolved by the deadline, of all resolved.
    pub on_time_rate: Option<f64>,
    /// 满意率: callbacks that found the citizen 满意 or 基本满意, of the callbacks that
    /// reached the citizen (未接通 left out, counted in `unreached`).
    pub satisfaction: Option<f64>,
    /// 化解率: disputes resolved, of the disputes due by now (as the closure rate).
    pub dispute_resolution_rate: Option<f64>,
    /// Resolved at village, town, county and city level (小事不出村，大事不出镇).
    pub resolved_by_level: [u64; 4],
    /// 疑难: open tickets on the hard-case board, and of them those past their deadline
    /// (not 超期, but due: they count against `closure_rate`).
    #[serde(default)]
    pub hard: u64,
    #[serde(default)]
    pub hard_overdue: u64,
    /// 挂起: open tickets whose clock is suspended.
    #[serde(default)]
    pub suspended: u64,
    /// 待审核: results waiting for the center's review.
    #[serde(default)]
    pub reviewing: u64,
    /// 延期申请: extensions asked for and not yet decided.
    #[serde(default)]
    pub extension_requests: u64,
    /// 重办率: tickets sent back to their unit at least once (a rejected review, an
    /// unsatisfied callback), of the tickets a unit reported on.
    #[serde(default)]
    pub rework_rate: Option<f64>,
    /// 未接通: callbacks that did not reach the citizen.
    #[serde(default)]
    pub unreached: u64,
    /// Tickets taken in per local hour, today and yesterday.
    pub hourly_today: [u32; 24],
    pub hourly_yesterday: [u32; 24],
    /// Today's intake by channel and by category (every one, in the enums' order).
    pub by_channel: Vec<(Channel, u32)>,
    pub by_category: Vec<(Category, u32)>,
    /// Today's intake by district id, most first.
    pub by_district: Vec<(String, u32)>,
    /// The grids with the most open tickets, hottest first.
    pub hot_grids: Vec<(String, u32)>,
    /// The last `TREND_DAYS` local days, oldest first, by day of intake: what each day's
    /// tickets came to so far (the wall draws each figure's 30-day trend from these).
    #[serde(default)]
    pub trend: Vec<DayFigures>,
    /// 考核: the districts ranked on the last 7 whole days, with their place the 7 days
    /// before (the change since last week).
    #[serde(default)]
    pub ranking: Vec<DistrictScore>,
}

/// How many days `trend` covers.
pub const TREND_DAYS: i64 = 30;

/// One day's tickets, counted by the day they were taken in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// Local days since 1970-01-01.
    pub day: i64,
    pub intake: u32,
    pub resolved: u32,
    pub on_time: u32,
    pub rated: u32,
    pub satisfied: u32,
}

impl DayFigures {
    /// Resolved, of the day's intake.
    pub fn closure(&self) -> Option<f64> {
        (self.intake > 0).then(|| self.resolved as f64 / self.intake as f64)
    }
    /// Resolved within time, of the resolved.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.resolved > 0).then(|| self.on_time as f64 / self.resolved as f64)
    }
    pub fn satisfaction(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.satisfied as f64 / self.rated as f64)
    }
    /// The 考核 score, 0-100: 40 for resolving within time (of the intake), 30 for
    /// resolving at all, 30 for satisfaction (a week with no follow-up yet counts full).
    pub fn score(&self) -> f64 {
        if self.intake == 0 {
            return 0.0;
        }
        let n = self.intake as f64;
        40.0 * self.on_time as f64 / n
            + 30.0 * self.resolved as f64 / n
            + 30.0 * self.satisfaction().unwrap_or(1.0)
    }
    pub fn add(&mut self, o: &DayFigures) {
        self.intake += o.intake;
        self.resolved += o.resolved;
        self.on_time += o.on_time;
        self.rated += o.rated;
        self.satisfied += o.satisfied;
    }
}

/// A district's place in the 考核 ranking.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DistrictScore {
    pub district: String,
    /// `DayFigures::score` of its last 7 whole days.
    pub score: f64,
    /// 1 = first.
    pub rank: u32,
    /// Its place the 7 days before (none: it had no tickets then).
    pub last_week_rank: Option<u32>,
}

impl KpiFigures {
    /// Share resolved at `level`, of all resolved.
    pub fn level_share(&self, level: Level) -> Option<f64> {
        let all: u64 = self.resolved_by_level.iter().sum();
        (all > 0).then(|| self.resolved_by_level[level as usize] as f64 / all as f64)
    }
}
