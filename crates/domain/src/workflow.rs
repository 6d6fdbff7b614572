//! The center's own workflow around a unit's work (issue 27): review (审核) of a unit's
//! result, callbacks (回访) that may reopen it (重办), extensions (延期), hard cases (疑难)
//! and suspension (挂起). Pure functions like the lifecycle's: a record and a command in,
//! the record after it out, or the reason it is refused.

use serde::Deserialize;

use super::Refusal;
use super::change::{TicketChange, illegal};
use protocol::{
    CallbackResult, Command, ErrorCode, ExtensionAsk, Level, Ticket, TicketStatus as S,
};

/// The site's rules for the workflow (`[workflow]` in gateway.toml).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// The levels whose resolutions the center reviews before they count as 办结 (village,
    /// town, county, city). Default: all.
    pub review: Vec<Level>,
    /// Extensions a ticket may be given at most.
    pub max_extensions: u32,
    /// Reopenings (重办) after which a ticket is marked 疑难 on its own.
    pub hard_after_reworks: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            review: vec![Level::Village, Level::Town, Level::County, Level::City],
            max_extensions: 2,
            hard_after_reworks: 2,
        }
    }
}

impl Rules {
    pub fn reviews(&self, level: Level) -> bool {
        self.review.contains(&level)
    }
}

fn invalid(m: impl Into<String>) -> Refusal {
    Refusal::new(ErrorCode::Invalid, m)
}

/// The resolution time a 重办 gives: the ticket's own SLA at intake.
fn sla_of(t: &Ticket) -> i64 {
    if t.work.sla_ms > 0 {
        t.work.sla_ms
    } else {
        (t.deadline_ms - t.created_ms).max(3_600_000)
    }
}

/// Back to its unit (重办): in progress again, its deadline restarted; a ticket reopened
/// `hard_after_reworks` times becomes 疑难 on its own.
fn rework(n: &mut Ticket, now_ms: i64, rules: &Rules) {
    n.status = S::InProgress;
    n.resolved_level = None;
    n.resolved_ms = None;
    n.satisfied = None;
    n.stage_deadline_ms = None;
    n.deadline_ms = now_ms.saturating_add(sla_of(n));
    n.work.rework += 1;
    if n.work.rework >= rules.hard_after_reworks && n.work.hard.is_none() {
        n.work.hard = Some(format!(
            "重办{}次 (reopened {} times)",
            n.work.rework, n.work.rework
        ));
    }
}

