//! The figures the wall shows (shared/DOMAIN.md, "Figures the wall shows"), kept up
//! incrementally. Every figure is a sum over tickets of what one ticket record
//! contributes, so an event costs "take away the old record's part, add the new one's":
//! the same work however long the history. The gateway keeps one `Kpis` per scope and
//! sends its `KpiFigures` (the wire type, in `protocol::kpi`) once a second, so every
//! wall shows the same numbers; `Kpis::recompute` is the brute-force check the tests hold
//! it to.

use std::collections::{BTreeSet, HashMap};

use super::time::{local_day, local_hour};
use protocol::kpi::{DayFigures, DistrictScore, TREND_DAYS};
use protocol::{Category, Channel, KpiFigures, Ticket, TicketStatus};

/// How many of the hottest grids the figures list.
pub const HOT_GRIDS: usize = 10;

/// The district a grid belongs to: its id's first part (`321102-01-001-001` → `321102`).
pub fn district_of(grid: &str) -> &str {
    grid.split('-').next().unwrap_or(grid)
}

/// The running sums behind the figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kpis {
    total: u64,
    open: u64,
    supervised_open: u64,
    resolved: u64,
    on_time: u64,
    rated: u64,
    satisfied: u64,
    disputes_resolved: u64,
    by_level: [u64; 4],
    intake_by_hour: HashMap<i64, u32>,
    by_day_channel: HashMap<(i64, Channel), u32>,
    by_day_category: HashMap<(i64, Category), u32>,
    by_day_district: HashMap<(i64, String), u32>,
    /// What each (day of intake, district)'s tickets came to: the trend and the ranking.
    days: HashMap<(i64, String), DayFigures>,
    open_by_grid: HashMap<String, u32>,
    /// (open tickets, grid) for the hottest grids: the last entries are the hottest.
    hot: BTreeSet<(u32, String)>,
    /// Open tickets whose deadline is not yet behind `clock`; those behind it are counted
    /// in `overdue` (or, for a 疑难 case, `hard_overdue`). `advance` moves them across as
    /// time goes on. (deadline, id, is a dispute, is a hard case)
    ahead: BTreeSet<(i64, u64, bool, bool)>,
    overdue: u64,
    /// 疑难 cases past their deadline: not 超期 (they are on their own board), but due, so
    /// they count against the closure rate: marking a case 疑难 hides nothing there.
    hard_overdue: u64,
    overdue_disputes: u64,
    clock: i64,
    /// The center's workflow: open 疑难, 挂起, 待审核 and 延期申请 tickets; tickets a unit
    /// reported on at least once, and of them those reopened (重办率); unreached callbacks.
    hard: u64,
    suspended: u64,
    reviewing: u64,
    extension_asks: u64,
    reported: u64,
    reworked: u64,
    unreached: u64,
}

/// The callbacks a ticket contributes: (reached the citizen, 满意 or 基本满意). A ticket of
/// the first waves rated once counts as one callback.
fn callbacks(t: &Ticket) -> (u32, u32) {
    if t.work.callbacks_reached > 0 || t.satisfied.is_none() {
        (t.work.callbacks_reached, t.work.callbacks_satisfied)
    } else {
        (1, (t.satisfied == Some(true)) as u32)
    }
}

/// Counts toward 办结: resolved and accepted by the center (not waiting for review).
fn is_resolved(t: &Ticket) -> bool {
    !t.status.is_open() && t.resolved_level.is_some()
}

fn add_n(v: &mut u64, n: u32, sign: i32) {
    if sign > 0 {
        *v += n as u64;
    } else {
        *v = v.saturating_sub(n as u64);
    }
}

fn bump<K: std::hash::Hash + Eq>(m: &mut HashMap<K, u32>, k: K, sign: i32) {
    if sign > 0 {
        *m.entry(k).or_default() += 1;
    } else if let Some(v) = m.get_mut(&k) {
        *v -= 1;
        if *v == 0 {
            m.remove(&k);
        }
    }
}

