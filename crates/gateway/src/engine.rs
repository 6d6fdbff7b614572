//! The core task: the one owner of the store and of the client list. It applies commands
//! in batches (one commit each), fans each delta out to every client whose scope it is in,
//! answers resumes from a window of recent deltas, and sends the heartbeat.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::Status;
use super::accounts::Directory;
use super::config::GatewayConfig;
use super::{budget, scope, snapshot};
use domain::access::Access;
use domain::time::now_us;
use protocol::compact::Encoding;
use protocol::{CommandOutcome, ErrorCode, Event, Resume, ServerMsg, Snapshot, Ticket};
use store::accounts::AccessEntry;
use store::{Request, ScopeSum, Store};

mod asks;
mod beat;
mod duty;
mod fanout;
mod joins;
mod msg;
mod node;
mod phones;
mod placed;
pub use msg::{Answer, CoreMsg};
pub use node::Node;

/// Where a replay stands, for the walls' badge.
struct ReplayClock {
    clock_ms: i64,
    speed: f64,
    done: bool,
}

/// Commands taken together: who sent each (a client, or an HTTP caller's reply).
type Batch = Vec<(Option<u64>, Request, Option<oneshot::Sender<Answer>>)>;

struct Client {
    region: String,
    /// A phone's unit: its feed is that unit's tickets (`phones.rs`).
    unit: Option<String>,
    credential: String,
    role: domain::access::Role,
    outbox: mpsc::Sender<Utf8Bytes>,
    kill: Option<oneshot::Sender<&'static str>>,
}

/// A delta kept for resumes: its number, the grids it concerns, the frame as sent.
struct Kept {
    seq: u64,
    event: Event,
    frame: Utf8Bytes,
    /// The unit its ticket was assigned to until this delta, when that changed (its
    /// phones drop the ticket).
    was: Option<String>,
}

