//! A client joining: the figures of its scope (summed off the core), its snapshot (built
//! off the core from a copy of the live tickets) or its missed deltas from the window.

use super::*;

impl Core {
    /// Figures for the scopes `regions` too (seconds at a province's million tickets): summed on a thread at SCHED_IDLE from one
    /// read of every ticket, taken back by the core's loop (`Store::scope_built`).
    pub(super) fn sum_scopes(&mut self, regions: &[String]) {
        // One read at a time: each is a read of every ticket (a new PostgreSQL
        // connection in a cluster), so a burst of hellos naming new regions waits, and is
        // then summed together from one read.
        if self.scope_reads > 0 {
            for r in regions {
                if !self.scope_waiting.contains(r) {
                    self.scope_waiting.push(r.clone());
                }
            }
            return;
        }
        let read = match self.store.track_scopes_later(regions) {
            Ok(Some(read)) => read,
            Ok(None) => return,
            Err(e) => {
                tracing::error!("no figures for scopes {regions:?}: {e}");
                return;
            }
        };
        let back = self.scope_sender.clone();
        self.scope_reads += 1;
        let spawned = std::thread::Builder::new()
            .name("yiping-scope".into())
            .spawn(move || {
                crate::lower_priority();
                let t0 = std::time::Instant::now();
                let done = read.run();
                tracing::info!(
                    regions = ?done.regions,
                    ms = t0.elapsed().as_millis() as u64,
                    "a new scope's figures summed off the core"
                );
                let _ = back.blocking_send(done);
            });
        if let Err(e) = spawned {
            self.scope_reads -= 1;
            tracing::error!("no thread for scopes' figures: {e}");
        }
    }

    /// A scopes' read came back: take it, and start the one the waiting scopes share.
    pub(super) fn scope_summed(&mut self, done: ScopeSum) {
        self.scope_reads = self.scope_reads.saturating_sub(1);
        self.store.scope_built(done);
        let waiting = std::mem::take(&mut self.scope_waiting);
        if !waiting.is_empty() {
            self.sum_scopes(&waiting);
        }
    }

    pub(super) fn join(
        &mut self,
        id: u64,
        (region, credential, role): (String, String, domain::access::Role),
        resume: Option<Resume>,
        (outbox, kill): (mpsc::Sender<Utf8Bytes>, oneshot::Sender<&'static str>),
        ask: snapshot::Ask,
    ) {
        if self.clients.len() + self.rewinds.len() >= self.cfg.limits.max_clients {
            let _ = kill.send("too many clients: the gateway is full");
            return;
        }
        if !self.directory.is_valid(&credential) {
            let _ = kill.send("credential revoked or rotated");
            return;
        }
        // A wall that moved here from another node of the cluster may have seen deltas this
        // node has not applied yet: it waits for them (briefly) instead of a snapshot.
        if let Some(r) = resume.as_ref()
            && r.epoch == self.store.epoch()
            && r.seq > self.fanned
            && let Some(n) = self.node.as_mut()
        {
            let join = node::PendingJoin {
                id,
                who: (region, credential, role),
                resume: r.clone(),
                outbox,
                kill,
                ask,
                since: std::time::Instant::now(),
                later: vec![],
            };
            return n.hold(join);
        }
        self.sum_scopes(std::slice::from_ref(&region));
        let m = &self.status.metrics;
        let resumed = resume
            .and_then(|r| self.resume_frames(&r, &region))
            // A resume longer than the outbox would cut the client off at once: a
            // snapshot is smaller.
            .filter(|f| f.len() < self.cfg.limits.outbox);
        let frames = match resumed {
            Some(frames) => {
                m.joins_resume.fetch_add(1, Ordering::Relaxed);
                frames
            }
            None => {
                m.joins_snapshot.fetch_add(1, Ordering::Relaxed);
                let (built, since) = self.snapshot_for(&region, ask.encoding);
                let _ = ask.reply.send(built);
                since
            }
        };
        self.enqueue_join(id, (region, credential, role), frames, outbox, kill);
    }

    /// A snapshot of `region` for a join, and the deltas since its `seq`: one being built
    /// or built within `SHARE_FOR` if the window still has what came after it, else a new
    /// one (started on its own thread: nothing here grows with the number of tickets).
    pub(super) fn snapshot_for(
        &mut self,
        region: &str,
        encoding: Encoding,
    ) -> (snapshot::Frames, Vec<Utf8Bytes>) {
        let key = (region.to_string(), encoding);
        // Shared: a build of this very state, or one still in progress (a join during a
        // province's build waits for it rather than start another).
        if let Some(b) = self.snapshots.get(&key)
            && b.at.elapsed() < snapshot::SHARE_FOR
            && (b.seq == self.store.seq() && b.epoch == self.store.epoch()
                || b.frames.borrow().is_none())
        {
            let r = Resume {
                epoch: b.epoch.clone(),
                seq: b.seq,
            };
            if let Some(since) = self
                .resume_frames(&r, region)
                .filter(|f| f.len() < self.cfg.limits.outbox / 2)
            {
                self.status
                    .metrics
                    .snapshots_shared
                    .fetch_add(1, Ordering::Relaxed);
                return (b.frames.clone(), since);
            }
        }
        let store = &self.store;
        let view = snapshot::View {
            epoch: store.epoch().to_string(),
            seq: store.seq(),
            rows: store.rows(),
            warnings: store
                .warnings()
                .values()
                .filter(|w| {
                    Event::WarningRaised {
                        warning: (*w).clone(),
                    }
                    .in_region(region)
                })
                .cloned()
                .collect(),
            units: scope::units(store.units().values(), region),
            briefing: store
                .briefing()
                .map(|b| scope::briefing(b, region, |id| self.grid_of(id))),
            duty: scope::duty(store.duty(), region),
            region: region.to_string(),
            part: self.cfg.limits.snapshot_part,
        };
        let built = snapshot::start(view, encoding);
        let frames = built.frames.clone();
        self.snapshots.insert(key, built);
        (frames, vec![])
    }

    /// Forget builds too old to share (their frames go once their clients have them).
    pub(super) fn forget_snapshots(&mut self) {
        self.snapshots
            .retain(|_, b| b.at.elapsed() < snapshot::SHARE_FOR);
    }

    pub(super) fn enqueue_join(
        &mut self,
        id: u64,
        (region, credential, role): (String, String, domain::access::Role),
        frames: Vec<Utf8Bytes>,
        outbox: mpsc::Sender<Utf8Bytes>,
        kill: oneshot::Sender<&'static str>,
    ) {
        for f in frames {
            if outbox.try_send(f).is_err() {
                let _ = kill.send("missed deltas larger than the outbox: raise limits.outbox");
                return;
            }
        }
        self.phones.walls.insert(id);
        self.clients.insert(
            id,
            Client {
                unit: None,
                region,
                credential,
                role,
                outbox,
                kill: Some(kill),
            },
        );
    }

    /// The deltas after `r.seq`, if this log and window still hold them all.
    pub(super) fn resume_frames(&self, r: &Resume, region: &str) -> Option<Vec<Utf8Bytes>> {
        if r.epoch != self.store.epoch() || r.seq > self.fanned {
            return None;
        }
        if r.seq == self.fanned {
            return Some(vec![]);
        }
        let first = self.window.front()?.seq;
        if first > r.seq + 1 {
            return None;
        }
        let start = self.window.partition_point(|k| k.seq <= r.seq);
        Some(
            self.window
                .range(start..)
                .filter(|k| k.event.in_region(region))
                .map(|k| self.frame_for(k, region))
                .collect(),
        )
    }
}
