//! The network thread: connect, hello, read, reconnect with back-off, resume.

use std::collections::BTreeMap;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use domain::time::now_us;
use protocol::{ClientMsg, Resume, ServerMsg};

#[derive(Clone, Debug)]
pub struct FeedConfig {
    /// `ws://host:port`, or several gateways of a cluster separated by commas: after a
    /// lost connection the next one is tried, and the feed resumes there by (epoch, seq).
    pub url: String,
    pub token: String,
    pub region: Option<String>,
    /// The CA (PEM) that signed a `wss://` gateway's certificate.
    pub ca: Option<std::path::PathBuf>,
    /// Watch a rewind of the gateway's own log instead of the live feed.
    pub rewind: Option<protocol::RewindAsk>,
    /// Messages buffered towards the consumer before the network thread waits.
    pub capacity: usize,
    /// First and largest reconnect delay.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How the snapshot comes (compact by default: a quarter of the bytes).
    pub encoding: protocol::compact::Encoding,
    /// Called as each snapshot part is handed over (the wall wakes its event loop).
    pub wake: Wake,
}

/// What the network thread calls when a snapshot part is handed over: a wall that
/// sleeps between frames while it loads (`wall::screen`) wakes to take the part instead
/// of at its next frame (up to a quarter second later). Set once, by the consumer.
#[derive(Clone, Default)]
pub struct Wake(std::sync::Arc<std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>>);

impl Wake {
    /// Call `f` from now on (a second call is ignored).
    pub fn set(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.0.set(Box::new(f));
    }
    fn wake(&self) {
        if let Some(f) = self.0.get() {
            f();
        }
    }
}

impl std::fmt::Debug for Wake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Wake(set: {})", self.0.get().is_some())
    }
}

impl FeedConfig {
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Self {
        FeedConfig {
            url: url.into(),
            token: token.into(),
            region: None,
            ca: None,
            rewind: None,
            capacity: 65_536,
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(15),
            encoding: protocol::compact::Encoding::Compact,
            wake: Wake::default(),
        }
    }
}

/// The connection's state, as the wall shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum FeedStatus {
    Connecting,
    Connected,
    /// Lost; the next attempt is in `retry_ms`.
    Reconnecting {
        attempt: u32,
        retry_ms: u64,
        reason: String,
    },
}

#[derive(Clone, Debug)]
// Messages are moved through a bounded channel of at most a few thousand; boxing each
// would add an allocation per message on the hot path to save a few hundred KB.
#[expect(clippy::large_enum_variant, reason = "see above")]
pub enum FeedEvent {
    Status(FeedStatus),
    /// A message and the time (µs since the epoch) it was read off the socket.
    Msg(ServerMsg, i64),
}

/// Both ends the consumer holds.
pub struct FeedHandle {
    pub events: Receiver<FeedEvent>,
    pub commands: Sender<ClientMsg>,
    /// The config's `wake`, for a consumer to set.
    pub wake: Wake,
}

/// Start the network thread. It runs until `commands` and `events` are both dropped.
pub fn spawn(cfg: FeedConfig) -> std::io::Result<FeedHandle> {
    let (ev_tx, ev_rx) = bounded(cfg.capacity);
    let (cmd_tx, cmd_rx) = bounded::<ClientMsg>(1024);
    let wake = cfg.wake.clone();
    std::thread::Builder::new()
        .name("yiping-feed".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("feed: no runtime: {e}");
                    return;
                }
            };
            rt.block_on(run(cfg, ev_tx, cmd_rx));
        })?;
    Ok(FeedHandle {
        events: ev_rx,
        commands: cmd_tx,
        wake,
    })
}