fn add(v: &mut u64, yes: bool, sign: i32) {
    if yes {
        if sign > 0 {
            *v += 1;
        } else {
            *v = v.saturating_sub(1);
        }
    }
}

impl Kpis {
    /// Empty, with the overdue clock at `now_ms`.
    pub fn new(now_ms: i64) -> Kpis {
        Kpis {
            clock: now_ms,
            ..Default::default()
        }
    }

    /// The brute-force computation: every ticket of the history (archived ones included)
    /// added one by one, at the clock `now_ms`.
    pub fn recompute<'a>(tickets: impl IntoIterator<Item = &'a Ticket>, now_ms: i64) -> Kpis {
        let mut k = Kpis::new(now_ms);
        for t in tickets {
            k.part(t, 1);
        }
        k
    }

    /// One ticket changed from `before` (none for a new ticket) to `after`.
    pub fn update(&mut self, before: Option<&Ticket>, after: &Ticket) {
        if let Some(b) = before {
            self.part(b, -1);
        }
        self.part(after, 1);
    }

    /// Move the overdue clock forward to `now_ms` (never back): the open tickets whose
    /// deadline it passes become overdue. Work in proportion to those tickets.
    pub fn advance(&mut self, now_ms: i64) {
        if now_ms <= self.clock {
            return;
        }
        self.clock = now_ms;
        while let Some(&(d, id, dispute, hard)) = self.ahead.first() {
            if d >= now_ms {
                break;
            }
            self.ahead.remove(&(d, id, dispute, hard));
            if hard {
                self.hard_overdue += 1;
            } else {
                self.overdue += 1;
                self.overdue_disputes += dispute as u64;
            }
        }
    }

    /// Add (sign 1) or take away (sign -1) what one ticket record contributes.
    fn part(&mut self, t: &Ticket, sign: i32) {
        // A merged duplicate is its master's matter: counted once, as the master.
        if t.merged_into.is_some() {
            return;
        }
        let open = t.status.is_open();
        add(&mut self.total, true, sign);
        add(&mut self.open, open, sign);
        add(&mut self.supervised_open, open && t.supervised, sign);
        let resolved = is_resolved(t);
        add(&mut self.resolved, resolved, sign);
        let on_time = resolved && t.resolved_ms.is_some_and(|r| r <= t.deadline_ms);
        add(&mut self.on_time, on_time, sign);
        let (reached, pleased) = callbacks(t);
        add_n(&mut self.rated, reached, sign);
        add_n(&mut self.satisfied, pleased, sign);
        add_n(&mut self.unreached, t.work.unreached, sign);
        add(&mut self.hard, open && t.work.hard.is_some(), sign);
        add(
            &mut self.suspended,
            open && t.work.suspended_since_ms.is_some(),
            sign,
        );
        add(
            &mut self.reviewing,
            t.status == TicketStatus::Reviewing,
            sign,
        );
        add(
            &mut self.extension_asks,
            open && t.work.extension_asked.is_some(),
            sign,
        );
        let reported = t.resolved_ms.is_some() || t.work.rework > 0;
        add(&mut self.reported, reported, sign);
        add(&mut self.reworked, t.work.rework > 0, sign);
        let dispute = t.category == Category::Dispute;
        add(&mut self.disputes_resolved, dispute && resolved, sign);
        if let Some(l) = t.resolved_level {
            add(&mut self.by_level[l as usize], true, sign);
        }
        let day = local_day(t.created_ms);
        bump(&mut self.intake_by_hour, local_hour(t.created_ms), sign);
        bump(&mut self.by_day_channel, (day, t.channel), sign);
        bump(&mut self.by_day_category, (day, t.category), sign);
        bump(
            &mut self.by_day_district,
            (day, district_of(&t.grid).to_string()),
            sign,
        );
        let cell = self
            .days
            .entry((day, district_of(&t.grid).to_string()))
            .or_insert_with(|| DayFigures {
                day,
                ..Default::default()
            });
        let one = |v: &mut u32, yes: bool| {
            if yes {
                *v = if sign > 0 {
                    *v + 1
                } else {
                    v.saturating_sub(1)
                };
            }
        };
        one(&mut cell.intake, true);
        one(&mut cell.resolved, resolved);
        one(&mut cell.on_time, on_time);
        let many = |v: &mut u32, n: u32| {
            *v = if sign > 0 {
                *v + n
            } else {
                v.saturating_sub(n)
            };
        };
        many(&mut cell.rated, reached);
        many(&mut cell.satisfied, pleased);
        if open {
            let was = self.open_by_grid.get(&t.grid).copied().unwrap_or(0);
            if was > 0 {
                self.hot.remove(&(was, t.grid.clone()));
            }
            bump(&mut self.open_by_grid, t.grid.clone(), sign);
            let now = self.open_by_grid.get(&t.grid).copied().unwrap_or(0);
            if now > 0 {
                self.hot.insert((now, t.grid.clone()));
            }
        }
        // Due by its deadline: a ticket in a unit's hands whose clock is not suspended. 超期
        // counts those off the 疑难 board; the hard ones past it are counted apart.
        if t.status.with_unit() && t.work.suspended_since_ms.is_none() {
            let hard = t.work.hard.is_some();
            let key = (t.deadline_ms, t.id, dispute, hard);
            let late = |k: &mut Kpis, sign: i32| {
                if hard {
                    add(&mut k.hard_overdue, true, sign);
                } else {
                    add(&mut k.overdue, true, sign);
                    add(&mut k.overdue_disputes, dispute, sign);
                }
            };
            if sign > 0 {
                if t.deadline_ms < self.clock {
                    late(self, 1);
                } else {
                    self.ahead.insert(key);
                }
            } else if !self.ahead.remove(&key) {
                late(self, -1);
            }
        }
    }

    /// The figures at `now_ms` (the overdue count is at the clock: `advance` first).
    pub fn figures(&self, now_ms: i64) -> KpiFigures {
        let today = local_day(now_ms);
        let hour0 = today * 24;
        let hours = |day0: i64| {
            let mut h = [0u32; 24];
            for (i, v) in h.iter_mut().enumerate() {
                *v = self
                    .intake_by_hour
                    .get(&(day0 + i as i64))
                    .copied()
                    .unwrap_or(0);
            }
            h
        };
        let hourly_today = hours(hour0);
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        let mut by_district: Vec<(String, u32)> = self
            .by_day_district
            .iter()
            .filter(|((d, _), _)| *d == today)
            .map(|((_, k), v)| (k.clone(), *v))
            .collect();
        by_district.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut trend: Vec<DayFigures> = (today - TREND_DAYS + 1..=today)
            .map(|day| DayFigures {
                day,
                ..Default::default()
            })
            .collect();
        // The last 7 whole days, and the 7 before them, by district.
        let mut weeks: HashMap<&str, [DayFigures; 2]> = HashMap::new();
        for ((day, district), f) in &self.days {
            if let Some(i) = trend.iter().position(|d| d.day == *day) {
                trend[i].add(f);
            }
            let ago = today - day;
            if (1..=14).contains(&ago) {
                weeks.entry(district).or_default()[((ago - 1) / 7) as usize].add(f);
            }
        }
        let ranked = |week: usize| {
            let mut v: Vec<(&str, f64)> = weeks
                .iter()
                .filter(|(_, w)| w[week].intake > 0)
                .map(|(d, w)| (*d, w[week].score()))
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
            v
        };
        let last_week = ranked(1);
        let ranking = ranked(0)
            .into_iter()
            .enumerate()
            .map(|(i, (d, score))| DistrictScore {
                district: d.to_string(),
                score,
                rank: i as u32 + 1,
                last_week_rank: last_week
                    .iter()
                    .position(|(x, _)| *x == d)
                    .map(|p| p as u32 + 1),
            })
            .collect();
        KpiFigures {
            at_ms: now_ms,
            total: self.total,
            intake_today: hourly_today.iter().sum(),
            open: self.open,
            overdue: self.overdue,
            supervised: self.supervised_open,
            resolved: self.resolved,
            closure_rate: ratio(
                self.resolved,
                self.resolved + self.overdue + self.hard_overdue,
            ),
            on_time_rate: ratio(self.on_time, self.resolved),
            satisfaction: ratio(self.satisfied, self.rated),
            dispute_resolution_rate: ratio(
                self.disputes_resolved,
                self.disputes_resolved + self.overdue_disputes,
            ),
            resolved_by_level: self.by_level,
            hard: self.hard,
            hard_overdue: self.hard_overdue,
            suspended: self.suspended,
            reviewing: self.reviewing,
            extension_requests: self.extension_asks,
            rework_rate: ratio(self.reworked, self.reported),
            unreached: self.unreached,
            hourly_today,
            hourly_yesterday: hours(hour0 - 24),
            by_channel: Channel::ALL
                .iter()
                .map(|c| {
                    (
                        *c,
                        self.by_day_channel.get(&(today, *c)).copied().unwrap_or(0),
                    )
                })
                .collect(),
            by_category: Category::ALL
                .iter()
                .map(|c| {
                    (
                        *c,
                        self.by_day_category.get(&(today, *c)).copied().unwrap_or(0),
                    )
                })
                .collect(),
            by_district,
            hot_grids: self
                .hot
                .iter()
                .rev()
                .take(HOT_GRIDS)
                .map(|(n, g)| (g.clone(), *n))
                .collect(),
            trend,
            ranking,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::examples;

    #[test]
    fn the_ranking_scores_the_last_whole_week_and_says_the_change_since_the_week_before() {
        use crate::time::DAY_MS;
        let now = examples::ticket().created_ms;
        let mut tickets = vec![];
        let mut id = 0;
        // (district, days ago, resolved within time)
        let mut add = |grid: &str, ago: i64, on_time: bool| {
            id += 1;
            let mut t = examples::ticket();
            t.id = id;
            t.grid = format!("{grid}-01-001-001");
            t.created_ms = now - ago * DAY_MS;
            t.deadline_ms = t.created_ms + 3_600_000;
            t.status = protocol::TicketStatus::Resolved;
            t.resolved_level = Some(protocol::Level::Village);
            t.resolved_ms = Some(t.created_ms + if on_time { 60_000 } else { 7_200_000 });
            tickets.push(t);
        };
        // Last week: A late, B on time. The week before: the other way round.
        add("321102", 3, false);
        add("321111", 3, true);
        add("321102", 10, true);
        add("321111", 10, false);
        // Today's tickets do not count yet.
        add("321183", 0, true);
        let k = Kpis::recompute(tickets.iter(), now);
        let f = k.figures(now);
        let r: Vec<(&str, u32, Option<u32>)> = f
            .ranking
            .iter()
            .map(|d| (d.district.as_str(), d.rank, d.last_week_rank))
            .collect();
        assert_eq!(r, [("321111", 1, Some(2)), ("321102", 2, Some(1))]);
        assert!((f.ranking[0].score - 100.0).abs() < 1e-9);
        assert!((f.ranking[1].score - 60.0).abs() < 1e-9);
        assert_eq!(f.trend.len(), 30);
        assert_eq!(f.trend.last().unwrap().intake, 1);
        assert_eq!(f.trend[29 - 3].intake, 2);
        assert_eq!(f.trend[29 - 3].on_time, 1);
        // Kept up by changes as by a recount.
        let mut inc = Kpis::new(now);
        for t in &tickets {
            inc.update(None, t);
        }
        assert_eq!(inc.figures(now), f);
    }

    #[test]
    fn the_protocol_example_figures_are_what_the_accumulator_computes() {
        let want = examples::kpi_figures();
        let k = Kpis::recompute(examples::kpi_history().iter(), want.at_ms);
        assert_eq!(k.figures(want.at_ms), want);
    }
}
