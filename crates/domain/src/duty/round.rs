//! The duty engine's round, once a heartbeat on the writer: shifts that start or end (and
//! the handovers their ends draft), escalations that open, climb (值班员 → 值班长 → 值班领导,
//! then the leader again every `repeat`) and close when their cause goes away. What it
//! returns the gateway sends as `duty_record` commands; a second round at the same time
//! returns nothing new.

use protocol::{
    Duty, DutyChange, DutyRole, Escalation, EscalationRule, Priority, Subject, TicketStatus,
    WarningLevel, WarningStatus,
};

use super::{center_of, figures, handover, is_open};
use crate::State;
use crate::kpi::district_of;

/// When escalations open and how often they climb (`[duty]` in the gateway's config).
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    /// A red (an orange) warning not acknowledged after this many minutes; `None`: never.
    pub red_minutes: Option<f64>,
    pub orange_minutes: Option<f64>,
    /// An urgent ticket not accepted by its stage deadline.
    pub urgent_not_accepted: bool,
    /// A ticket supervised (督办) twice.
    pub supervised_twice: bool,
    /// Minutes between rounds of messages while nobody acknowledges.
    pub repeat_minutes: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            red_minutes: Some(10.0),
            orange_minutes: Some(30.0),
            urgent_not_accepted: true,
            supervised_twice: true,
            repeat_minutes: 10.0,
        }
    }
}

fn minutes_ms(m: f64) -> i64 {
    (m * 60_000.0).round() as i64
}

/// The changes due at `now_ms`. `tickets`: walk the live tickets too (the ticket rules);
/// the core does so every tenth round, since the walk costs 36 ms at a province's million
/// live tickets (`yiping-bench duty`), and the warnings' rules every round.
pub fn round(state: &State, rules: &Rules, now_ms: i64, tickets: bool) -> Vec<DutyChange> {
    let duty = &state.duty;
    let mut out = Vec::new();
    let mut next_id = duty.next_id.max(1);
    shifts(state, now_ms, &mut next_id, &mut out);
    let repeat = minutes_ms(rules.repeat_minutes).max(1_000);
    for e in duty.escalations.iter().filter(|e| e.closed.is_none()) {
        if let Some(why) = cleared(state, e) {
            out.push(DutyChange::Escalation {
                escalation: Escalation {
                    closed: Some(why.into()),
                    ..e.clone()
                },
            });
        } else if now_ms >= e.next_ms && e.rule != EscalationRule::UnitOffline {
            let level = match e.level {
                DutyRole::Officer => DutyRole::Chief,
                _ => DutyRole::Leader,
            };
            out.push(DutyChange::Escalation {
                escalation: Escalation {
                    level,
                    rounds: e.rounds + 1,
                    next_ms: now_ms + repeat,
                    ..e.clone()
                },
            });
        }
    }
    for (rule, subject, center, title) in due(state, rules, now_ms, tickets) {
        out.push(DutyChange::Escalation {
            escalation: Escalation {
                id: next_id,
                rule,
                subject,
                center,
                title,
                opened_ms: now_ms,
                level: DutyRole::Officer,
                rounds: 1,
                next_ms: now_ms + repeat,
                notices: vec![],
                acked_by: None,
                acked_ms: None,
                closed: None,
            },
        });
        next_id += 1;
    }
    out
}

/// Shifts starting and ending; a 值班员's shift that ends drafts its handover.
fn shifts(state: &State, now_ms: i64, next_id: &mut u64, out: &mut Vec<DutyChange>) {
    let duty = &state.duty;
    for id in &duty.on_duty {
        let Some(s) = duty.roster.shift(*id) else {
            continue;
        };
        if s.end_ms <= now_ms {
            out.push(DutyChange::ShiftEnded { shift: s.clone() });
            if s.role == DutyRole::Officer {
                out.push(DutyChange::Handover {
                    handover: handover::draft(state, s, now_ms, *next_id),
                });
                *next_id += 1;
            }
        }
    }
    for s in &duty.roster.shifts {
        if s.start_ms <= now_ms && now_ms < s.end_ms && !duty.on_duty.contains(&s.id) {
            out.push(DutyChange::ShiftStarted {
                shift: s.clone(),
                figures: figures(state, &s.center, now_ms),
            });
        }
    }
}

/// Why an open escalation closes of itself, if its cause went away.
fn cleared(state: &State, e: &Escalation) -> Option<&'static str> {
    match e.subject {
        Subject::Warning { id } => match state.warnings.get(&id) {
            None => Some("预警已解除"),
            Some(w) if w.status != WarningStatus::Raised => Some("预警已确认"),
            Some(_) => None,
        },
        Subject::Ticket { id } => {
            let Some(t) = state.tickets.get(&id) else {
                return Some("工单已归档");
            };
            match e.rule {
                EscalationRule::UrgentNotAccepted | EscalationRule::UnitOffline
                    if t.status != TicketStatus::Assigned =>
                {
                    Some("工单已签收或改派")
                }
                EscalationRule::SupervisedTwice if !is_open(t.status) => Some("工单已办结"),
                _ => None,
            }
        }
    }
}

type Due = (EscalationRule, Subject, String, String);