/// Bridge the consumer's blocking command channel into the async side.
fn bridge(cmd_rx: Receiver<ClientMsg>) -> mpsc::Receiver<ClientMsg> {
    let (tx, rx) = mpsc::channel(1024);
    let spawned = std::thread::Builder::new()
        .name("yiping-feed-cmd".into())
        .spawn(move || {
            while let Ok(c) = cmd_rx.recv() {
                if tx.blocking_send(c).is_err() {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("feed: cannot start the command thread: {e}");
    }
    rx
}

async fn run(cfg: FeedConfig, events: Sender<FeedEvent>, cmd_rx: Receiver<ClientMsg>) {
    let mut commands = bridge(cmd_rx);
    let mut resume: Option<Resume> = None;
    // Commands sent but not yet answered: re-sent after a reconnect. The gateway applies a
    // key once, so a command whose answer was lost in the drop is not applied twice.
    let mut unanswered: BTreeMap<String, ClientMsg> = BTreeMap::new();
    let mut attempt: u32 = 0;
    let urls: Vec<String> = cfg
        .url
        .split(',')
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    let mut at = 0usize;
    loop {
        let url = urls
            .get(at % urls.len().max(1))
            .cloned()
            .unwrap_or_default();
        if events
            .send(FeedEvent::Status(FeedStatus::Connecting))
            .is_err()
        {
            return;
        }
        let ended = session(
            (&cfg, &url),
            &events,
            &mut commands,
            &mut resume,
            &mut unanswered,
        )
        .await;
        let reason = match ended {
            Ended::ConsumerGone => return,
            Ended::Lost { reason, had_data } => {
                if had_data {
                    attempt = 0;
                }
                format!("{url}: {reason}")
            }
        };
        attempt += 1;
        at += 1;
        // With several gateways, the first try of each other one is quick (a failover);
        // back-off grows once every one has failed.
        let round = if urls.len() > 1 {
            (attempt - 1) / urls.len() as u32
        } else {
            attempt
        };
        let exp = cfg.backoff_min.as_millis() as u64 * (1u64 << round.min(10));
        let cap = exp.min(cfg.backoff_max.as_millis() as u64);
        // Full jitter: a wall of many clients must not reconnect in lock-step.
        let retry_ms = rand::rng().random_range(cap / 2..=cap.max(1));
        let st = FeedStatus::Reconnecting {
            attempt,
            retry_ms,
            reason,
        };
        if events.send(FeedEvent::Status(st)).is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(retry_ms)).await;
    }
}

enum Ended {
    ConsumerGone,
    Lost { reason: String, had_data: bool },
}

async fn session(
    (cfg, url): (&FeedConfig, &str),
    events: &Sender<FeedEvent>,
    commands: &mut mpsc::Receiver<ClientMsg>,
    resume: &mut Option<Resume>,
    unanswered: &mut BTreeMap<String, ClientMsg>,
) -> Ended {
    let lost = |reason: String, had_data| Ended::Lost { reason, had_data };
    let hello = match &cfg.rewind {
        // A rewind starts again from its beginning on a new connection.
        Some(ask) => wire::rewind_hello(&cfg.token, cfg.region.clone(), ask.clone()),
        None => wire::hello_with(&cfg.token, resume.clone(), cfg.region.clone(), cfg.encoding),
    };
    let tls = match &cfg.ca {
        Some(ca) => match wire::tls(ca) {
            Ok(t) => Some(t),
            Err(e) => return lost(e, false),
        },
        None => None,
    };
    let mut ws = match wire::open(url, tls.as_ref(), &hello).await {
        Ok(ws) => ws,
        Err(e) => return lost(e, false),
    };
    for c in unanswered.values() {
        let text = serde_json::to_string(c).unwrap_or_default();
        if let Err(e) = ws.send(Message::Text(text.into())).await {
            return lost(format!("resend: {e}"), false);
        }
    }
    if events
        .send(FeedEvent::Status(FeedStatus::Connected))
        .is_err()
    {
        return Ended::ConsumerGone;
    }
    let mut had_data = false;
    // Silence longer than this (heartbeats come every second) means the link is dead.
    let silence = Duration::from_secs(5);
    loop {
        tokio::select! {
            frame = tokio::time::timeout(silence, ws.next()) => {
                let decoded = match frame {
                    Err(_) => return lost("no data for 5 s".into(), had_data),
                    Ok(None) => return lost("closed by gateway".into(), had_data),
                    Ok(Some(Err(e))) => return lost(e.to_string(), had_data),
                    Ok(Some(Ok(Message::Text(t)))) => {
                        serde_json::from_str::<ServerMsg>(&t).map_err(|e| (false, e.to_string()))
                    }
                    // A compact snapshot part (asked for in the hello).
                    Ok(Some(Ok(Message::Binary(b)))) => protocol::compact::decode_part(&b)
                        .map(ServerMsg::Snapshot)
                        .map_err(|e| (true, e.to_string())),
                    Ok(Some(Ok(Message::Close(c)))) => {
                        let why = c.map(|c| c.reason.to_string()).unwrap_or_default();
                        return lost(format!("closed by gateway: {why}"), had_data);
                    }
                    Ok(Some(Ok(_))) => continue,
                };
                let at = now_us();
                let msg = match decoded {
                    Ok(m) => m,
                    // A snapshot with a part missing would be a wrong mirror: start again.
                    Err((true, e)) => {
                        return lost(format!("snapshot part does not decode: {e}"), had_data);
                    }
                    Err((false, e)) => {
                        tracing::warn!("feed: undecodable frame: {e}");
                        continue;
                    }
                };
                had_data = true;
                track(&msg, resume, unanswered);
                let part = matches!(msg, ServerMsg::Snapshot(_));
                if events.send(FeedEvent::Msg(msg, at)).is_err() {
                    return Ended::ConsumerGone;
                }
                if part {
                    cfg.wake.wake();
                }
            }
            cmd = commands.recv() => {
                let Some(cmd) = cmd else { return Ended::ConsumerGone };
                if let ClientMsg::Command { key, .. } = &cmd {
                    unanswered.insert(key.clone(), cmd.clone());
                }
                let text = serde_json::to_string(&cmd).unwrap_or_default();
                if let Err(e) = ws.send(Message::Text(text.into())).await {
                    return lost(format!("send: {e}"), had_data);
                }
            }
        }
    }
}

/// Keep the resume point and the unanswered list up to date with what was read.
fn track(
    msg: &ServerMsg,
    resume: &mut Option<Resume>,
    unanswered: &mut BTreeMap<String, ClientMsg>,
) {
    match msg {
        ServerMsg::Snapshot(s) => {
            // A snapshot cut off half-way must be fetched again whole.
            *resume = s.last.then(|| Resume {
                epoch: s.epoch.clone(),
                seq: s.seq,
            });
        }
        // A heartbeat's number is safe to resume from: the gateway queues it behind
        // every delta before it.
        ServerMsg::Delta { epoch, seq, .. } | ServerMsg::Heartbeat { epoch, seq, .. }
            if resume
                .as_ref()
                .is_some_and(|r| &r.epoch == epoch && r.seq < *seq) =>
        {
            *resume = Some(Resume {
                epoch: epoch.clone(),
                seq: *seq,
            });
        }
        ServerMsg::CommandResult { key, .. } => {
            unanswered.remove(key);
        }
        _ => {}
    }
}