struct Core {
    store: Store,
    cfg: Arc<GatewayConfig>,
    status: Arc<Status>,
    clients: HashMap<u64, Client>,
    /// Which clients a delta goes to: walls by id, phones by unit (`phones.rs`).
    phones: phones::Phones,
    window: VecDeque<Kept>,
    /// Set while the gateway plays a recording back: commands are refused.
    replay: Option<ReplayClock>,
    directory: Arc<Directory>,
    /// Access-log lines waiting for the next heartbeat's write.
    access: Vec<AccessEntry>,
    /// Access-log lines dropped since the last write (a flood of refusals).
    access_dropped: u64,
    /// The last delta sent to the clients (and kept for resumes): what heartbeats name.
    fanned: u64,
    /// Cluster mode: this node's part (writer or follower); `None` for the embedded gateway.
    node: Option<Node>,
    /// Rewinds running (`rewind.rs`): id → (credential, its end).
    rewinds: HashMap<u64, (String, oneshot::Sender<&'static str>)>,
    /// When the access log was last trimmed (`trim_access_log`).
    trimmed: std::time::Instant,
    /// Each credential's command budget (`[limits] commands_per_minute`).
    budget: budget::Budget,
    /// Snapshots building or just built, by scope and encoding, for joins to share.
    snapshots: HashMap<(String, Encoding), snapshot::Built>,
    /// New scopes' figures, summed on threads of their own (`sum_scopes`), come back on
    /// `scope_sums` through the sender `sum_scopes` hands each thread.
    scope_sender: mpsc::Sender<ScopeSum>,
    scope_sums: mpsc::Receiver<ScopeSum>,
    /// Scopes' reads running (at most one), and the scopes waiting for the next.
    scope_reads: usize,
    scope_waiting: Vec<String>,
    /// The duty room's messages (`duty/notify.rs`).
    notifier: crate::duty::Notifier,
    /// When the duty engine last walked the live tickets (ms).
    duty_scanned: i64,
    /// Urgent tickets just dispatched to a unit with no phone connected: (ticket, unit),
    /// told by message at the next duty round (`engine/duty.rs`).
    offline: Vec<(u64, String)>,
    /// Heartbeats sent: phones get theirs on a share of them (`phones::PHONE_BEAT_EVERY`).
    beats: u64,
}

/// Access-log lines written at most per heartbeat; past that they are counted.
const ACCESS_PER_BEAT: usize = 1000;

pub async fn run(
    store: Store,
    cfg: Arc<GatewayConfig>,
    mut rx: mpsc::Receiver<CoreMsg>,
    status: Arc<Status>,
    mut stop: watch::Receiver<bool>,
    (directory, node, notifier): (Arc<Directory>, Option<Node>, crate::duty::Notifier),
) {
    let (scope_sender, scope_sums) = mpsc::channel(16);
    let mut core = Core {
        fanned: store.seq(),
        node,
        budget: budget::Budget::new(cfg.limits.commands_per_minute),
        rewinds: HashMap::new(),
        scope_reads: 0,
        scope_waiting: Vec::new(),
        notifier,
        duty_scanned: 0,
        beats: 0,
        offline: Vec::new(),
        // The first trim a minute after start: nothing competes with the first joins.
        trimmed: std::time::Instant::now(),
        snapshots: HashMap::new(),
        scope_sender,
        scope_sums,
        directory,
        access: Vec::new(),
        access_dropped: 0,
        store,
        cfg: cfg.clone(),
        status,
        clients: HashMap::new(),
        phones: phones::Phones::default(),
        window: VecDeque::new(),
        replay: cfg.replay.as_ref().map(|r| ReplayClock {
            clock_ms: 0,
            speed: r.speed,
            done: false,
        }),
    };
    core.phones = phones::Phones::of(core.store.tickets().values().map(|t| &**t));
    core.fill_window();
    core.start_node();
    let lease_ms = core.node.as_ref().map_or(3_600_000, |n| n.cfg.lease_ms);
    let mut lease = tokio::time::interval(Duration::from_millis(lease_ms));
    lease.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beat = tokio::time::interval(Duration::from_millis(cfg.limits.heartbeat_ms));
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending = Vec::with_capacity(cfg.limits.batch);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut pending, cfg.limits.batch) => {
                if n == 0 { break; }
                core.handle(std::mem::take(&mut pending)).await;
            }
            Some(deltas) = node::followed(&mut core.node) => core.followed(deltas).await,
            Some(done) = core.scope_sums.recv() => core.scope_summed(done),
            _ = lease.tick(), if core.node.is_some() => core.lease_tick().await,
            _ = beat.tick() => {
                // A replay shows what happened, nothing more: no supervision of its own.
                if core.replay.is_none() && core.writes() {
                    core.run_rules().await;
                    core.duty_round().await;
                }
                if core.writes() {
                    core.expire_keys();
                }
                core.reload_accounts();
                core.forget_snapshots();
                core.budget.forget_idle(std::time::Instant::now());
                core.write_access_log();
                core.trim_access_log();
                core.heartbeat();
            }
            _ = stop.changed() => break,
        }
    }
    for (_, c) in core.clients.drain() {
        if let Some(k) = c.kill {
            let _ = k.send("gateway shutting down");
        }
    }
    if let Some(n) = core.node.take() {
        n.stop();
    }
    tracing::info!("gateway core stopped at seq {}", core.store.seq());
}

impl Core {
    /// Load the last deltas of the log so that clients can resume across a restart.
    fn fill_window(&mut self) {
        let want = self.cfg.limits.resume_window as u64;
        let from = self.store.seq().saturating_sub(want);
        match self.store.deltas_after(from, want as usize) {
            Ok(rows) => {
                for r in rows {
                    match serde_json::from_str::<ServerMsg>(&r.frame) {
                        Ok(ServerMsg::Delta { event, .. }) => self.window.push_back(Kept {
                            seq: r.seq,
                            event,
                            frame: r.frame.into(),
                            was: None,
                        }),
                        _ => tracing::warn!("event {} in the log does not decode; skipped", r.seq),
                    }
                }
            }
            Err(e) => tracing::error!("cannot read the event log for resumes: {e}"),
        }
    }

    async fn handle(&mut self, msgs: Vec<CoreMsg>) {
        // Commands first, as one batch (one commit); then the rest in arrival order. A
        // join handled after the batch gets a snapshot that already reflects it, except
        // the join of a client whose own commands are in the batch: it comes first, so
        // that the answers have somewhere to go (a client that resends what was
        // unanswered right after its hello).
        let mut batch = Vec::new();
        let mut rest = Vec::new();
        for m in msgs {
            match m {
                CoreMsg::Command { id, request, reply } => batch.push((id, *request, reply)),
                other => rest.push(other),
            }
        }
        let senders: std::collections::HashSet<u64> =
            batch.iter().filter_map(|(id, _, _)| *id).collect();
        let (early, rest): (Vec<_>, Vec<_>) = rest
            .into_iter()
            .partition(|m| matches!(m, CoreMsg::Join { id, .. } if senders.contains(id)));
        for m in early {
            self.other(m);
        }
        if !batch.is_empty() {
            if self.replay.is_some() {
                self.refuse_replaying(batch);
            } else {
                self.apply(batch).await;
            }
        }
        for m in rest {
            self.other(m);
        }
        self.status
            .clients
            .store(self.clients.len(), Ordering::Relaxed);
    }

