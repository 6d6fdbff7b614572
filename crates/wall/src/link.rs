//! The wall's end of the feed: the crossbeam link to the network thread, the time-boxed
//! ingest into the mirror, feed health, and the outbox of commands with their outcomes.
//! The mirror changes only here, and only from feed messages (STYLE practice 8).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::WallSet;
use domain::time::now_us;
use feed::{Change, FeedEvent, FeedStatus, Mirror};
use protocol::{AuditAction, AuditEntry, ClientMsg, Command, CommandOutcome, ErrorCode, ServerMsg};

/// Drain the feed for at most this long a frame; the rest waits for the next frame.
const INGEST_BUDGET: Duration = Duration::from_millis(2);
/// The same while a snapshot comes in. The wall shows only its progress meanwhile, at
/// four frames a second (`screen::LOADING_FRAME`); a ticket costs the frame about six
/// times its ingest again in roll-ups, queue and markers, so 40 ms of ingest make a
/// frame of about a quarter second: the main thread works all the time and the progress
/// still moves four times a second. (At 12 ms a frame and four frames a second a
/// province's million tickets took over 40 s.)
const LOADING_BUDGET: Duration = Duration::from_millis(40);
/// No data (deltas or heartbeats, which come every second) for this long: stale.
pub const STALE_AFTER: Duration = Duration::from_secs(3);

#[derive(Resource)]
pub struct FeedLink {
    pub events: Receiver<FeedEvent>,
    pub commands: Sender<ClientMsg>,
    /// Set by the wall to wake its event loop when a snapshot part arrives.
    pub wake: feed::Wake,
}

impl From<feed::FeedHandle> for FeedLink {
    fn from(h: feed::FeedHandle) -> Self {
        FeedLink {
            events: h.events,
            commands: h.commands,
            wake: h.wake,
        }
    }
}

/// The wall's copy of the gateway's live state.
#[derive(Resource, Default)]
pub struct WallMirror(pub Mirror);

/// One change applied to the mirror this frame, for the derived views.
#[derive(Message, Clone, Debug)]
pub struct MirrorChanged(pub Change);

#[derive(Resource)]
pub struct FeedHealth {
    pub status: FeedStatus,
    pub last_data: Option<Instant>,
    /// Gateway stamp → arrival, exponentially smoothed, ms.
    pub latency_ms: f32,
    /// Messages applied in the last frame and still waiting in the channel.
    pub ingested: usize,
    pub backlog: usize,
    /// True while the first snapshot has not fully arrived.
    pub loading: bool,
}

impl Default for FeedHealth {
    fn default() -> Self {
        FeedHealth {
            status: FeedStatus::Connecting,
            last_data: None,
            latency_ms: 0.0,
            ingested: 0,
            backlog: 0,
            loading: true,
        }
    }
}

