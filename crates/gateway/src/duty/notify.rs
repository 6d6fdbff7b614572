//! The notifier: one thread a channel, each sending its messages in order, retrying a
//! failed one with doubling waits, and telling the core every outcome as a
//! `duty_record` command (so each message, failure and the channel's health land in the
//! log, the audit trail, `/metrics` and on the wall). A slow or dead endpoint holds up its
//! own channel only.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::mpsc as tokio_mpsc;

use super::channels::{Channel, Message};
use super::config::DutyConfig;
use crate::Status;
use crate::engine::CoreMsg;
use domain::access::{Access, Role};
use protocol::{ChannelHealth, Command, DutyChange, Notice};

/// Messages waiting for one channel at most.
const QUEUE: usize = 1024;

/// The channels' queues.
#[derive(Clone, Default)]
pub struct Notifier {
    queues: Vec<mpsc::SyncSender<Message>>,
    /// The key acknowledgement links are signed with.
    pub key: Arc<Vec<u8>>,
    pub public_url: String,
}

impl Notifier {
    /// Start a thread for each configured channel.
    pub fn start(
        cfg: &DutyConfig,
        core: tokio_mpsc::Sender<CoreMsg>,
        status: Arc<Status>,
    ) -> Notifier {
        let key = if cfg.ack_secret.is_empty() {
            let k: [u8; 32] = rand::random();
            k.to_vec()
        } else {
            cfg.ack_secret.as_bytes().to_vec()
        };
        let mut queues = Vec::new();
        for c in &cfg.channels {
            // Rounds come minutes apart: a full queue is a channel stuck for hours.
            let (tx, rx) = mpsc::sync_channel::<Message>(QUEUE);
            let channel = Channel::new(c.clone());
            let core = core.clone();
            let status = status.clone();
            let (tries, retry_ms) = (cfg.tries, cfg.retry_ms);
            let spawned = std::thread::Builder::new()
                .name(format!("notify-{}", c.name))
                .spawn(move || run(channel, rx, core, status, (tries, retry_ms)));
            match spawned {
                Ok(_) => queues.push(tx),
                Err(e) => tracing::error!(channel = %c.name, "notifier thread not started: {e}"),
            }
        }
        Notifier {
            queues,
            key: Arc::new(key),
            public_url: cfg.public_url.clone(),
        }
    }

    /// No channel is configured.
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Send a round's message on every channel.
    pub fn send(&self, m: Message) {
        for q in &self.queues {
            if q.try_send(m.clone()).is_err() {
                tracing::error!(
                    escalation = m.escalation,
                    "a channel's queue is full (its endpoint has not answered for long): this round is not sent on it"
                );
            }
        }
    }
}

fn run(
    channel: Channel,
    rx: mpsc::Receiver<Message>,
    core: tokio_mpsc::Sender<CoreMsg>,
    status: Arc<Status>,
    (tries, retry_ms): (u32, u64),
) {
    let name = channel.cfg.name.clone();
    let mut failures: u32 = 0;
    // The first outcome is reported too: /metrics and the wall list every channel used.
    let mut reported = false;
    while let Ok(m) = rx.recv() {
        let now = domain::time::now_ms();
        for (who, url, ct, body) in channel.requests(&m, now) {
            for attempt in 1..=tries {
                // A signed URL carries its time: sign again for each try.
                let url = if attempt > 1 && channel.cfg.kind == super::config::ChannelKind::Dingtalk
                {
                    super::channels::dingtalk_url(
                        url.split("&timestamp=").next().unwrap_or(&url),
                        &channel.cfg.secret,
                        domain::time::now_ms(),
                    )
                } else {
                    url.clone()
                };
                let result = channel.send(&url, &ct, &body);
                let at_ms = domain::time::now_ms();
                let m_ = &status.metrics;
                match &result {
                    Ok(()) => m_.duty_sent.fetch_add(1, Ordering::Relaxed),
                    Err(_) => m_.duty_failed.fetch_add(1, Ordering::Relaxed),
                };
                for i in &who {
                    let r = &m.to[*i];
                    let notice = Notice {
                        at_ms,
                        person: r.person.clone(),
                        name: r.name.clone(),
                        role: r.role,
                        channel: name.clone(),
                        attempt,
                        error: result.as_ref().err().cloned(),
                    };
                    let key = format!(
                        "notice-{}-{}-{}-{}-{}",
                        m.escalation, m.rounds, name, r.person, attempt
                    );
                    record(
                        &core,
                        key,
                        DutyChange::Notice {
                            escalation: m.escalation,
                            notice,
                        },
                    );
                }
                let before = failures;
                failures = match &result {
                    Ok(()) => 0,
                    Err(_) => failures + 1,
                };
                let changed = failures != before || !reported;
                if changed && (failures <= protocol::CHANNEL_FAILING || failures == 0) {
                    reported = true;
                    let health = ChannelHealth {
                        channel: name.clone(),
                        failures,
                        at_ms,
                        last_error: result.as_ref().err().cloned().unwrap_or_default(),
                    };
                    record(
                        &core,
                        format!("channel-{name}-{at_ms}-{failures}"),
                        DutyChange::Channel { health },
                    );
                }
                match result {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!(channel = %name, escalation = m.escalation, attempt, "message not sent: {e}");
                        if attempt < tries {
                            std::thread::sleep(Duration::from_millis(
                                retry_ms << (attempt - 1).min(10),
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// Hand a record to the core as the duty engine's command.
fn record(core: &tokio_mpsc::Sender<CoreMsg>, key: String, change: DutyChange) {
    let request = store::Request {
        actor: protocol::DUTY_SYSTEM.into(),
        credential: protocol::DUTY_SYSTEM.into(),
        access: Access::city(Role::System),
        key,
        command: Command::DutyRecord {
            change: Box::new(change),
        },
        field: None,
    };
    let _ = core.blocking_send(CoreMsg::Command {
        id: None,
        request: Box::new(request),
        reply: None,
    });
}
