//! What a client asks the core besides commands, and the commands it refuses before
//! any are applied: a rewind's place, an audit trail, the command budget.

use super::*;

impl Core {
    /// The commands of `batch` within their credentials' budgets; the others are
    /// answered `rate_limited` here, and nothing of theirs is applied.
    pub(super) fn within_budget(&mut self, batch: Batch) -> Batch {
        let now = std::time::Instant::now();
        let mut kept = Vec::with_capacity(batch.len());
        for (id, request, reply) in batch {
            // Admin credentials are systems' (imports, bridges, the simulator): unbudgeted.
            // ... and so is the gateway's own duty engine.
            let admin = matches!(
                request.access.role,
                domain::access::Role::Admin | domain::access::Role::System
            );
            if admin || self.budget.take(&request.credential, now) {
                kept.push((id, request, reply));
                continue;
            }
            self.status
                .metrics
                .commands_refused
                .fetch_add(1, Ordering::Relaxed);
            let outcome = CommandOutcome::Refused {
                code: ErrorCode::RateLimited,
                message: format!(
                    "over this credential's budget of {} commands a minute: nothing changed; send it again in {:.1} s",
                    self.cfg.limits.commands_per_minute,
                    self.budget.wait_s(&request.credential)
                ),
            };
            let answer = Answer {
                outcome,
                fresh: false,
            };
            self.answer(id, request.key, answer, reply);
        }
        kept
    }

    /// A place for a rewind, or why there is none.
    pub(super) fn rewind(
        &mut self,
        id: u64,
        credential: String,
        kill: oneshot::Sender<&'static str>,
    ) -> Result<(), String> {
        if self.clients.len() + self.rewinds.len() >= self.cfg.limits.max_clients {
            return Err(format!(
                "this gateway serves {} clients already: try again soon",
                self.cfg.limits.max_clients
            ));
        }
        if self.rewinds.len() >= crate::rewind::MAX_REWINDS {
            return Err(format!(
                "{} rewinds are running on this gateway: try again soon",
                crate::rewind::MAX_REWINDS
            ));
        }
        if self.rewinds.values().any(|(c, _)| *c == credential) {
            return Err("this credential has a rewind running: one at a time".into());
        }
        self.rewinds.insert(id, (credential, kill));
        Ok(())
    }

    pub(super) fn audit(&mut self, id: u64, ticket: u64, region: String) {
        // A scoped client reads the trails of its region's tickets only; others are as
        // unknown to it as tickets that never were.
        let scope = Access {
            region,
            ..Access::city(domain::access::Role::Viewer)
        };
        let visible = match self.store.ticket(ticket) {
            Ok(Some(t)) => scope.covers(&t.grid),
            _ => true,
        };
        let msg = match self.store.audit_of(ticket) {
            _ if !visible => ServerMsg::Error {
                code: ErrorCode::UnknownTicket,
                message: format!("no ticket {ticket} in this feed's region"),
            },
            Ok(entries) if entries.is_empty() => ServerMsg::Error {
                code: ErrorCode::UnknownTicket,
                message: format!("no ticket {ticket}"),
            },
            Ok(entries) => ServerMsg::Audit { ticket, entries },
            Err(e) => {
                tracing::error!("audit of ticket {ticket} not read: {e}");
                ServerMsg::Error {
                    code: ErrorCode::Storage,
                    message: "the trail could not be read (a database error, in the gateway's log): ask again".into(),
                }
            }
        };
        self.send_to(id, &msg);
    }
}
