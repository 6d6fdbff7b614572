//! The figures of the scopes walls watch (a district's, a town's), beside the city's:
//! built once from every ticket in the record (off the core, from one read, for a
//! province's million), then kept up with each change like the city's.

use super::*;

/// Scopes' figures to sum off the core, from one read (`Store::track_scopes_later`).
pub struct ScopeRead {
    pub regions: Vec<String>,
    read: backend::TicketsLater,
}

/// What a `ScopeRead` gave: each scope's figures, in `regions`' order, as of the log's
/// seq its read saw.
pub struct ScopeSum {
    pub regions: Vec<String>,
    pub sum: Result<(u64, Vec<Kpis>), StoreError>,
}

impl ScopeRead {
    /// Read every ticket once and sum each scope's: slow (seconds at a million), so on a
    /// thread of its own.
    pub fn run(self) -> ScopeSum {
        let sum = (self.read)().map(|(seq, all)| {
            let now = now_ms();
            let each = self
                .regions
                .iter()
                .map(|r| scope_kpis(&all, r, now))
                .collect();
            (seq, each)
        });
        ScopeSum {
            regions: self.regions,
            sum,
        }
    }
}

/// A scope's figures summed from every ticket ever taken in (`all`).
pub(super) fn scope_kpis(all: &[Ticket], region: &str, now_ms: i64) -> Kpis {
    Kpis::recompute(all.iter().filter(|t| within(&t.grid, region)), now_ms)
}

impl Store {
    /// Keep figures for the scope `region` too (a wall scoped to it joined): built once
    /// from every ticket in the file, then kept up like the city's.
    pub fn track_scope(&mut self, region: &str) -> Result<(), StoreError> {
        self.track_scopes(&[region.to_string()])
    }

    /// `track_scope` for several, from one read of the file.
    pub(super) fn track_scopes(&mut self, regions: &[String]) -> Result<(), StoreError> {
        let new: Vec<&String> = regions
            .iter()
            .filter(|r| !self.kpis.contains_key(*r))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let all = self.db.all_tickets()?;
        let now = now_ms();
        for r in new {
            let k = scope_kpis(&all, r, now);
            self.kpis.insert(r.clone(), k);
        }
        Ok(())
    }

    /// Start keeping figures for the scopes `regions` without reading the file here: one
    /// read is handed back to run on another thread, and `scope_built` takes its sums with
    /// the changes made after what it read. At a province's million tickets a read and
    /// sum took seconds, on the core, at the first join of each new scope (and, on a
    /// cluster node that reconnects to PostgreSQL, once for every scope its walls watch).
    /// `None`: nothing to do (tracked already, under way, or done here on a backend that
    /// reads only here).
    pub fn track_scopes_later(
        &mut self,
        regions: &[String],
    ) -> Result<Option<ScopeRead>, StoreError> {
        let mut new: Vec<String> = regions
            .iter()
            .filter(|r| !self.kpis.contains_key(*r) && !self.building.contains_key(*r))
            .cloned()
            .collect();
        new.sort();
        new.dedup();
        if new.is_empty() {
            return Ok(None);
        }
        let Some(read) = self.db.tickets_later()? else {
            self.track_scopes(&new)?;
            return Ok(None);
        };
        for r in &new {
            self.building.insert(r.clone(), Vec::new());
        }
        Ok(Some(ScopeRead { regions: new, read }))
    }

    /// The sums of a `ScopeRead`, as of the seq its read saw: to each, every change noted
    /// since the scope was asked for and numbered after that seq is added (those up to it
    /// are in the read already: a cluster follower's read of PostgreSQL may be ahead of
    /// what it has applied, and any read runs a little after it was asked for). From here
    /// on each scope's figures are kept up like the city's, unless no one wants them any
    /// more.
    pub fn scope_built(&mut self, done: ScopeSum) {
        let (seen, sums) = match done.sum {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("no figures for scopes {:?}: {e}", done.regions);
                for r in &done.regions {
                    self.building.remove(r);
                }
                return;
            }
        };
        for (region, mut k) in done.regions.into_iter().zip(sums) {
            let Some(since) = self.building.remove(&region) else {
                continue;
            };
            for (_, before, after) in since.iter().filter(|(seq, ..)| *seq > seen) {
                k.update(before.as_ref(), after);
            }
            self.kpis.insert(region, k);
        }
    }

    /// Stop keeping figures for the scopes `keep` says no to (the city's stay).
    pub fn untrack_scopes(&mut self, keep: impl Fn(&str) -> bool) {
        self.kpis.retain(|s, _| s.is_empty() || keep(s));
        self.building.retain(|s, _| keep(s));
    }

    /// The figures of a tracked scope at `now_ms`.
    pub fn kpi_figures(&mut self, region: &str, now_ms: i64) -> Option<KpiFigures> {
        let k = self.kpis.get_mut(region)?;
        k.advance(now_ms);
        Some(k.figures(now_ms))
    }

    /// One ticket record changed (by the change numbered `self.seq + 1`, on every path
    /// that numbers one): every scope it is in takes the change.
    pub(super) fn note_kpis(&mut self, before: Option<&Ticket>, after: &Ticket) {
        self.gauges.change(before, Some(after));
        let seq = self.seq + 1;
        for (scope, since) in self.building.iter_mut() {
            if within(&after.grid, scope) {
                since.push((seq, before.cloned(), after.clone()));
            }
        }
        for (scope, k) in self.kpis.iter_mut() {
            if within(&after.grid, scope) {
                k.update(before, after);
            }
        }
    }
}