/// Apply a workflow command; `None` if `cmd` is not one.
pub fn apply(
    t: &Ticket,
    cmd: &Command,
    now_ms: i64,
    rules: &Rules,
) -> Option<Result<TicketChange, Refusal>> {
    let mut n = t.clone();
    n.updated_ms = now_ms;
    let note: Result<String, Refusal> = match cmd {
        Command::Review { approve, note, .. } => (|| {
            if t.status != S::Reviewing {
                return Err(illegal(t, "review", "待审核 (under review)"));
            }
            if *approve {
                n.status = S::Resolved;
                Ok(format!("审核通过 (approved){}", colon(note)))
            } else {
                if note.trim().is_empty() {
                    return Err(invalid("a rejected review says why (note)"));
                }
                rework(&mut n, now_ms, rules);
                Ok(format!("审核退回重办 (sent back): {note}"))
            }
        })(),
        Command::Callback { result, words, .. } => (|| {
            if !matches!(t.status, S::Resolved | S::Rated) {
                return Err(illegal(t, "callback", "已办结 (resolved)"));
            }
            n.work.callback = Some(*result);
            match result {
                CallbackResult::Unreached => n.work.unreached += 1,
                CallbackResult::Satisfied | CallbackResult::BasicallySatisfied => {
                    n.work.callbacks_reached += 1;
                    n.work.callbacks_satisfied += 1;
                    n.status = S::Rated;
                    n.satisfied = Some(true);
                }
                CallbackResult::Unsatisfied => {
                    n.work.callbacks_reached += 1;
                    rework(&mut n, now_ms, rules);
                }
            }
            Ok(format!("{}{}", result.zh(), colon(words)))
        })(),
        Command::RequestExtension {
            until_ms, reason, ..
        } => (|| {
            if !t.status.with_unit() || t.unit.is_none() {
                return Err(illegal(t, "request_extension", "a ticket with its unit"));
            }
            if t.work.extension_asked.is_some() {
                return Err(illegal(
                    t,
                    "request_extension",
                    "no extension already asked for",
                ));
            }
            if t.work.extensions >= rules.max_extensions {
                return Err(invalid(format!(
                    "ticket {} has had {} extensions, the most this center gives",
                    t.id, t.work.extensions
                )));
            }
            if *until_ms <= t.deadline_ms.max(now_ms) {
                return Err(invalid(
                    "an extension asks for a time after the current deadline",
                ));
            }
            if *until_ms > t.deadline_ms.saturating_add(90 * 86_400_000) {
                return Err(invalid("an extension is 90 days at most"));
            }
            if reason.trim().is_empty() {
                return Err(invalid("an extension request says why (reason)"));
            }
            n.work.extension_asked = Some(ExtensionAsk {
                until_ms: *until_ms,
                reason: reason.trim().to_string(),
            });
            Ok(format!("延期至 {} : {reason}", super::time::iso(*until_ms)))
        })(),
        Command::DecideExtension { approve, note, .. } => (|| {
            let Some(ask) = &t.work.extension_asked else {
                return Err(illegal(t, "decide_extension", "an extension asked for"));
            };
            n.work.extension_asked = None;
            if *approve {
                n.deadline_ms = ask.until_ms;
                n.work.extensions += 1;
                Ok(format!(
                    "同意延期至 {}{}",
                    super::time::iso(ask.until_ms),
                    colon(note)
                ))
            } else {
                Ok(format!("不同意延期 (refused){}", colon(note)))
            }
        })(),
        Command::MarkHard { reason, .. } => (|| {
            if !t.status.is_open() {
                return Err(illegal(t, "mark_hard", "an open ticket"));
            }
            if reason.trim().is_empty() {
                return Err(invalid("a hard case says why (reason)"));
            }
            n.work.hard = Some(reason.trim().to_string());
            Ok(reason.trim().to_string())
        })(),
        Command::Suspend { reason, .. } => (|| {
            if !t.status.with_unit() || t.work.suspended_since_ms.is_some() {
                return Err(illegal(t, "suspend", "an open ticket not suspended"));
            }
            if reason.trim().is_empty() {
                return Err(invalid("a suspension says why (reason)"));
            }
            n.work.suspended_since_ms = Some(now_ms);
            Ok(reason.trim().to_string())
        })(),
        Command::Release { .. } => (|| {
            let Some(since) = t.work.suspended_since_ms else {
                return Err(illegal(t, "release", "a suspended ticket"));
            };
            let paused = (now_ms - since).max(0);
            n.work.suspended_since_ms = None;
            n.work.suspended_total_ms += paused;
            n.deadline_ms = n.deadline_ms.saturating_add(paused);
            n.stage_deadline_ms = n.stage_deadline_ms.map(|d| d.saturating_add(paused));
            Ok(format!(
                "挂起 {} 分钟 (suspended {} min)",
                paused / 60_000,
                paused / 60_000
            ))
        })(),
        Command::ScheduleMeeting { at_ms, title, .. } => (|| {
            if !t.status.is_open() || t.work.hard.is_none() {
                return Err(illegal(t, "schedule_meeting", "an open 疑难 case"));
            }
            if title.trim().is_empty() {
                return Err(invalid("a meeting has a title"));
            }
            n.work.meeting = Some(protocol::Meeting {
                at_ms: *at_ms,
                title: title.trim().to_string(),
            });
            Ok(format!("{} {}", title.trim(), super::time::iso(*at_ms)))
        })(),
        Command::MeetingOutcome {
            units_present,
            lead_unit,
            deadline_ms,
            resolved,
            note,
            ..
        } => (|| {
            let Some(m) = t.work.meeting.clone() else {
                return Err(illegal(t, "meeting_outcome", "a case put to a meeting"));
            };
            if !t.status.is_open() {
                return Err(illegal(t, "meeting_outcome", "an open ticket"));
            }
            if !*resolved && lead_unit.is_none() && deadline_ms.is_none() {
                return Err(invalid(
                    "a meeting's outcome resolves the case, or names a lead unit or a new deadline",
                ));
            }
            if let Some(d) = deadline_ms
                && *d <= now_ms
            {
                return Err(invalid("a new deadline lies ahead"));
            }
            let mut said = format!("{} {}", m.title, super::time::iso(m.at_ms));
            if !units_present.is_empty() {
                said += &format!("; 到会 {}", units_present.join("、"));
            }
            if let Some(u) = lead_unit {
                n.unit = Some(u.clone());
                said += &format!("; 牵头 {u}");
            }
            if let Some(d) = deadline_ms {
                n.deadline_ms = *d;
                n.stage_deadline_ms = None;
                said += &format!("; 时限 {}", super::time::iso(*d));
            }
            if *resolved {
                n.status = S::Resolved;
                n.resolved_level = Some(t.level);
                n.resolved_ms = Some(now_ms);
                said += "; 会议办结";
            } else {
                // Back to the ordinary queue under its lead unit and new deadline.
                n.status = S::InProgress;
                n.work.hard = None;
            }
            n.work.meeting = None;
            n.work.suspended_since_ms = None;
            Ok(format!("{said}{}", colon(note)))
        })(),
        Command::Place { grid, lon, lat, .. } => (|| {
            if !t.status.is_open() {
                return Err(illegal(t, "place", "an open ticket"));
            }
            let was = if t.grid.is_empty() {
                "待定位".to_string()
            } else {
                t.grid.clone()
            };
            n.grid = grid.clone();
            n.lon = *lon;
            n.lat = *lat;
            Ok(format!("{was} → {grid}"))
        })(),
        _ => return None,
    };
    Some(note.map(|note| TicketChange {
        transitioned: n.status != t.status,
        ticket: n,
        note,
        unit: None,
    }))
}

fn colon(s: &str) -> String {
    if s.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", s.trim())
    }
}
