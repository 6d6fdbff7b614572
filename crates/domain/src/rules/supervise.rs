//! 督办 on its own: every stage of an open ticket past its deadline (accept, start work,
//! resolve) is put under supervision, once per stage (the decision refuses a second, and
//! the key names the stage and its deadline). An accepted ticket left idle past its start
//! deadline comes back up this way.

use protocol::{Command, Stage, Ticket};

use super::RuleCommand;
use crate::Deadlines;

/// The supervisions due at `now_ms` among `due` (the tickets whose time has come: the
/// store's index by due time, not every ticket).
pub fn overdue<'a>(
    due: impl Iterator<Item = &'a Ticket> + 'a,
    now_ms: i64,
) -> impl Iterator<Item = RuleCommand> + 'a {
    due.flat_map(move |t| {
        t.unsupervised_overdue(now_ms)
            .into_iter()
            .map(move |stage| {
                let (deadline, note) = match stage {
                    Stage::Accept => (t.stage_deadline_ms, "超过签收时限，系统自动督办"),
                    Stage::Handle => (t.stage_deadline_ms, "签收后超时未处置，重新提请并督办"),
                    Stage::Resolve => (Some(t.deadline_ms), "超过办理时限，系统自动督办"),
                };
                RuleCommand {
                    key: format!(
                        "auto-supervise-{}-{}-{}",
                        t.id,
                        stage.en(),
                        deadline.unwrap_or(0)
                    ),
                    command: Command::Supervise {
                        ticket: t.id,
                        note: note.into(),
                        stage: Some(stage),
                    },
                }
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{TicketStatus, examples};

    #[test]
    fn an_assigned_ticket_past_both_deadlines_gets_one_supervision_per_stage() {
        let mut t = examples::ticket();
        t.status = TicketStatus::Assigned;
        t.stage_deadline_ms = Some(t.created_ms + 1_000);
        t.deadline_ms = t.created_ms + 2_000;
        t.supervised_stages.clear();
        let now = t.created_ms + 3_000;
        let got: Vec<_> = overdue([&t].into_iter(), now).collect();
        let stages: Vec<_> = got
            .iter()
            .map(|c| match &c.command {
                Command::Supervise { stage, .. } => *stage,
                _ => None,
            })
            .collect();
        assert_eq!(stages, vec![Some(Stage::Accept), Some(Stage::Resolve)]);
        assert_eq!(
            got[0].key,
            format!("auto-supervise-{}-accept-{}", t.id, t.created_ms + 1_000)
        );
        // Once supervised, a stage is not supervised again.
        t.supervised_stages = vec![Stage::Accept, Stage::Resolve];
        assert_eq!(overdue([&t].into_iter(), now).count(), 0);
        // Before its deadlines, nothing.
        t.supervised_stages.clear();
        assert_eq!(overdue([&t].into_iter(), t.created_ms).count(), 0);
    }
}