/// Escalations that should be open and are not (never opened for that subject and rule).
fn due(state: &State, rules: &Rules, now_ms: i64, tickets: bool) -> Vec<Due> {
    let duty: &Duty = &state.duty;
    // Looked up once a ticket at most: a set, not a walk of the escalations each time.
    let opened: std::collections::HashSet<(EscalationRule, Subject)> = duty
        .escalations
        .iter()
        .map(|e| (e.rule, e.subject))
        .collect();
    let known = |rule: EscalationRule, subject: Subject| opened.contains(&(rule, subject));
    let mut out = Vec::new();
    for w in state.warnings.values() {
        let after = match w.level {
            WarningLevel::Red => rules.red_minutes,
            WarningLevel::Orange => rules.orange_minutes,
            _ => None,
        };
        let Some(after) = after else { continue };
        let subject = Subject::Warning { id: w.id };
        let age = now_ms - w.raised_ms;
        if w.status == WarningStatus::Raised
            && age >= minutes_ms(after)
            && !known(EscalationRule::WarningUnacked, subject)
        {
            let level = if w.level == WarningLevel::Red {
                "红色"
            } else {
                "橙色"
            };
            out.push((
                EscalationRule::WarningUnacked,
                subject,
                center_of(&w.grids),
                format!(
                    "{level}预警 #{} {} {} 分钟未确认",
                    w.id,
                    w.title,
                    (age / 60_000).max(1)
                ),
            ));
        }
    }
    if !tickets || (!rules.urgent_not_accepted && !rules.supervised_twice) {
        return out;
    }
    for t in state.tickets.values() {
        let subject = Subject::Ticket { id: t.id };
        let center = || district_of(&t.grid).to_string();
        if rules.urgent_not_accepted
            && t.priority == Priority::Urgent
            && t.status == TicketStatus::Assigned
            && t.stage_deadline_ms.is_some_and(|d| d <= now_ms)
            && !known(EscalationRule::UrgentNotAccepted, subject)
        {
            out.push((
                EscalationRule::UrgentNotAccepted,
                subject,
                center(),
                format!("紧急工单 #{} {} 超时未签收", t.id, t.title),
            ));
        }
        if rules.supervised_twice
            && is_open(t.status)
            && t.supervised_stages.len() >= 2
            && !known(EscalationRule::SupervisedTwice, subject)
        {
            out.push((
                EscalationRule::SupervisedTwice,
                subject,
                center(),
                format!("工单 #{} {} 已两次督办", t.id, t.title),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duty::apply;
    use protocol::{Person, Roster, Shift, WarningStatus, examples};

    const MIN: i64 = 60_000;

    fn state(now: i64) -> State {
        let mut s = State::default();
        let person = |id: &str| Person {
            id: id.into(),
            name: id.into(),
            phone: "13800000000".into(),
            credential: id.into(),
        };
        let shift = |id, role, person: &str, start, end| Shift {
            id,
            center: String::new(),
            role,
            person: person.into(),
            start_ms: start,
            end_ms: end,
        };
        let roster = Roster {
            people: vec![person("a"), person("b"), person("c")],
            shifts: vec![
                shift(1, DutyRole::Officer, "a", now - 60 * MIN, now + 30 * MIN),
                shift(2, DutyRole::Chief, "b", now - 60 * MIN, now + 120 * MIN),
                shift(3, DutyRole::Officer, "c", now + 30 * MIN, now + 600 * MIN),
            ],
        };
        apply(&mut s.duty, &DutyChange::Roster { roster });
        let mut w = examples::warning();
        w.level = WarningLevel::Red;
        w.raised_ms = now - 11 * MIN;
        s.warnings.insert(w.id, w);
        s
    }

    fn run(s: &mut State, now: i64) -> Vec<DutyChange> {
        let changes = round(s, &Rules::default(), now, true);
        for c in &changes {
            apply(&mut s.duty, c);
        }
        changes
    }

    #[test]
    fn an_unacknowledged_red_warning_climbs_each_role_then_closes_when_acknowledged() {
        let now = 1_800_000_000_000;
        let mut s = state(now);
        let c = run(&mut s, now);
        // Two shifts start, one escalation opens at the officer.
        assert_eq!(
            c.iter()
                .filter(|c| matches!(c, DutyChange::ShiftStarted { .. }))
                .count(),
            2
        );
        let e = &s.duty.escalations[0];
        assert_eq!(
            (e.level, e.rounds, e.rule),
            (DutyRole::Officer, 1, EscalationRule::WarningUnacked)
        );
        assert!(e.title.starts_with("红色预警 #7"), "{}", e.title);
        // The same moment again: nothing new.
        assert!(run(&mut s, now).is_empty());
        // Every 10 minutes the next role up, then the leader again.
        run(&mut s, now + 10 * MIN);
        assert_eq!(
            (s.duty.escalations[0].level, s.duty.escalations[0].rounds),
            (DutyRole::Chief, 2)
        );
        run(&mut s, now + 20 * MIN);
        run(&mut s, now + 30 * MIN);
        let e = &s.duty.escalations[0];
        assert_eq!((e.level, e.rounds), (DutyRole::Leader, 4));
        // At 30 minutes the officer's shift ended: its handover hands the warning over.
        let h = &s.duty.handovers[0];
        assert_eq!(
            (h.from.as_str(), h.to.as_deref(), h.warnings.clone()),
            ("a", Some("c"), vec![7])
        );
        assert!(
            h.events.iter().any(|l| l.contains("升级提醒")),
            "{:?}",
            h.events
        );
        // Acknowledged on the wall: the escalation closes by itself at the next round.
        s.warnings.get_mut(&7).unwrap().status = WarningStatus::Acknowledged;
        run(&mut s, now + 31 * MIN);
        assert_eq!(s.duty.escalations[0].closed.as_deref(), Some("预警已确认"));
        assert!(
            run(&mut s, now + 60 * MIN).is_empty(),
            "closed: no more rounds"
        );
    }
}
