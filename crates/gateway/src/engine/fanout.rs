//! Fan-out: a durable change to the clients whose scope it is in (walls by region,
//! phones by unit, `phones.rs`), kept in the window for resumes.

use super::*;

impl Core {
    /// Send a durable change to every client in its scope and keep it for resumes.
    pub(super) fn fan_out(&mut self, d: store::Delta) {
        self.fanned = self.fanned.max(d.seq);
        let frame: Utf8Bytes = d.frame.into();
        let was = self.phones.track(&d.event);
        self.broadcast(&d.event, &frame, was.as_deref());
        self.note_offline_dispatch(&d.event);
        self.window.push_back(Kept {
            seq: d.seq,
            event: d.event,
            frame,
            was,
        });
    }

    pub(super) fn trim_window(&mut self) {
        while self.window.len() > self.cfg.limits.resume_window {
            self.window.pop_front();
        }
        self.status.seq.store(self.fanned, Ordering::Relaxed);
    }

    pub(super) fn broadcast(&mut self, event: &Event, frame: &Utf8Bytes, was: Option<&str>) {
        let mut slow = Vec::new();
        for id in self.phones.recipients(event, was) {
            if let Some(c) = self.clients.get(&id)
                && c.outbox.try_send(frame.clone()).is_err()
            {
                slow.push(id);
            }
        }
        // A briefing's frame is re-made once per scope that watches (`scope.rs`); every
        // other frame goes as it is.
        let briefing = matches!(event, Event::BriefingChanged { briefing: Some(_) });
        let mut scoped: HashMap<&str, Utf8Bytes> = HashMap::new();
        for id in &self.phones.walls {
            let Some(c) = self.clients.get(id) else {
                continue;
            };
            if !event.in_region(&c.region) {
                continue;
            }
            let frame = if briefing && !c.region.is_empty() {
                scoped
                    .entry(c.region.as_str())
                    .or_insert_with(|| {
                        scope::briefing_frame(frame, &c.region, |id| self.grid_of(id))
                            .map(Utf8Bytes::from)
                            .unwrap_or_else(|| frame.clone())
                    })
                    .clone()
            } else {
                frame.clone()
            };
            if c.outbox.try_send(frame).is_err() {
                slow.push(*id);
            }
        }
        for id in slow {
            self.cut_off(id, "too slow: outbox full; reconnect to resume");
        }
    }

    /// The grid of live ticket `id` (for scoping a briefing's list).
    pub(super) fn grid_of(&self, id: u64) -> Option<String> {
        self.store.tickets().get(&id).map(|t| t.grid.clone())
    }

    /// A kept delta's frame as a feed scoped to `region` is sent it.
    pub(super) fn frame_for(&self, k: &Kept, region: &str) -> Utf8Bytes {
        match &k.event {
            Event::BriefingChanged { briefing: Some(_) } => {
                scope::briefing_frame(&k.frame, region, |id| self.grid_of(id))
                    .map(Utf8Bytes::from)
                    .unwrap_or_else(|| k.frame.clone())
            }
            _ => k.frame.clone(),
        }
    }
}
