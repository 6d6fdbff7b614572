//! The handover the gateway drafts when a 值班员's shift ends (交接班): what is still open
//! for the next shift, what happened on this one, and the figures at its start and end.

use protocol::{Handover, HardCase, Priority, Shift, WarningStatus, within};

use super::{figures, in_center, is_open};
use crate::State;
use crate::time::civil;

/// At most this many lines of the shift's events (the newest kept).
pub const MAX_EVENTS: usize = 40;

/// The handover of `shift`, ending now, as id `id`.
pub fn draft(state: &State, shift: &Shift, now_ms: i64, id: u64) -> Handover {
    let center = shift.center.as_str();
    let mine = |grid: &str| within(grid, center);
    let mut urgent: Vec<u64> = Vec::new();
    let mut hard = Vec::new();
    let mut events: Vec<(i64, String)> = Vec::new();
    for t in state.tickets.values() {
        if !mine(&t.grid) || t.merged_into.is_some() {
            continue;
        }
        if is_open(t.status) && t.priority == Priority::Urgent {
            urgent.push(t.id);
        }
        if is_open(t.status)
            && let Some(reason) = &t.work.hard
        {
            hard.push(HardCase {
                ticket: t.id,
                title: t.title.clone(),
                reason: reason.clone(),
                meeting: t.work.meeting.as_ref().map(|m| {
                    let c = civil(m.at_ms);
                    format!("{} {} {}", c.date(), c.hhmm(), m.title)
                }),
            });
        }
        if t.priority == Priority::Urgent && (shift.start_ms..now_ms).contains(&t.created_ms) {
            events.push((t.created_ms, format!("紧急工单 #{} {} 受理", t.id, t.title)));
        }
    }
    let mut warnings = Vec::new();
    for w in state.warnings.values() {
        if !in_center(&w.grids, center) {
            continue;
        }
        if w.status == WarningStatus::Raised {
            warnings.push(w.id);
        }
        if (shift.start_ms..now_ms).contains(&w.raised_ms) {
            events.push((w.raised_ms, format!("预警 #{} {} 发布", w.id, w.title)));
        }
    }
    for e in &state.duty.escalations {
        if (shift.start_ms..now_ms).contains(&e.opened_ms) && within(&e.center, center) {
            let how = match (&e.acked_by, &e.closed) {
                (Some(by), _) => format!("，{by} 确认"),
                (None, Some(why)) => format!("，{why}"),
                (None, None) => "，仍未确认".into(),
            };
            events.push((e.opened_ms, format!("升级提醒 #{} {}{how}", e.id, e.title)));
        }
    }
    events.sort();
    let skip = events.len().saturating_sub(MAX_EVENTS);
    urgent.sort_unstable();
    warnings.sort_unstable();
    hard.sort_by_key(|h| h.ticket);
    let start = state
        .duty
        .started
        .iter()
        .find(|(s, _)| *s == shift.id)
        .map(|(_, f)| *f);
    let end = figures(state, center, now_ms);
    Handover {
        id,
        center: shift.center.clone(),
        shift: shift.id,
        from: shift.person.clone(),
        to: incoming(state, shift).map(|s| s.person.clone()),
        drafted_ms: now_ms,
        urgent,
        warnings,
        hard,
        events: events
            .into_iter()
            .skip(skip)
            .map(|(at, line)| format!("{} {line}", civil(at).hhmm()))
            .collect(),
        figures_start: start.unwrap_or(end),
        figures_end: end,
        notes: String::new(),
        signed_by: None,
        signed_ms: None,
    }
}

/// The shift that takes over: same center and role, running at the end of this one (or
/// the first to start within two hours after it).
pub fn incoming<'a>(state: &'a State, shift: &Shift) -> Option<&'a Shift> {
    let same = |s: &&Shift| {
        s.id != shift.id
            && s.center == shift.center
            && s.role == shift.role
            && s.person != shift.person
    };
    let shifts = &state.duty.roster.shifts;
    shifts
        .iter()
        .filter(same)
        .find(|s| s.start_ms <= shift.end_ms && shift.end_ms < s.end_ms)
        .or_else(|| {
            shifts
                .iter()
                .filter(same)
                .filter(|s| (shift.end_ms..shift.end_ms + 2 * 3_600_000).contains(&s.start_ms))
                .min_by_key(|s| s.start_ms)
        })
}
