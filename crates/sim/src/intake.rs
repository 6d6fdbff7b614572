//! What the city reports and when: a new ticket's matter, place and channel, and how many
//! fall due in a step (a day's curve, a flood's surge).

use super::*;

impl Sim {
    /// One new ticket at a weighted random place.
    pub fn new_ticket(&mut self, flood: bool) -> NewTicket {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let x = self.rng.random_range(0.0..total);
        let mut gi = self
            .cumulative
            .partition_point(|&c| c < x)
            .min(self.grids.len() - 1);
        let flood_grids = self
            .scenario
            .as_ref()
            .map(|s| s.grids.clone())
            .unwrap_or_default();
        if flood && !flood_grids.is_empty() {
            gi = flood_grids[self.rng.random_range(0..flood_grids.len())];
        }
        let grid = &self.grids[gi];
        let channel = weighted(&mut self.rng, &CHANNELS);
        let (category, subs) = if flood {
            const FLOOD: [(Category, &[&str]); 3] = [
                (
                    Category::Emergency,
                    &["内涝", "人员被困", "房屋进水", "道路积水"],
                ),
                (Category::Livelihood, &["停电", "供水故障"]),
                (Category::SafetyHazard, &["危房", "树木倒伏"]),
            ];
            let (c, subs) = FLOOD[self.rng.random_range(0..FLOOD.len())];
            (c, subs)
        } else {
            let i = weighted(
                &mut self.rng,
                &CATEGORIES
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (i, c.1))
                    .collect::<Vec<_>>(),
            );
            let c = CATEGORIES[i].0;
            let subs: &[&str] = domain::services::SUBTYPES
                .iter()
                .find(|(k, _)| *k == c)
                .map_or(&[], |(_, s)| s);
            (c, subs)
        };
        let subtype = subs
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("其他")
            .to_string();
        let priority = match (category, self.rng.random_range(0..100)) {
            (Category::Emergency, _) | (_, 0..=4) => Priority::Urgent,
            (_, 5..=54) if flood => Priority::Urgent,
            (_, 5..=24) => Priority::Important,
            _ => Priority::Normal,
        };
        let base = domain::sla::default_minutes(priority) as f64;
        let bb = geo::BoundingRect::bounding_rect(&grid.shape);
        let (lon, lat) = match bb {
            Some(r) => (
                self.rng
                    .random_range(r.min().x..=r.max().x.max(r.min().x + 1e-9)),
                self.rng
                    .random_range(r.min().y..=r.max().y.max(r.min().y + 1e-9)),
            ),
            None => (grid.center[0], grid.center[1]),
        };
        let reporter = if channel == Channel::GridApp {
            format!("网格员 {}", grid.worker)
        } else {
            format!(
                "{}先生",
                names::person(&mut self.rng).chars().next().unwrap_or('王')
            )
        };
        let ask = [
            "请尽快处理",
            "希望相关部门尽快到场",
            "已多次反映，请给予答复",
        ][self.rng.random_range(0..3)];
        NewTicket {
            channel,
            category,
            subtype: subtype.clone(),
            priority,
            lon,
            lat,
            grid: grid.id.clone(),
            title: format!("{}{}", grid.name, subtype),
            content: format!(
                "{reporter}反映：{}发生{subtype}，影响周边居民正常生活，{ask}。",
                grid.name
            ),
            address: grid.name.clone(),
            reporter,
            // Deadlines shrink with the speed so that a visit sees countdowns move.
            sla_minutes: Some(((base / self.sla_speed).round() as u32).max(2)),
            created_ms: None,
        }
    }

    /// How many tickets to take in over `dt_ms` (ms of the clock `now` runs on) at this
    /// hour, and how many of them belong to the emergency scenario.
    pub(super) fn intake_due(&mut self, now: i64, dt_ms: f64) -> (u32, u32) {
        let hour = domain::time::hour_of_day(now);
        let mean = HOURLY.iter().sum::<f64>() / 24.0;
        let per_ms = self.tickets_per_day * HOURLY[hour] / mean / 24.0 / 3_600_000.0 * self.speed;
        let mut draw = |expect: f64| {
            let mut n = expect.floor() as u32;
            if self
                .rng
                .random_bool((expect - expect.floor()).clamp(0.0, 1.0))
            {
                n += 1;
            }
            n
        };
        let normal = draw(per_ms * dt_ms);
        let flood = match &self.scenario {
            Some(sc) if now >= sc.start_ms && now < sc.start_ms + sc.duration_ms => {
                // The affected districts' share of the normal rate, times the factor.
                let extra = per_ms * dt_ms * sc.share * (sc.factor - 1.0);
                draw(extra)
            }
            _ => 0,
        };
        (normal, flood)
    }
}
