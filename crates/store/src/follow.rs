//! Changes the store takes rather than decides: a cluster follower's (the writer's events,
//! applied in order, durably or not), a new epoch, an imported past (the demo's), and the
//! writer's lease.

use super::*;

impl Store {
    /// A cluster follower: take delta `seq`, which the writer made durable, into memory.
    /// Deltas must come in order; the caller resynchronises on a gap.
    pub fn follow(&mut self, seq: u64, event: &Event) {
        debug_assert_eq!(seq, self.seq + 1);
        self.remember(event);
        self.seq = seq;
    }

    /// A town center's replica takes the city's epoch: on an empty database only (a replica
    /// of another log must be replaced, not mixed).
    pub fn adopt_epoch(&mut self, epoch: &str) -> Result<(), StoreError> {
        if self.epoch == epoch {
            return Ok(());
        }
        if self.seq > 0 {
            return Err(StoreError::Corrupt(format!(
                "this database replicates the log {} (seq {}), not {epoch}: start the town \
                 center on a new file",
                self.epoch, self.seq
            )));
        }
        self.db.set_epoch(epoch)?;
        self.epoch = epoch.to_string();
        Ok(())
    }

    /// A town center: take deltas of the city's log (in order, with gaps: only its
    /// region's) into memory and into its own database, in one transaction.
    pub fn follow_durably(
        &mut self,
        deltas: Vec<(u64, i64, Event, String)>,
    ) -> Result<Vec<Delta>, StoreError> {
        self.in_one_transaction(deltas, |s, (seq, ts_us, event, frame)| {
            s.write_event(&event)?;
            s.db.insert_event(seq, ts_us, &frame)?;
            s.seq = seq;
            Ok(Delta { seq, event, frame })
        })
    }

    /// Write a past that was lived elsewhere (the demo's 30 days, run through the same
    /// lifecycle on a virtual clock) into this fresh database, and close it: every audit
    /// entry with its own number and every archived ticket as `past` yields them (while
    /// the past is still being generated: the two overlap), then the records `rest`
    /// gives: the tickets still open, the warnings and units; the log then starts after
    /// its `last_seq`. One transaction: all of it or none. A past cannot be slid under a
    /// present: a database with any ticket or delta is refused.
    pub fn import_history(
        self,
        past: impl IntoIterator<Item = Past>,
        rest: impl FnOnce() -> History,
    ) -> Result<(), StoreError> {
        if self.seq > 0 || !self.state.tickets.is_empty() || self.next_ticket > 1 {
            return Err(StoreError::Corrupt(
                "this database already has a history: import into a new file".into(),
            ));
        }
        self.db.begin()?;
        let written = (|| {
            self.db.bulk_import(true)?;
            for p in past {
                match p {
                    Past::Audit(ticket, a) => self.db.insert_audit(ticket, &a)?,
                    Past::Archived(t) => self.db.upsert_ticket(&t)?,
                }
            }
            self.db.bulk_import(false)?;
            let h = rest();
            for t in &h.tickets {
                self.db.upsert_ticket(t)?;
            }
            for w in &h.warnings {
                self.db.upsert_warning(w)?;
            }
            for u in &h.units {
                self.db.upsert_unit(u)?;
            }
            self.db.set_seq_base(h.last_seq)
        })();
        if let Err(e) = written.and_then(|_| self.db.commit()) {
            self.db.rollback();
            return Err(e);
        }
        Ok(())
    }

    /// Load everything again from the database, the record (a cluster node that takes the
    /// writer's lease does this first).
    pub fn reload_record(&mut self) -> Result<(), StoreError> {
        self.reload()
    }

    /// Whether the database connection works, and whether this store may write (see
    /// `Backend::try_lead`).
    pub fn is_alive(&self) -> bool {
        self.db.is_alive()
    }
    pub fn try_lead(&self) -> Result<bool, StoreError> {
        self.db.try_lead()
    }
}
