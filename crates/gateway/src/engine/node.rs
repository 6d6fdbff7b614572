//! The core's part in a cluster (see `cluster`): following the stream, forwarding
//! commands, taking and losing the writer's lease, and keeping the stream and the walls
//! caught up with the record.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::placed::event_of;
use super::{Answer, Batch, Core, CoreMsg};
use crate::Status;
use crate::forward::{self, Route};
use cluster::ClusterConfig;
use cluster::log::{JetLog, LogError};
use protocol::{CommandOutcome, Event, ServerMsg};
use store::{Delta, Policy, Store, StoredDelta};

/// A writer's answer held for its delta: (seq, client, key, answer, HTTP reply, since).
type Waiting = (
    u64,
    Option<u64>,
    String,
    Answer,
    Option<oneshot::Sender<Answer>>,
    std::time::Instant,
);

/// How long an answer waits for its delta: a town center never gets the deltas outside
/// its region (a dispatch's unit may be elsewhere), and the answer must not wait forever.
const HOLD_ANSWER: Duration = Duration::from_secs(2);

pub struct Node {
    pub cfg: ClusterConfig,
    log: JetLog,
    policy: Policy,
    /// The core's own channel: the writer's command listener feeds it.
    core: mpsc::Sender<CoreMsg>,
    status: Arc<Status>,
    /// Whether this node holds the lease and applies commands.
    pub writer: bool,
    /// A town center: follows its region's mirror into its own replica; never writes.
    town: bool,
    /// A follower's deltas from the stream.
    follow: Option<mpsc::Receiver<Vec<StoredDelta>>>,
    /// A follower's queue of commands to the writer.
    forwarder: mpsc::Sender<Route>,
    /// The writer's listener for forwarded commands.
    serving: Option<tokio::task::JoinHandle<()>>,
    /// The stream's last sequence as this writer knows it.
    published: u64,
    /// Answers from the writer waiting until their delta has arrived here: (seq, route).
    waiting: Vec<Waiting>,
    /// Walls resuming from further than this node has applied.
    joins: Vec<PendingJoin>,
}

/// A wall's join held until this node has applied up to its resume point.
pub struct PendingJoin {
    pub id: u64,
    pub who: (String, String, domain::access::Role),
    pub resume: protocol::Resume,
    pub outbox: mpsc::Sender<tokio_tungstenite::tungstenite::Utf8Bytes>,
    pub kill: oneshot::Sender<&'static str>,
    pub ask: super::snapshot::Ask,
    pub since: std::time::Instant,
    /// Answers to its commands meanwhile, sent after its resume.
    pub later: Vec<ServerMsg>,
}

/// How long a join waits for the stream before it gets a snapshot instead.
const HOLD_JOIN: Duration = Duration::from_secs(5);

impl Node {
    pub fn new(
        cfg: ClusterConfig,
        log: JetLog,
        policy: Policy,
        core: mpsc::Sender<CoreMsg>,
        status: Arc<Status>,
    ) -> Node {
        let forwarder = forward::spawn_forwarder(
            log.client.clone(),
            log.epoch().to_string(),
            Duration::from_millis(cfg.forward_timeout_ms),
            core.clone(),
        );
        Node {
            town: cfg.town.is_some(),
            cfg,
            log,
            policy,
            core,
            status,
            writer: false,
            follow: None,
            forwarder,
            serving: None,
            published: 0,
            waiting: Vec::new(),
            joins: Vec::new(),
        }
    }

    pub fn hold(&mut self, join: PendingJoin) {
        self.joins.push(join);
    }

    /// A message for a client whose join is held: kept for after it. False if `id` is
    /// not held here.
    pub fn hold_message(&mut self, id: u64, msg: &ServerMsg) -> bool {
        match self.joins.iter_mut().find(|j| j.id == id) {
            Some(j) => {
                j.later.push(msg.clone());
                true
            }
            None => false,
        }
    }

    pub fn stop(self) {
        if let Some(s) = self.serving {
            s.abort();
        }
    }

    fn set_writer(&mut self, writer: bool) {
        self.writer = writer;
        self.status.writer.store(writer, Ordering::Relaxed);
        if !writer && let Some(s) = self.serving.take() {
            s.abort();
        }
    }
}

