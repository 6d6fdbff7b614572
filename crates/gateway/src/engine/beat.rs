//! The core's beat, between batches: the automatic rules, accounts changed outside,
//! the access log, the gauges, expired keys and the heartbeat.

use super::*;

impl Core {
    /// The gateway's automatic rules (`domain::rules`): now 督办 by stage, for the
    /// tickets whose time has come; their commands are applied like anyone's.
    pub(super) async fn run_rules(&mut self) {
        let now = domain::time::now_ms();
        let batch: Vec<_> = domain::rules::supervise::overdue(self.store.due_before(now), now)
            .map(|c| {
                let request = Request {
                    actor: protocol::AUTO_SUPERVISOR.into(),
                    credential: protocol::AUTO_SUPERVISOR.into(),
                    access: Access::city(domain::access::Role::Operator),
                    key: c.key,
                    command: c.command,
                    field: None,
                };
                (None, request, None)
            })
            .take(self.cfg.limits.batch)
            .collect();
        if !batch.is_empty() {
            self.apply(batch).await;
        }
    }

    /// Accounts changed in the file (`yiping account`): take them, and end the sessions
    /// of credentials revoked or rotated, at once.
    pub(super) fn reload_accounts(&mut self) {
        match self.store.changed_outside() {
            Ok(false) => return,
            Ok(true) => {}
            Err(e) => return tracing::warn!("accounts not checked: {e}"),
        }
        let accounts = match self.store.accounts() {
            Ok(a) => a,
            Err(e) => return tracing::warn!("accounts not read: {e}"),
        };
        let ended = self.directory.replace(accounts);
        let gone: Vec<u64> = self
            .clients
            .iter()
            .filter(|(_, c)| ended.contains(&c.credential))
            .map(|(id, _)| *id)
            .collect();
        let rewinds: Vec<u64> = self
            .rewinds
            .iter()
            .filter(|(_, (c, _))| ended.contains(c))
            .map(|(id, _)| *id)
            .collect();
        for id in rewinds {
            if let Some((credential, kill)) = self.rewinds.remove(&id) {
                tracing::info!(client = id, %credential, "credential revoked: rewind ended");
                let _ = kill.send("credential revoked or rotated");
            }
        }
        for id in gone {
            if let Some(mut c) = self.drop_client(id) {
                tracing::info!(client = id, credential = %c.credential, "credential revoked: session ended");
                if let Some(k) = c.kill.take() {
                    let _ = k.send("credential revoked or rotated");
                }
            }
        }
    }

    /// Once a minute, keep the access log within `[limits] access_log_days` and
    /// `access_log_rows` (at most 10,000 lines a minute, each a key-range delete).
    pub(super) fn trim_access_log(&mut self) {
        if self.trimmed.elapsed() < std::time::Duration::from_secs(60) {
            return;
        }
        self.trimmed = std::time::Instant::now();
        let l = &self.cfg.limits;
        match self.store.trim_access(
            domain::time::now_ms(),
            l.access_log_days,
            l.access_log_rows,
            10_000,
        ) {
            Ok(0) => {}
            Ok(n) => tracing::info!("access log: {n} old lines removed"),
            Err(e) => tracing::warn!("access log not trimmed: {e}"),
        }
    }

    /// Write the access-log lines gathered since the last heartbeat, in one transaction.
    pub(super) fn write_access_log(&mut self) {
        if self.access_dropped > 0 {
            let n = std::mem::take(&mut self.access_dropped);
            self.access.push(store::accounts::entry(
                domain::time::now_ms(),
                "?",
                "dropped",
                &format!("{n} more lines in one second were not written (a flood)"),
            ));
        }
        let lines = std::mem::take(&mut self.access);
        if let Err(e) = self.store.log_access(&lines) {
            tracing::warn!("access log not written: {e}");
        }
    }

