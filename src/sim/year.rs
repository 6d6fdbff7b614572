//! Fast-forward: the simulator's own decisions run against a local copy of the lifecycle
//! (the store's state machine, without I/O) on a virtual clock, for a whole year in
//! seconds. Used to calibrate the simulator against the seeds' figures.

use std::collections::HashMap;

use super::Sim;
use super::city::City;
use crate::feed::{Change, Mirror};
use crate::protocol::{Category, ClientMsg, Command, Level, TicketStatus, Warning, WarningStatus};
use crate::store::{Policy, lifecycle};

/// What a simulated period came to, against the seeds' figures.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub days: u32,
    pub tickets: u64,
    /// 办结率: resolved by the end, of all taken in.
    pub closure_rate: f64,
    /// 化解率: disputes resolved by the end, of all disputes.
    pub dispute_resolution_rate: f64,
    /// Share of resolved tickets resolved at village or town level.
    pub resolved_low_share: f64,
    /// 满意率: satisfied follow-ups of all follow-ups.
    pub satisfaction: f64,
    /// Commands the lifecycle refused: a simulator that follows it makes none.
    pub refused: u64,
    pub commands: u64,
    pub warnings: u64,
    /// Peak tickets taken in during one simulated hour.
    pub peak_hour: u64,
    /// Tickets taken in per (hour since the epoch, district id).
    pub by_hour_district: HashMap<(i64, String), u64>,
}

/// Run `days` of simulated time at `tickets_per_day`, starting at `start_ms`.
pub fn fast_forward(
    city: &City,
    tickets_per_day: f64,
    days: u32,
    seed: u64,
    start_ms: i64,
    flood: Option<(&[&str], i64, f64)>,
) -> Report {
    let mut sim = Sim::new(city, 1.0, tickets_per_day, seed);
    if let Some((districts, at, factor)) = flood {
        sim.flood(districts, at, factor);
    }
    let mut m = Mirror {
        epoch: "fast-forward".into(),
        ..Default::default()
    };
    let policy = Policy::default();
    let mut r = Report {
        days,
        ..Default::default()
    };
    let (mut next_ticket, mut next_warning) = (1u64, 1u64);
    let mut disputes = 0u64;
    let (mut resolved, mut disputes_resolved, mut low, mut rated, mut satisfied) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut per_hour: HashMap<i64, u64> = HashMap::new();
    let step = 60_000i64;
    let mut now = start_ms;
    let end = start_ms + days as i64 * 86_400_000;
    let mut pending: Vec<ClientMsg> = sim.setup();
    loop {
        for msg in std::mem::take(&mut pending) {
            let ClientMsg::Command { command, .. } = msg else {
                continue;
            };
            r.commands += 1;
            let change = match &command {
                Command::UpsertUnit { unit } => {
                    m.units.insert(unit.id.clone(), unit.clone());
                    Change::Unit
                }
                Command::Intake { ticket } => {
                    let t = lifecycle::new_ticket(next_ticket, ticket, now, policy.sla_minutes);
                    next_ticket += 1;
                    r.tickets += 1;
                    *per_hour.entry(now / 3_600_000).or_default() += 1;
                    let district = t.grid.split('-').next().unwrap_or("").to_string();
                    *r.by_hour_district
                        .entry((now / 3_600_000, district))
                        .or_default() += 1;
                    if t.category == Category::Dispute {
                        disputes += 1;
                    }
                    let id = t.id;
                    m.tickets.insert(id, t);
                    Change::Ticket { id, before: None }
                }
                Command::RaiseWarning { warning } => {
                    let w = Warning {
                        id: next_warning,
                        level: warning.level,
                        status: WarningStatus::Raised,
                        kind: warning.kind.clone(),
                        title: warning.title.clone(),
                        grids: warning.grids.clone(),
                        tickets: warning.tickets.clone(),
                        raised_ms: now,
                        updated_ms: now,
                        task_force: None,
                    };
                    next_warning += 1;
                    r.warnings += 1;
                    m.warnings.insert(w.id, w);
                    Change::None
                }
                Command::AckWarning { warning }
                | Command::AssignTaskForce { warning, .. }
                | Command::LiftWarning { warning, .. } => {
                    match m
                        .warnings
                        .get(warning)
                        .map(|w| lifecycle::apply_warning(w, &command, now))
                    {
                        Some(Ok(w)) if w.status == WarningStatus::Lifted => {
                            m.warnings.remove(&w.id);
                        }
                        Some(Ok(w)) => {
                            m.warnings.insert(w.id, w);
                        }
                        _ => r.refused += 1,
                    }
                    Change::None
                }
                other => {
                    let Some(id) = other.ticket() else { continue };
                    let Some(t) = m.tickets.get(&id) else {
                        r.refused += 1;
                        continue;
                    };
                    let unit = match other {
                        Command::Dispatch { unit, .. } => m.units.get(unit),
                        _ => None,
                    };
                    match lifecycle::apply_ticket(t, other, unit, now) {
                        Ok(c) => {
                            let n = c.ticket;
                            if n.status == TicketStatus::Resolved
                                && t.status != TicketStatus::Resolved
                            {
                                resolved += 1;
                                low += (n.level <= Level::Town) as u64;
                                disputes_resolved += (n.category == Category::Dispute) as u64;
                            }
                            if let Some(s) = n.satisfied.filter(|_| t.satisfied.is_none()) {
                                rated += 1;
                                satisfied += s as u64;
                            }
                            let before = if n.status == TicketStatus::Archived {
                                m.tickets.remove(&id)
                            } else {
                                m.tickets.insert(id, n)
                            };
                            Change::Ticket {
                                id,
                                before: before.map(Box::new),
                            }
                        }
                        Err(_) => {
                            r.refused += 1;
                            Change::None
                        }
                    }
                }
            };
            sim.observe(&m, &change, now);
        }
        if now >= end {
            break;
        }
        now += step;
        pending = sim.step(&m, now, step as f64);
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    r.closure_rate = ratio(resolved, r.tickets);
    r.dispute_resolution_rate = ratio(disputes_resolved, disputes);
    r.resolved_low_share = ratio(low, resolved);
    r.satisfaction = ratio(satisfied, rated);
    r.peak_hour = per_hour.values().copied().max().unwrap_or(0);
    r
}
