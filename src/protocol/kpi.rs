//! The figures a wall shows, as the gateway computed them and sends them once a second
//! (`kpis`). How they are kept up is the domain's (`crate::domain::kpi`).

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
    /// 超期: open and past the resolution deadline.
    pub overdue: u64,
    /// 督办中: open and under supervision.
    pub supervised: u64,
    /// 办结: resolved, rated or archived.
    pub resolved: u64,
    /// 办结率: resolved, of the tickets due by now (应办结: resolved, or open and past
    /// their deadline). A ticket still within its time does not count against it.
    pub closure_rate: Option<f64>,
    /// 按时办结率: resolved by the deadline, of all resolved.
    pub on_time_rate: Option<f64>,
    /// 满意率: satisfied of all follow-ups.
    pub satisfaction: Option<f64>,
    /// 化解率: disputes resolved, of the disputes due by now (as the closure rate).
    pub dispute_resolution_rate: Option<f64>,
    /// Resolved at village, town, county and city level (小事不出村，大事不出镇).
    pub resolved_by_level: [u64; 4],
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
}

impl KpiFigures {
    /// Share resolved at `level`, of all resolved.
    pub fn level_share(&self, level: Level) -> Option<f64> {
        let all: u64 = self.resolved_by_level.iter().sum();
        (all > 0).then(|| self.resolved_by_level[level as usize] as f64 / all as f64)
    }
}
