//! The live tickets by status and the open ones past each stage's deadline, kept up
//! with every ticket change: what `/metrics` reports. Counting them by walking every
//! ticket on the core took it away from its batches for the length of the walk at each
//! scrape (a province's million tickets: a stall every watcher felt,
//! `yiping-bench snapshot`); here a scrape costs the deadlines passed since the last one.

use domain::Deadlines as _;
use std::collections::{BTreeSet, HashMap};

use protocol::{Stage, Ticket, TicketStatus};

/// A ticket's stage deadline (if it counts) and its resolution deadline, (stage, when).
type Deadlines = [Option<(Stage, i64)>; 2];

/// What one ticket counts for: its status, and its deadlines (stage, when); nothing if
/// it is archived (no longer live).
fn counted(t: &Ticket) -> Option<(TicketStatus, Deadlines)> {
    if t.status == TicketStatus::Archived {
        return None;
    }
    // The deadlines `overdue_stages` looks at: the current stage's (when it is not the
    // resolution's) and the resolution's.
    let deadlines = match t.current_deadline() {
        None => [None, None],
        Some((Stage::Resolve, _)) => [None, Some((Stage::Resolve, t.deadline_ms))],
        Some(stage) => [Some(stage), Some((Stage::Resolve, t.deadline_ms))],
    };
    Some((t.status, deadlines))
}

/// Kept up by each change (`before` → `after`), so it holds no copy of a ticket: 24
/// bytes for each open deadline.
#[derive(Default)]
pub struct Gauges {
    by_status: HashMap<TicketStatus, u64>,
    /// Every open ticket's deadlines, (when, ticket, stage); those before `clock` are
    /// counted in `behind`.
    deadlines: BTreeSet<(i64, u64, Stage)>,
    behind: HashMap<Stage, u64>,
    clock: i64,
}

/// A reading: live tickets by status, open ones past a deadline by stage.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    pub by_status: HashMap<TicketStatus, u64>,
    pub overdue: HashMap<Stage, u64>,
}

impl Reading {
    /// The same counts by walking every ticket, as `/metrics` once did: the check the
    /// tests hold the kept counts to.
    #[cfg(test)]
    pub fn recount<'a>(tickets: impl Iterator<Item = &'a Ticket>, now_ms: i64) -> Reading {
        let mut r = Reading::default();
        for t in tickets.filter(|t| t.status != TicketStatus::Archived) {
            *r.by_status.entry(t.status).or_default() += 1;
            for s in t.overdue_stages(now_ms) {
                *r.overdue.entry(s).or_default() += 1;
            }
        }
        r
    }
}

impl Gauges {
    /// The counts of the live `tickets` from scratch (at load).
    pub fn of<'a>(tickets: impl Iterator<Item = &'a Ticket>) -> Gauges {
        let mut g = Gauges::default();
        for t in tickets {
            g.change(None, Some(t));
        }
        g
    }

    /// A ticket was `before` and is now `after` (`None`: not there).
    pub fn change(&mut self, before: Option<&Ticket>, after: Option<&Ticket>) {
        let Some(id) = after.or(before).map(|t| t.id) else {
            return;
        };
        let (was, now) = (before.and_then(counted), after.and_then(counted));
        if was == now {
            return;
        }
        if let Some((status, deadlines)) = was {
            if let Some(n) = self.by_status.get_mut(&status) {
                *n -= 1;
                if *n == 0 {
                    self.by_status.remove(&status);
                }
            }
            for (stage, at) in deadlines.into_iter().flatten() {
                if self.deadlines.remove(&(at, id, stage)) && at < self.clock {
                    *self.behind.entry(stage).or_default() -= 1;
                }
            }
        }
        if let Some((status, deadlines)) = now {
            *self.by_status.entry(status).or_default() += 1;
            for (stage, at) in deadlines.into_iter().flatten() {
                if self.deadlines.insert((at, id, stage)) && at < self.clock {
                    *self.behind.entry(stage).or_default() += 1;
                }
            }
        }
    }

    /// The counts at `now_ms`: the deadlines passed since the last reading move behind.
    pub fn read(&mut self, now_ms: i64) -> Reading {
        if now_ms >= self.clock {
            for (_, _, stage) in self
                .deadlines
                .range((self.clock, 0, Stage::Accept)..(now_ms, 0, Stage::Accept))
            {
                *self.behind.entry(*stage).or_default() += 1;
            }
        } else {
            // The clock went back (set by hand): count again.
            self.behind.clear();
            for (_, _, stage) in self.deadlines.range(..(now_ms, 0, Stage::Accept)) {
                *self.behind.entry(*stage).or_default() += 1;
            }
        }
        self.clock = now_ms;
        Reading {
            by_status: self.by_status.clone(),
            overdue: self
                .behind
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| (*s, *n))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use protocol::examples;

    fn recount(tickets: &HashMap<u64, Ticket>, now: i64) -> Reading {
        Reading::recount(tickets.values(), now)
    }

    const STATUSES: [TicketStatus; 6] = [
        TicketStatus::Received,
        TicketStatus::Assigned,
        TicketStatus::Accepted,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::Archived,
    ];

    proptest! {
        /// Changes, removals and readings in any order, the clock going mostly forward
        /// and sometimes back: every reading equals a recount.
        #[test]
        fn kept_counts_equal_a_recount(
            steps in prop::collection::vec(
                (0u64..12, 0usize..6, 0i64..100, 0i64..100, 0i64..8, any::<bool>()),
                1..120,
            )
        ) {
            let mut kept = Gauges::default();
            let mut live: HashMap<u64, Ticket> = HashMap::new();
            let mut now = 0;
            for (id, status, stage_due, due, tick, read) in steps {
                let before = live.remove(&id);
                let mut t = examples::ticket();
                t.id = id;
                t.status = STATUSES[status];
                t.stage_deadline_ms = Some(stage_due);
                t.deadline_ms = due;
                kept.change(before.as_ref(), Some(&t));
                // Archived: no longer live.
                if t.status != TicketStatus::Archived {
                    live.insert(id, t);
                }
                // Forward mostly; back now and then (tick 0 with `read`).
                now = if tick == 0 && read { (now - 30).max(0) } else { now + tick * 5 };
                if read {
                    prop_assert_eq!(kept.read(now), recount(&live, now));
                }
            }
            prop_assert_eq!(kept.read(now + 1), recount(&live, now + 1));
        }
    }
}