/// The next deltas from the stream, for a follower; never, for a writer.
pub async fn followed(node: &mut Option<Node>) -> Option<Vec<StoredDelta>> {
    match node.as_mut().and_then(|n| n.follow.as_mut()) {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

impl Core {
    /// Whether this core applies commands itself (the embedded gateway, or the writer).
    pub(super) fn writes(&self) -> bool {
        self.node.as_ref().is_none_or(|n| n.writer)
    }

    /// A node starts as a follower, from what it loaded from the record.
    pub(super) fn start_node(&mut self) {
        let seq = self.store.seq();
        if let Some(n) = self.node.as_mut() {
            n.follow = Some(n.log.follow(seq + 1));
            tracing::info!(node = %n.cfg.node, seq, "cluster node following the log");
        }
    }

    /// A follower's commands go to the writer, in order.
    pub(super) fn forward_batch(&mut self, batch: Batch) {
        let Some(forwarder) = self.node.as_ref().map(|n| n.forwarder.clone()) else {
            return;
        };
        for route in batch {
            if let Err(e) = forwarder.try_send(route) {
                let (id, request, reply) = e.into_inner();
                let a = forward::unavailable("too many commands queued towards the writer");
                self.answer(id, request.key, a, reply);
            }
        }
    }

    /// The writer's answer to a forwarded command: delivered once its delta is here.
    pub(super) fn forwarded(
        &mut self,
        id: Option<u64>,
        key: String,
        answer: Answer,
        reply: Option<oneshot::Sender<Answer>>,
    ) {
        let seq = match &answer.outcome {
            CommandOutcome::Ok { seq, .. } => *seq,
            CommandOutcome::Refused { .. } => 0,
        };
        match self.node.as_mut() {
            Some(n) if seq > self.fanned => {
                let since = std::time::Instant::now();
                n.waiting.push((seq, id, key, answer, reply, since))
            }
            _ => self.answer(id, key, answer, reply),
        }
    }

    fn release_waiting(&mut self) {
        let Some(n) = self.node.as_mut() else { return };
        let fanned = self.fanned;
        let (ready, wait): (Vec<_>, Vec<_>) = std::mem::take(&mut n.waiting)
            .into_iter()
            .partition(|w| w.0 <= fanned || w.5.elapsed() > HOLD_ANSWER);
        n.waiting = wait;
        for (_, id, key, answer, reply, _) in ready {
            self.answer(id, key, answer, reply);
        }
    }

    /// Deltas from the stream: applied to memory in order and sent to this node's walls.
    pub(super) async fn followed(&mut self, deltas: Vec<StoredDelta>) {
        if self.writes() {
            return;
        }
        if self.node.as_ref().is_some_and(|n| n.town) {
            return self.followed_town(deltas);
        }
        for d in deltas {
            if d.seq <= self.store.seq() {
                continue;
            }
            let Some(event) = event_of(&d, self.store.epoch()) else {
                // Not applied, not a reason to reload: the record (PostgreSQL) never
                // held it. Said in the log and in /metrics.
                self.status
                    .metrics
                    .frames_refused
                    .fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    stream_seq = d.seq,
                    "log: a message on the events' subjects that this log's writer did not write (another epoch, a seq not its place, or not a delta): not applied"
                );
                continue;
            };
            if d.seq != self.store.seq() + 1 {
                tracing::warn!(
                    "log: delta {} after {} (a gap or a bad frame): reloading from the record",
                    d.seq,
                    self.store.seq()
                );
                return self.rejoin().await;
            };
            self.store.follow(d.seq, &event);
            self.fan_out(Delta {
                seq: d.seq,
                event,
                frame: d.frame,
            });
        }
        self.trim_window();
        self.release_waiting();
        self.release_joins(false);
    }

    /// Held joins whose resume point this node has reached (or, with `expired`, that
    /// waited too long: a resume from the window if it can, else a snapshot).
    fn release_joins(&mut self, expired: bool) {
        let Some(n) = self.node.as_mut() else { return };
        let fanned = self.fanned;
        let (ready, held): (Vec<_>, Vec<_>) = std::mem::take(&mut n.joins)
            .into_iter()
            .partition(|j| j.resume.seq <= fanned || (expired && j.since.elapsed() > HOLD_JOIN));
        n.joins = held;
        for j in ready {
            let resume = (j.resume.seq <= fanned).then_some(j.resume);
            self.join(j.id, j.who, resume, (j.outbox, j.kill), j.ask);
            for m in j.later {
                self.send_to(j.id, &m);
            }
        }
    }

    /// A town center's deltas: only its region's, so with gaps; kept in its own replica.
    fn followed_town(&mut self, deltas: Vec<StoredDelta>) {
        let mut items = Vec::with_capacity(deltas.len());
        let mut last = self.store.seq();
        for d in deltas {
            if d.seq <= last {
                continue;
            }
            match serde_json::from_str::<ServerMsg>(&d.frame) {
                Ok(ServerMsg::Delta {
                    seq, ts_us, event, ..
                }) if seq == d.seq => {
                    last = seq;
                    items.push((seq, ts_us, event, d.frame));
                }
                Ok(ServerMsg::Delta { seq, .. }) => tracing::warn!(
                    "town: mirror message {} carries the city's delta {seq}, not {}: skipped",
                    d.seq,
                    d.seq
                ),
                _ => tracing::warn!("town: mirror message {} is not a delta: skipped", d.seq),
            }
        }
        match self.store.follow_durably(items) {
            Ok(deltas) => {
                for d in deltas {
                    self.fan_out(d);
                }
            }
            Err(e) => tracing::error!("town: the replica does not take the deltas: {e}"),
        }
        self.trim_window();
        self.release_waiting();
        self.release_joins(false);
    }

    /// Every `lease_ms`: a follower tries to take the lease; either checks its connection
    /// to the record; a writer with deltas the stream lacks publishes them.
    pub(super) async fn lease_tick(&mut self) {
        self.release_joins(true);
        self.release_waiting();
        if self.node.as_ref().is_some_and(|n| n.town) {
            return;
        }
        if !self.store.is_alive() {
            return self.rejoin().await;
        }
        match self.store.try_lead() {
            Ok(true) if !self.writes() => self.promote().await,
            Ok(true) => {
                self.settle().await;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!("cluster: the record does not answer: {e}");
                self.rejoin().await
            }
        }
    }

    /// This node took the lease: load the record, catch the walls and the stream up with
    /// it, and take commands.
    async fn promote(&mut self) {
        let t = std::time::Instant::now();
        if let Some(n) = self.node.as_mut() {
            n.follow = None;
        }
        if let Err(e) = self.store.reload_record() {
            tracing::error!("cluster: took the lease but cannot load the record: {e}");
            return self.rejoin().await;
        }
        let Some(n) = self.node.as_mut() else { return };
        n.set_writer(true);
        n.published = 0;
        let (client, epoch, core, directory) = (
            n.log.client.clone(),
            n.log.epoch().to_string(),
            n.core.clone(),
            self.directory.clone(),
        );
        n.serving = Some(tokio::spawn(async move {
            if let Err(e) = forward::serve(client, epoch, core, directory).await {
                tracing::error!("cluster: not listening for forwarded commands: {e}");
            }
        }));
        let node = n.cfg.node.clone();
        let settled = self.settle().await;
        tracing::info!(
            %node,
            seq = self.store.seq(),
            settled,
            ms = t.elapsed().as_millis() as u64,
            "cluster: this node is the writer"
        );
    }

    /// A writer: make sure the stream holds every delta of the record and this node's walls
    /// have seen them. False if the stream cannot be reached (nothing new is applied then).
    pub(super) async fn settle(&mut self) -> bool {
        let seq = self.store.seq();
        let Some(n) = self.node.as_mut() else {
            return true;
        };
        if !n.writer || (n.published >= seq && self.fanned >= seq) {
            return true;
        }
        let last = match n.log.last_seq().await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("cluster: the log is not reachable: {e}");
                return false;
            }
        };
        if last > seq {
            tracing::error!(
                last,
                seq,
                "cluster: the log is ahead of the record: another writer"
            );
            self.rejoin().await;
            return false;
        }
        // The tail read for the stream, kept to catch the walls up without reading it again.
        let mut tail = None;
        if last < seq {
            let rows = match self.store.deltas_after(last, usize::MAX) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("cluster: the record's log does not read: {e}");
                    return false;
                }
            };
            let epoch = self.store.epoch().to_string();
            let events: Vec<Option<Event>> = rows.iter().map(|r| event_of(r, &epoch)).collect();
            let deltas: Vec<(u64, &Event, &str)> = rows
                .iter()
                .zip(&events)
                .filter_map(|(r, e)| Some((r.seq, e.as_ref()?, r.frame.as_str())))
                .collect();
            let Some(n) = self.node.as_mut() else {
                return true;
            };
            match n.log.publish(&deltas).await {
                Ok(()) => tracing::info!(
                    from = last + 1,
                    to = seq,
                    "cluster: published the record's tail"
                ),
                Err(e @ LogError::Fenced(_)) => {
                    // The stream moved while we published: look again next time.
                    tracing::warn!("cluster: {e}");
                    return false;
                }
                Err(e) => {
                    tracing::warn!("cluster: the tail is not published yet: {e}");
                    return false;
                }
            }
            tail = Some(rows);
        }
        if let Some(n) = self.node.as_mut() {
            n.published = seq;
        }
        match tail {
            Some(rows) if last <= self.fanned => self.fan_out_rows(rows),
            _ => self.catch_up_from_record(),
        }
        true
    }

    /// Send this node's walls the record's deltas they have not seen.
    fn catch_up_from_record(&mut self) {
        if self.fanned >= self.store.seq() {
            return;
        }
        match self.store.deltas_after(self.fanned, usize::MAX) {
            Ok(rows) => self.fan_out_rows(rows),
            Err(e) => tracing::warn!("cluster: the record's log does not read: {e}"),
        }
    }

    /// Fan out the record's rows this node's walls have not seen, in order.
    fn fan_out_rows(&mut self, rows: Vec<StoredDelta>) {
        for r in rows {
            if r.seq <= self.fanned {
                continue;
            }
            let Some(event) = event_of(&r, self.store.epoch()) else {
                continue;
            };
            self.fan_out(Delta {
                seq: r.seq,
                event,
                frame: r.frame,
            });
        }
        self.trim_window();
        self.release_waiting();
        self.release_joins(false);
    }

    /// A writer's publish of its batch: true when the stream has every delta.
    pub(super) async fn publish(&mut self, results: &[(CommandOutcome, Option<Delta>)]) -> bool {
        let Some(n) = self.node.as_mut() else {
            return true;
        };
        let deltas: Vec<(u64, &Event, &str)> = results
            .iter()
            .filter_map(|(_, d)| d.as_ref())
            .map(|d| (d.seq, &d.event, d.frame.as_str()))
            .collect();
        let Some(last) = deltas.last().map(|d| d.0) else {
            return true;
        };
        tracing::debug!(n = deltas.len(), last, "cluster: publishing");
        match n.log.publish(&deltas).await {
            Ok(()) => {
                n.published = last;
                true
            }
            Err(e) => {
                // Either way the stream's end is not known now (a restarted server may
                // have lost its unsynced tail): `settle` reads it and publishes what the
                // record has beyond it, or steps down if the stream is ahead of the record.
                tracing::warn!("cluster: batch committed, not yet on the log: {e}");
                n.published = 0;
                false
            }
        }
    }

    /// Lost the record's connection, lost the lease, or saw a gap: stop taking commands,
    /// connect to the record again, and follow the stream from there.
    async fn rejoin(&mut self) {
        let Some(n) = self.node.as_mut() else { return };
        if n.writer {
            tracing::warn!(node = %n.cfg.node, "cluster: no longer the writer");
        }
        n.set_writer(false);
        let (url, policy) = (n.cfg.postgres.clone(), n.policy.clone());
        match Store::open_postgres(&url, policy) {
            Ok(store) => {
                if store.seq() < self.fanned {
                    tracing::error!(
                        record = store.seq(),
                        seen = self.fanned,
                        "cluster: the record is behind what the walls saw: they take a snapshot"
                    );
                    let ids: Vec<u64> = self.clients.keys().copied().collect();
                    for id in ids {
                        self.cut_off(id, "the cluster's record went back: reconnect");
                    }
                    self.window.clear();
                    self.fanned = store.seq();
                }
                self.store = store;
                // The walls' scopes, summed off the core from one read (they were one
                // read of every ticket each, here).
                let regions: Vec<String> =
                    self.clients.values().map(|c| c.region.clone()).collect();
                self.sum_scopes(&regions);
                self.catch_up_from_record();
                let seq = self.store.seq();
                if let Some(n) = self.node.as_mut() {
                    n.follow = Some(n.log.follow(seq + 1));
                }
            }
            Err(e) => {
                tracing::warn!("cluster: the record is not reachable: {e}");
                // Meanwhile the walls keep the stream, if it has anything.
                let seq = self.store.seq();
                if let Some(n) = self.node.as_mut()
                    && n.follow.is_none()
                {
                    n.follow = Some(n.log.follow(seq + 1));
                }
            }
        }
    }
}