    /// Anything but a command.
    fn other(&mut self, m: CoreMsg) {
        match m {
            CoreMsg::Join {
                id,
                region,
                unit,
                credential,
                role,
                resume,
                outbox,
                kill,
                snapshot,
            } => match unit {
                Some(unit) => self.join_phone(
                    id,
                    (unit, credential, role),
                    resume,
                    (outbox, kill),
                    snapshot,
                ),
                None => self.join(
                    id,
                    (region, credential, role),
                    resume,
                    (outbox, kill),
                    snapshot,
                ),
            },
            CoreMsg::Gauges(done) => {
                self.update_gauges();
                let _ = done.send(());
            }
            CoreMsg::Access(e) => {
                if self.access.len() < ACCESS_PER_BEAT {
                    self.access.push(e);
                } else {
                    self.access_dropped += 1;
                }
            }
            CoreMsg::Rewind {
                id,
                credential,
                kill,
                reply,
            } => {
                let _ = reply.send(self.rewind(id, credential, kill));
            }
            CoreMsg::Leave { id } => {
                self.rewinds.remove(&id);
                self.drop_client(id);
                let clients = &self.clients;
                self.store
                    .untrack_scopes(|s| clients.values().any(|c| c.region == s));
            }
            CoreMsg::Audit { id, ticket, region } => self.audit(id, ticket, region),
            CoreMsg::Seed(s) => {
                if let Err(e) = self.store.seed(&s) {
                    tracing::error!("replay: the recorded snapshot does not store: {e}");
                }
            }
            CoreMsg::Replayed { at_ms, events } => self.replayed(at_ms, events),
            CoreMsg::ReplayEnd => {
                if let Some(r) = self.replay.as_mut() {
                    r.done = true;
                }
            }
            CoreMsg::Forwarded {
                id,
                key,
                answer,
                reply,
            } => self.forwarded(id, key, answer, reply),
            CoreMsg::KeyOutcome {
                credential,
                key,
                reply,
            } => {
                let _ = reply.send(self.store.key_outcome(&credential, &key).cloned());
            }
            CoreMsg::Warnings { reply } => {
                let _ = reply.send(self.store.warnings().values().cloned().collect());
            }
            CoreMsg::Duty { reply } => {
                let _ = reply.send(Box::new(self.store.duty().clone()));
            }
            CoreMsg::Report { region, reply } => {
                let _ = reply.send(self.report_inputs(&region));
            }
            CoreMsg::Tickets {
                ids,
                region,
                created: (from, to),
                reply,
            } => {
                let found = match ids {
                    Some(ids) => ids
                        .into_iter()
                        .take(1000)
                        .filter_map(|id| self.store.ticket(id).ok().flatten())
                        .filter(|t| protocol::within(&t.grid, &region))
                        .collect(),
                    None => self
                        .store
                        .tickets()
                        .values()
                        .filter(|t| {
                            (from..=to).contains(&t.created_ms)
                                && protocol::within(&t.grid, &region)
                        })
                        .map(|t| (**t).clone())
                        .collect(),
                };
                let _ = reply.send(found);
            }
            CoreMsg::Command { .. } => {}
        }
    }

