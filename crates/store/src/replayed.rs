//! Writing a recording into the store: a recorded snapshot seeds it, recorded events are
//! written as they were (the same records, the same audit lines) under this store's own
//! sequence numbers. The gateway does this when it replays (`yiping replay`); the same
//! memory, figures and event log follow as for a live command (`Store::write_event`).

use super::{Delta, Store, StoreError};
use protocol::{Event, Snapshot};

impl Store {
    /// Take in one part of a recorded snapshot (no events: it is where the log starts).
    pub fn seed(&mut self, s: &Snapshot) -> Result<(), StoreError> {
        // The snapshot's records, as the events that would have made them.
        let mut events: Vec<Event> = vec![];
        if s.part == 0 {
            events.push(Event::BriefingChanged {
                briefing: s.briefing.clone(),
            });
            // The duty room as recorded: its roster, shifts on duty, escalations, handovers.
            if let Some(d) = &s.duty {
                use protocol::DutyChange as C;
                let mut changes = vec![C::Roster {
                    roster: d.roster.clone(),
                }];
                for (id, figures) in &d.started {
                    if let Some(shift) = d.roster.shift(*id) {
                        changes.push(C::ShiftStarted {
                            shift: shift.clone(),
                            figures: *figures,
                        });
                    }
                }
                changes.extend(d.escalations.iter().map(|e| C::Escalation {
                    escalation: e.clone(),
                }));
                changes.extend(d.handovers.iter().map(|h| C::Handover {
                    handover: h.clone(),
                }));
                events.extend(changes.into_iter().map(|c| Event::Duty {
                    change: Box::new(c),
                }));
            }
        }
        events.extend(
            s.units
                .iter()
                .map(|u| Event::UnitStatus { unit: u.clone() }),
        );
        events.extend(
            s.warnings
                .iter()
                .map(|w| domain::lifecycle::warning_event(w.clone())),
        );
        self.db.begin()?;
        let r = (|| {
            for t in &s.tickets {
                self.db.upsert_ticket(t)?;
                let before = self.state.tickets.insert(t.id, Box::new(t.clone()));
                self.note_kpis(before.as_deref(), t);
                self.sync_indexes(t.id);
                self.next_ticket = self.next_ticket.max(t.id + 1);
            }
            for e in &events {
                self.write_event(e)?;
            }
            self.db.commit()
        })();
        if let Err(e) = r {
            self.db.rollback();
            self.reload()?;
            return Err(e);
        }
        Ok(())
    }

    /// Write recorded events in one transaction, stamped `ts_us`; each becomes a delta of
    /// this store's log with the event exactly as recorded.
    pub fn apply_replayed(
        &mut self,
        events: Vec<Event>,
        ts_us: i64,
    ) -> Result<Vec<Delta>, StoreError> {
        self.in_one_transaction(events, |s, event| {
            s.write_event(&event)?;
            let seq = s.seq + 1;
            let frame = s.log_event(seq, ts_us, &event)?;
            s.seq = seq;
            Ok(Delta { seq, event, frame })
        })
    }
}
