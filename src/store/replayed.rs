//! Writing a recording into the store: a recorded snapshot seeds it, recorded events are
//! written as they were (the same records, the same audit lines) under this store's own
//! sequence numbers. The gateway does this when it replays (`yiping replay`); the same
//! memory, figures and event log follow as for a live command.

use super::{Delta, Store, StoreError};
use crate::protocol::{Event, Snapshot, TicketStatus, WarningStatus};

impl Store {
    /// Take in one part of a recorded snapshot (no events: it is where the log starts).
    pub fn seed(&mut self, s: &Snapshot) -> Result<(), StoreError> {
        self.db.begin()?;
        let r = (|| {
            for t in &s.tickets {
                self.db.upsert_ticket(t)?;
            }
            for w in &s.warnings {
                self.db.upsert_warning(w)?;
            }
            for u in &s.units {
                self.db.upsert_unit(u)?;
            }
            self.db.commit()
        })();
        if let Err(e) = r {
            self.db.rollback();
            return Err(e);
        }
        for t in &s.tickets {
            let before = self.tickets.insert(t.id, t.clone());
            self.note_kpis(before.as_ref(), t);
            self.next_ticket = self.next_ticket.max(t.id + 1);
        }
        for w in &s.warnings {
            self.warnings.insert(w.id, w.clone());
            self.next_warning = self.next_warning.max(w.id + 1);
        }
        for u in &s.units {
            self.units.insert(u.id.clone(), u.clone());
        }
        if s.part == 0 {
            self.db.set_briefing(s.briefing.as_ref())?;
            self.briefing = s.briefing.clone();
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
        self.in_one_transaction(events, |s, event| s.write_replayed(event, ts_us))
    }

    fn write_replayed(&mut self, event: Event, ts_us: i64) -> Result<Delta, StoreError> {
        match &event {
            Event::TicketCreated { ticket, audit }
            | Event::TicketTransitioned { ticket, audit }
            | Event::TicketUpdated { ticket, audit } => {
                self.db.upsert_ticket(ticket)?;
                self.db.insert_audit(ticket.id, audit)?;
                let before = if ticket.status == TicketStatus::Archived {
                    self.tickets.remove(&ticket.id)
                } else {
                    self.tickets.insert(ticket.id, ticket.clone())
                };
                self.note_kpis(before.as_ref(), ticket);
                self.next_ticket = self.next_ticket.max(ticket.id + 1);
            }
            Event::WarningRaised { warning }
            | Event::WarningAcknowledged { warning }
            | Event::WarningTaskForce { warning }
            | Event::WarningLifted { warning } => {
                self.db.upsert_warning(warning)?;
                if warning.status == WarningStatus::Lifted {
                    self.warnings.remove(&warning.id);
                } else {
                    self.warnings.insert(warning.id, warning.clone());
                }
                self.next_warning = self.next_warning.max(warning.id + 1);
            }
            Event::UnitStatus { unit } => {
                self.db.upsert_unit(unit)?;
                self.units.insert(unit.id.clone(), unit.clone());
            }
            Event::BriefingChanged { briefing } => {
                self.db.set_briefing(briefing.as_ref())?;
                self.briefing = briefing.clone();
            }
        }
        let seq = self.seq + 1;
        let frame = self.log_event(seq, ts_us, &event)?;
        self.seq = seq;
        Ok(Delta { seq, event, frame })
    }
}