    async fn apply(&mut self, batch: Batch) {
        let batch = self.within_budget(batch);
        if batch.is_empty() {
            return;
        }
        if self.node.as_ref().is_some_and(|n| !n.writer) {
            return self.forward_batch(batch);
        }
        if !self.settle().await {
            let answer = crate::forward::unavailable("the log is not reachable");
            for (id, request, reply) in batch {
                self.answer(id, request.key, answer.clone(), reply);
            }
            return;
        }
        let (routes, requests): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|(id, r, reply)| ((id, reply), r))
            .unzip();
        let keys: Vec<String> = requests.iter().map(|r| r.key.clone()).collect();
        let intakes: Vec<bool> = requests
            .iter()
            .map(|r| matches!(r.command, protocol::Command::Intake { .. }))
            .collect();
        let m = &self.status.metrics;
        m.batch_size.observe(requests.len() as f64);
        let started = std::time::Instant::now();
        let applied = self.store.apply_batch(requests, now_us());
        m.batch_seconds.observe(started.elapsed().as_secs_f64());
        if applied.is_ok() {
            m.commit_seconds.observe(self.store.last_commit_seconds());
        }
        let results = match applied {
            Ok(v) => v
                .into_iter()
                .map(|a| (a.outcome, a.delta))
                .collect::<Vec<_>>(),
            Err(e) => {
                // The database's own words stay in the gateway's log: they name tables,
                // paths and hosts a client has no business reading.
                tracing::error!("a batch of {} commands not saved: {e}", keys.len());
                keys.iter()
                    .map(|_| {
                        (
                            CommandOutcome::Refused {
                                code: ErrorCode::Storage,
                                message: "not saved (a database error, in the gateway's log): send it again with the same key".into(),
                            },
                            None,
                        )
                    })
                    .collect()
            }
        };
        for ((outcome, delta), intake) in results.iter().zip(&intakes) {
            let counter = match (outcome, delta) {
                (CommandOutcome::Ok { .. }, Some(_)) => &m.commands_ok,
                (CommandOutcome::Ok { .. }, None) => &m.commands_repeated,
                (CommandOutcome::Refused { .. }, _) => &m.commands_refused,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            if *intake && delta.is_some() {
                m.intake.fetch_add(1, Ordering::Relaxed);
            }
        }
        // A cluster's writer acknowledges only what the stream holds too.
        let published = self.publish(&results).await;
        // Deltas go out before any result, so a client sees the change before its ack.
        let mut answers = Vec::with_capacity(results.len());
        for ((outcome, delta), key) in results.into_iter().zip(keys) {
            let fresh = delta.is_some();
            let outcome = match delta {
                Some(d) if published => {
                    self.fan_out(d);
                    outcome
                }
                Some(_) => crate::forward::unavailable("the log did not confirm it").outcome,
                None => outcome,
            };
            answers.push((key, outcome, fresh));
        }
        self.trim_window();
        for ((id, reply), (key, outcome, fresh)) in routes.into_iter().zip(answers) {
            self.answer(id, key, Answer { outcome, fresh }, reply);
        }
    }

    /// Send a command's answer to whoever asked: an HTTP caller's reply, or a client.
    fn answer(
        &mut self,
        id: Option<u64>,
        key: String,
        answer: Answer,
        reply: Option<oneshot::Sender<Answer>>,
    ) {
        if let Some(reply) = reply {
            let _ = reply.send(answer);
        } else if let Some(id) = id {
            let msg = ServerMsg::CommandResult {
                key,
                outcome: answer.outcome,
            };
            self.send_to(id, &msg);
        }
    }

    /// A replaying gateway takes no commands: each is refused, and nothing changes.
    fn refuse_replaying(&mut self, batch: Batch) {
        for (id, request, reply) in batch {
            let outcome = CommandOutcome::Refused {
                code: ErrorCode::Replay,
                message: "this gateway is replaying a recording: it takes no commands".into(),
            };
            if let Some(reply) = reply {
                let _ = reply.send(Answer {
                    outcome,
                    fresh: false,
                });
            } else if let Some(id) = id {
                let msg = ServerMsg::CommandResult {
                    key: request.key,
                    outcome,
                };
                self.send_to(id, &msg);
            }
        }
    }

    /// Recorded events: written, then fanned out like live changes.
    fn replayed(&mut self, at_ms: i64, events: Vec<Event>) {
        match self.store.apply_replayed(events, now_us()) {
            Ok(deltas) => {
                for d in deltas {
                    self.fan_out(d);
                }
                self.trim_window();
            }
            Err(e) => tracing::error!("replay: events not stored: {e}"),
        }
        if let Some(r) = self.replay.as_mut() {
            r.clock_ms = at_ms;
        }
    }
    fn send_to(&mut self, id: u64, msg: &ServerMsg) {
        if !self.clients.contains_key(&id)
            && let Some(n) = self.node.as_mut()
            && n.hold_message(id, msg)
        {
            return;
        }
        let Ok(text) = serde_json::to_string(msg) else {
            return;
        };
        let full = match self.clients.get(&id) {
            Some(c) => c.outbox.try_send(text.into()).is_err(),
            None => false,
        };
        if full {
            self.cut_off(id, "too slow: outbox full; reconnect to resume");
        }
    }

    fn cut_off(&mut self, id: u64, why: &'static str) {
        if let Some(mut c) = self.drop_client(id) {
            tracing::warn!(client = id, "cut off: {why}");
            self.status.cut_off.fetch_add(1, Ordering::Relaxed);
            if let Some(k) = c.kill.take() {
                let _ = k.send(why);
            }
        }
    }
}
