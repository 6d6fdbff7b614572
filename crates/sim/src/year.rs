//! Fast-forward: the simulator's own decisions run through the domain's lifecycle and
//! `apply` (what the gateway runs, without I/O) on a virtual clock, for a whole year in
//! seconds. Used to calibrate the simulator against the seeds' figures. Like any feed
//! source it never touches the store.

use std::collections::HashMap;

use super::Sim;
use domain::Change;
use domain::access::{Access, Role};
use domain::decide::{Ask, Bounds, Decider, Decision, NextIds};
use domain::sla::DEFAULT_SLA_MINUTES;
use domain::time::HOUR_MS;
use feed::Mirror;
use gis::city::City;
use protocol::{AuditAction, CallbackResult, Category, ClientMsg, Event, Level, TicketStatus};

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
    /// The center's workflow: reviews and those sent back; extensions asked and given;
    /// callbacks, those unanswered and those unsatisfied; cases marked 疑难.
    pub reviews: u64,
    pub reviews_rejected: u64,
    pub extensions_asked: u64,
    pub extensions_approved: u64,
    pub callbacks: u64,
    pub callbacks_unreached: u64,
    pub callbacks_unsatisfied: u64,
    pub hard_marked: u64,
    /// At the end: open tickets, those 超期 (by the figures' definition), those 疑难.
    pub open_end: u64,
    pub overdue_end: u64,
    pub hard_end: u64,
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
    let mut r = Report {
        days,
        ..Default::default()
    };
    let mut disputes = 0u64;
    let (mut resolved, mut disputes_resolved, mut low, mut rated, mut satisfied) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut per_hour: HashMap<i64, u64> = HashMap::new();
    let mut first_resolved = std::collections::HashSet::new();
    let end = start_ms + days as i64 * 86_400_000;
    let run = drive(&mut sim, start_ms, end, |event, change, now| {
        match event {
            Event::TicketCreated { ticket: t, .. } => {
                r.tickets += 1;
                *per_hour.entry(now / HOUR_MS).or_default() += 1;
                let district = domain::kpi::district_of(&t.grid).to_string();
                *r.by_hour_district
                    .entry((now / HOUR_MS, district))
                    .or_default() += 1;
                if t.category == Category::Dispute {
                    disputes += 1;
                }
            }
            Event::WarningRaised { .. } => r.warnings += 1,
            _ => {}
        }
        if let Some(a) = event.audit() {
            let n = event.ticket();
            match a.action {
                AuditAction::Review => {
                    r.reviews += 1;
                    r.reviews_rejected +=
                        n.is_some_and(|t| t.status != TicketStatus::Resolved) as u64;
                }
                AuditAction::RequestExtension => r.extensions_asked += 1,
                AuditAction::DecideExtension => {
                    r.extensions_approved += a.note.starts_with("同意") as u64;
                }
                AuditAction::Callback | AuditAction::Rate => {
                    r.callbacks += 1;
                    match n.and_then(|t| t.work.callback) {
                        Some(CallbackResult::Unreached) => r.callbacks_unreached += 1,
                        Some(CallbackResult::Unsatisfied) => r.callbacks_unsatisfied += 1,
                        _ => {}
                    }
                }
                AuditAction::MarkHard => r.hard_marked += 1,
                _ => {}
            }
        }
        if let Change::Ticket { before, .. } = change
            && let Some(n) = event.ticket()
        {
            let was = before.as_deref();
            if n.status == TicketStatus::Resolved
                && was.is_some_and(|t| t.status != TicketStatus::Resolved)
                && first_resolved.insert(n.id)
            {
                resolved += 1;
                low += (n.level <= Level::Town) as u64;
                disputes_resolved += (n.category == Category::Dispute) as u64;
            }
            // 满意率 per callback that reached the citizen (满意 and 基本满意 of them).
            if matches!(
                event.audit().map(|a| a.action),
                Some(AuditAction::Callback | AuditAction::Rate)
            ) {
                match n.work.callback {
                    Some(CallbackResult::Satisfied | CallbackResult::BasicallySatisfied) => {
                        rated += 1;
                        satisfied += 1;
                    }
                    Some(CallbackResult::Unsatisfied) => rated += 1,
                    _ => {}
                }
            }
        }
    });
    r.commands = run.commands;
    r.refused = run.refused;
    // What a leader's wall would show at the end: the open tickets, those 超期 as the
    // figures count them (a unit's clock running and past), those on the 疑难 board.
    use domain::Deadlines;
    for t in run
        .mirror
        .tickets
        .values()
        .filter(|t| t.merged_into.is_none())
    {
        if t.status.is_open() {
            r.open_end += 1;
            r.overdue_end += (t.clock_runs() && t.deadline_ms < end) as u64;
            r.hard_end += t.work.hard.is_some() as u64;
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    r.closure_rate = ratio(resolved, r.tickets);
    r.dispute_resolution_rate = ratio(disputes_resolved, disputes);
    r.resolved_low_share = ratio(low, resolved);
    r.satisfaction = ratio(satisfied, rated);
    r.peak_hour = per_hour.values().copied().max().unwrap_or(0);
    r
}

/// What `drive` leaves: the state at the end, the last sequence number used, and how
/// many commands were made and refused.
pub struct Driven {
    pub mirror: Mirror,
    pub seq: u64,
    pub commands: u64,
    pub refused: u64,
}

/// Run `sim` from `start_ms` to `end_ms` on a virtual clock, a minute a step: each command
/// it makes becomes the event the gateway would write (`lifecycle`, numbered from 1) and
/// is applied with `domain::apply`; `on` sees every event with its change and time.
/// Who the simulator is in the audit trail.
const ACTOR: &str = "仿真系统";

pub fn drive(
    sim: &mut Sim,
    start_ms: i64,
    end_ms: i64,
    mut on: impl FnMut(&Event, &Change, i64),
) -> Driven {
    let mut m = Mirror {
        epoch: "fast-forward".into(),
        ..Default::default()
    };
    let (mut next_ticket, mut next_warning, mut seq) = (1u64, 1u64, 0u64);
    let (mut commands, mut refused) = (0u64, 0u64);
    let step = 60_000i64;
    let mut now = start_ms;
    let mut pending: Vec<ClientMsg> = sim.setup();
    let bounds = Bounds::default();
    let admin = Access::city(Role::Admin);
    let no_trail = |_: &protocol::Briefing| Ok(vec![]);
    loop {
        for msg in std::mem::take(&mut pending) {
            let ClientMsg::Command { command, .. } = msg else {
                continue;
            };
            commands += 1;
            // The event the gateway would write for this command (the same decision,
            // `domain::decide`, as the simulator's admin), or none if refused.
            let decider = Decider {
                state: &m.state,
                bounds: &bounds,
                trail: &no_trail,
            };
            let ask = Ask {
                actor: ACTOR,
                access: &admin,
                key: "fast-forward",
                command: &command,
                field: None,
            };
            let event = decider.decide(&ask, now).ok().map(|d| {
                let next = NextIds {
                    ticket: next_ticket,
                    warning: next_warning,
                };
                match d {
                    Decision::NewTicket(_) => next_ticket += 1,
                    Decision::NewWarning(_) => next_warning += 1,
                    _ => {}
                }
                d.event(next, seq + 1, now, ACTOR, DEFAULT_SLA_MINUTES).0
            });
            let Some(event) = event else {
                refused += 1;
                continue;
            };
            seq += 1;
            let change = domain::apply(&mut m.state, &event);
            on(&event, &change, now);
            sim.observe(&m, &change, now);
        }
        if now >= end_ms {
            break;
        }
        now += step;
        pending = sim.step(&m, now, step as f64);
    }
    Driven {
        mirror: m,
        seq,
        commands,
        refused,
    }
}