impl FeedHealth {
    /// Seconds since the last data, if any came.
    pub fn age(&self, now: Instant) -> Option<Duration> {
        self.last_data.map(|t| now.saturating_duration_since(t))
    }
    /// Live means connected, caught up, and heard from within `STALE_AFTER`.
    pub fn is_live(&self, now: Instant) -> bool {
        self.status == FeedStatus::Connected
            && !self.loading
            && self.age(now).is_some_and(|a| a < STALE_AFTER)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum CommandState {
    Pending,
    Confirmed,
    Refused {
        code: ErrorCode,
        message: String,
    },
    /// The link to the network thread is full or gone.
    NotSent(String),
}

#[derive(Clone, Debug)]
pub struct SentCommand {
    pub command: Command,
    pub sent: Instant,
    pub state: CommandState,
}

/// Commands the wall sent and what became of them. The UI reads it; only the ingest
/// system writes outcomes into it.
#[derive(Resource, Default)]
pub struct Outbox {
    pub sent: BTreeMap<String, SentCommand>,
    next: u64,
    /// Demo mode: the epoch of the demo's own gateway, the only one this wall may
    /// command. A command while the feed comes from any other log is not sent.
    pub only_epoch: Option<String>,
    /// The epoch of the log the feed comes from now (kept by the ingest).
    pub feed_epoch: String,
}

impl Outbox {
    /// Send a command with a fresh idempotency key; returns the key.
    pub fn send(&mut self, link: &FeedLink, command: Command) -> String {
        self.next += 1;
        let key = format!(
            "wall-{:08x}-{}",
            std::process::id() ^ (now_us() as u32),
            self.next
        );
        let msg = ClientMsg::Command {
            key: key.clone(),
            command: command.clone(),
        };
        if let Some(own) = &self.only_epoch
            && own != &self.feed_epoch
        {
            tracing::warn!("demo mode: a command to a gateway not the demo's own was not sent");
            self.sent.insert(
                key.clone(),
                SentCommand {
                    command,
                    sent: Instant::now(),
                    state: CommandState::NotSent(
                        "演示模式只能指挥演示网关 demo mode commands only its own gateway".into(),
                    ),
                },
            );
            return key;
        }
        let state = match link.commands.try_send(msg) {
            Ok(()) => CommandState::Pending,
            Err(TrySendError::Full(_)) => CommandState::NotSent("网络线程繁忙 link busy".into()),
            Err(TrySendError::Disconnected(_)) => {
                CommandState::NotSent("网络线程已停止 link down".into())
            }
        };
        self.sent.insert(
            key.clone(),
            SentCommand {
                command,
                sent: Instant::now(),
                state,
            },
        );
        // Keep the last few hundred for the UI; older outcomes are in the audit trail.
        while self.sent.len() > 512 {
            self.sent.pop_first();
        }
        key
    }

    pub fn state(&self, key: &str) -> Option<&CommandState> {
        self.sent.get(key).map(|s| &s.state)
    }
}

/// Audit trails received in answer to `audit_query`, by ticket.
#[derive(Resource, Default)]
pub struct AuditTrails(pub HashMap<u64, Vec<AuditEntry>>);

/// The gateway's automatic supervisions (督办) as they arrive, newest last: every wall
/// says so. Bounded: the oldest go first.
#[derive(Resource, Default)]
pub struct Notices(pub std::collections::VecDeque<(u64, String, AuditEntry)>);

impl Notices {
    pub const KEEP: usize = 50;
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<WallMirror>()
        .init_resource::<FeedHealth>()
        .init_resource::<Outbox>()
        .init_resource::<AuditTrails>()
        .init_resource::<Notices>()
        .add_message::<MirrorChanged>()
        .add_systems(Update, ingest.in_set(WallSet::Ingest));
}

/// Drain the feed into the mirror within the frame's budget.
pub fn ingest(
    link: Option<Res<FeedLink>>,
    mut mirror: ResMut<WallMirror>,
    mut health: ResMut<FeedHealth>,
    mut outbox: ResMut<Outbox>,
    mut trails: ResMut<AuditTrails>,
    mut notices: ResMut<Notices>,
    mut changed: MessageWriter<MirrorChanged>,
) {
    let Some(link) = link else { return };
    let start = Instant::now();
    let mut n = 0;
    loop {
        let budget = if health.loading {
            LOADING_BUDGET
        } else {
            INGEST_BUDGET
        };
        if start.elapsed() >= budget {
            break;
        }
        let Ok(ev) = link.events.try_recv() else {
            break;
        };
        n += 1;
        match ev {
            FeedEvent::Status(s) => {
                if s != FeedStatus::Connected {
                    health.loading = true;
                }
                health.status = s;
            }
            FeedEvent::Msg(msg, at_us) => {
                health.last_data = Some(Instant::now());
                match &msg {
                    ServerMsg::Delta { ts_us, .. } => {
                        let l = (at_us - ts_us).max(0) as f32 / 1000.0;
                        health.latency_ms = 0.9 * health.latency_ms + 0.1 * l;
                    }
                    ServerMsg::CommandResult { key, outcome } => {
                        if let Some(s) = outbox.sent.get_mut(key) {
                            s.state = match outcome {
                                CommandOutcome::Ok { .. } => CommandState::Confirmed,
                                CommandOutcome::Refused { code, message } => {
                                    CommandState::Refused {
                                        code: *code,
                                        message: message.clone(),
                                    }
                                }
                            };
                        }
                    }
                    ServerMsg::Audit { ticket, entries } => {
                        // Bounded for walls that run for days (a tour selects a ticket
                        // every loop): past 64 trails only the newest is kept.
                        if trails.0.len() >= 64 {
                            trails.0.clear();
                        }
                        trails.0.insert(*ticket, entries.clone());
                    }
                    ServerMsg::Error { code, message } => {
                        warn!("gateway error {code}: {message}");
                    }
                    _ => {}
                }
                let audit = match &msg {
                    ServerMsg::Delta { event, .. } => event.audit().cloned(),
                    _ => None,
                };
                let change = mirror.0.take(msg);
                if outbox.feed_epoch != mirror.0.epoch {
                    outbox.feed_epoch = mirror.0.epoch.clone();
                }
                let was_loading = health.loading;
                health.loading = mirror.0.loading || mirror.0.epoch.is_empty();
                if was_loading && !health.loading {
                    info!(
                        "snapshot in: {} tickets, {} warnings",
                        mirror.0.tickets.len(),
                        mirror.0.warnings.len()
                    );
                }
                if let (Change::Ticket { id, .. }, Some(a)) = (&change, audit) {
                    // A trail we hold is extended by the delta's own audit line.
                    if let Some(t) = trails.0.get_mut(id) {
                        t.push(a.clone());
                    }
                    if a.action == AuditAction::Supervise && a.actor == protocol::AUTO_SUPERVISOR {
                        let title = mirror.0.tickets.get(id).map(|t| t.title.clone());
                        notices.0.push_back((*id, title.unwrap_or_default(), a));
                        if notices.0.len() > Notices::KEEP {
                            notices.0.pop_front();
                        }
                    }
                }
                if change != Change::None {
                    changed.write(MirrorChanged(change));
                }
            }
        }
    }
    health.ingested = n;
    health.backlog = link.events.len();
}
