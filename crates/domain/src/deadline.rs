//! Deadlines (时限) a ticket runs against: the stage it is in and the time that counts
//! now, and the overdue stages the gateway supervises on its own.

use protocol::{Stage, Ticket, TicketStatus};

/// A ticket's deadlines, as methods on the wire's `Ticket` (`use domain::Deadlines`).
pub trait Deadlines {
    fn clock_runs(&self) -> bool;
    fn current_deadline(&self) -> Option<(Stage, i64)>;
    fn unsupervised_overdue(&self, now_ms: i64) -> Vec<Stage>;
    fn next_supervision(&self) -> Option<i64>;
    fn overdue_stages(&self, now_ms: i64) -> Vec<Stage>;
}

impl Deadlines for Ticket {
    /// Whether its deadline clock runs: in its unit's hands (not under review), not
    /// suspended (挂起) and not a hard case (疑难, on the center's own board).
    fn clock_runs(&self) -> bool {
        self.status.with_unit()
            && self.work.suspended_since_ms.is_none()
            && self.work.hard.is_none()
    }

    /// The stage the ticket is in and the deadline that counts now: the stage's own while
    /// it is earlier than the resolution deadline, else the resolution deadline. `None`
    /// once resolved.
    fn current_deadline(&self) -> Option<(Stage, i64)> {
        if !self.clock_runs() {
            return None;
        }
        let stage = match self.status {
            TicketStatus::Assigned => Some(Stage::Accept),
            TicketStatus::Accepted => Some(Stage::Handle),
            _ => None,
        };
        Some(match (stage, self.stage_deadline_ms) {
            (Some(s), Some(d)) if d < self.deadline_ms => (s, d),
            _ => (Stage::Resolve, self.deadline_ms),
        })
    }

    /// The stages past their deadline at `now_ms` and not yet supervised: what the gateway
    /// supervises on its own. An accepted ticket left idle past its start deadline is one.
    fn unsupervised_overdue(&self, now_ms: i64) -> Vec<Stage> {
        let mut out = self.overdue_stages(now_ms);
        out.retain(|s| !self.supervised_stages.contains(s));
        out
    }

    /// When the first of its not yet supervised stages falls due (`None`: none will, or it
    /// is closed): the gateway's supervision looks only at tickets whose time has come.
    fn next_supervision(&self) -> Option<i64> {
        if !self.clock_runs() {
            return None;
        }
        let stage = self
            .current_deadline()
            .filter(|(s, _)| *s != Stage::Resolve && !self.supervised_stages.contains(s))
            .map(|(_, d)| d);
        let resolve =
            (!self.supervised_stages.contains(&Stage::Resolve)).then_some(self.deadline_ms);
        stage.into_iter().chain(resolve).min()
    }

    /// The stages past their deadline at `now_ms`: the current stage's (accept, start
    /// work) and the resolution's.
    fn overdue_stages(&self, now_ms: i64) -> Vec<Stage> {
        let mut out = Vec::new();
        if !self.clock_runs() {
            return out;
        }
        if let Some((s, d)) = self.current_deadline()
            && s != Stage::Resolve
            && d < now_ms
        {
            out.push(s);
        }
        if self.deadline_ms < now_ms {
            out.push(Stage::Resolve);
        }
        out
    }
}