    /// The state gauges of `/metrics`: clients by role, open tickets by status and overdue
    /// by stage, live warnings by level. One pass over the live tickets, on a scrape only
    /// (every 15 s or so), never on the heartbeat.
    pub(super) fn update_gauges(&mut self) {
        use crate::metrics::Metrics;
        let m = &self.status.metrics;
        let mut roles = [0u64; 4];
        for c in self.clients.values() {
            roles[Metrics::role_index(c.role)] += 1;
        }
        // Kept up with every change (`store::gauges`): not a walk of every ticket.
        let reading = self.store.gauges(domain::time::now_ms());
        let (mut open, mut overdue) = ([0u64; 5], [0u64; 3]);
        for (status, n) in &reading.by_status {
            if let Some(i) = Metrics::status_index(*status) {
                open[i] += n;
            }
        }
        for (stage, n) in &reading.overdue {
            overdue[Metrics::stage_index(*stage)] += n;
        }
        let mut levels = [0u64; 4];
        for w in self.store.warnings().values() {
            levels[Metrics::level_index(w.level)] += 1;
        }
        let set = |a: &[std::sync::atomic::AtomicU64], v: &[u64]| {
            for (a, v) in a.iter().zip(v) {
                a.store(*v, Ordering::Relaxed);
            }
        };
        set(&m.clients_by_role, &roles);
        set(&m.open_by_status, &open);
        set(&m.overdue_by_stage, &overdue);
        set(&m.warnings_by_level, &levels);
        let duty = self.store.duty();
        let open = duty
            .escalations
            .iter()
            .filter(|e| e.closed.is_none())
            .count();
        let acked = duty
            .escalations
            .iter()
            .filter(|e| e.acked_by.is_some())
            .count();
        let unsigned = duty
            .handovers
            .iter()
            .filter(|h| h.signed_by.is_none())
            .count();
        m.duty_open.store(open as u64, Ordering::Relaxed);
        m.duty_acked.store(acked as u64, Ordering::Relaxed);
        m.handovers_unsigned
            .store(unsigned as u64, Ordering::Relaxed);
        if let Ok(mut c) = m.duty_channels.lock() {
            *c = duty
                .channels
                .iter()
                .map(|h| (h.channel.clone(), h.failures as u64))
                .collect();
        }
    }

    /// Forget idempotency keys past their time, so that memory stays bounded over months.
    pub(super) fn expire_keys(&mut self) {
        if let Err(e) = self.store.expire_keys(domain::time::now_ms()) {
            tracing::warn!("idempotency keys not expired: {e}");
        }
    }

    /// The heartbeat as it stands now.
    pub(super) fn heartbeat_frame(&self) -> Option<Utf8Bytes> {
        let msg = ServerMsg::Heartbeat {
            epoch: self.store.epoch().to_string(),
            seq: self.fanned,
            ts_us: now_us(),
        };
        serde_json::to_string(&msg).ok().map(Utf8Bytes::from)
    }

    pub(super) fn heartbeat(&mut self) {
        let Some(frame) = self.heartbeat_frame() else {
            return;
        };
        self.beats += 1;
        let beat = self.beats % super::phones::PHONE_BEAT_EVERY;
        let replay = self.replay.as_ref().and_then(|r| {
            let msg = ServerMsg::Replay {
                clock_ms: r.clock_ms,
                speed: r.speed,
                done: r.done,
            };
            serde_json::to_string(&msg).ok().map(Utf8Bytes::from)
        });
        // The figures, once per scope in use, serialized once each; a replay's are at
        // its recorded clock.
        let now = self
            .replay
            .as_ref()
            .map(|r| r.clock_ms)
            .filter(|c| *c > 0)
            .unwrap_or_else(domain::time::now_ms);
        let seq = self.fanned;
        let mut figures: HashMap<&str, Option<Utf8Bytes>> = HashMap::new();
        // Phones get the heartbeat alone: no figures, no replay clock, no live units.
        let live = self.phones.live_frame();
        for c in self.clients.values().filter(|c| c.unit.is_none()) {
            figures.entry(c.region.as_str()).or_insert_with(|| {
                let f = self.store.kpi_figures(&c.region, now)?;
                let msg = ServerMsg::Kpis {
                    seq,
                    figures: Box::new(f),
                };
                serde_json::to_string(&msg).ok().map(Utf8Bytes::from)
            });
        }
        let mut slow = Vec::new();
        for (id, c) in &self.clients {
            if c.unit.is_some() {
                // Each phone every PHONE_BEAT_EVERY beats, a share of them each beat.
                if id % super::phones::PHONE_BEAT_EVERY == beat
                    && c.outbox.try_send(frame.clone()).is_err()
                {
                    slow.push(*id);
                }
                continue;
            }
            let kpis = figures.get(c.region.as_str()).cloned().flatten();
            let sent = c.outbox.try_send(frame.clone()).is_ok()
                && replay.clone().is_none_or(|r| c.outbox.try_send(r).is_ok())
                && kpis.is_none_or(|k| c.outbox.try_send(k).is_ok())
                && live.clone().is_none_or(|l| c.outbox.try_send(l).is_ok());
            if !sent {
                slow.push(*id);
            }
        }
        for id in slow {
            self.cut_off(id, "too slow: outbox full; reconnect to resume");
        }
    }
}
