//! The feed's log on JetStream: one stream per epoch (`YP_<epoch>`), one message per delta,
//! the message's stream sequence equal to the delta's `seq`.
//!
//! Subjects carry the region so that a town center can mirror only its own:
//! `yp.<epoch>.ev.<district>.<town>` for an event in one town, `….<district>.all` for one that
//! spans a district's towns, `….city.all` for the rest (units, briefings, city warnings).

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::ClusterConfig;
use protocol::Event;
use store::StoredDelta;

/// The city's epoch, from the name of its stream on the city's JetStream domain (the most
/// recently created, should there be several).
async fn city_epoch(client: &async_nats::Client, domain: &str) -> Result<String, LogError> {
    let hub = jetstream::with_domain(client.clone(), domain);
    let mut names = hub.stream_names();
    let mut best: Option<(String, i128)> = None;
    while let Some(n) = names.next().await {
        let n = n.map_err(nats)?;
        let Some(e) = n.strip_prefix("YP_") else {
            continue;
        };
        let mut s = hub.get_stream(&n).await.map_err(nats)?;
        let created = s.info().await.map_err(nats)?.created.unix_timestamp_nanos();
        if best.as_ref().is_none_or(|(_, c)| created > *c) {
            best = Some((e.to_string(), created));
        }
    }
    best.map(|b| b.0)
        .ok_or_else(|| LogError::Nats(format!("no city stream on JetStream domain {domain:?}")))
}

/// A stream's name for an epoch.
pub fn stream_name(epoch: &str) -> String {
    format!("YP_{epoch}")
}

/// The subject an event is published on (see the module's comment).
pub fn subject(epoch: &str, event: &Event) -> String {
    let grids = event.grids();
    let parts = |g: &str| -> (String, String) {
        let mut it = g.split('-');
        (
            it.next().unwrap_or("").to_string(),
            it.next().unwrap_or("").to_string(),
        )
    };
    let region = match grids.first() {
        None => "city.all".to_string(),
        Some(first) => {
            let (d, t) = parts(first);
            let same_d = !d.is_empty() && grids.iter().all(|g| parts(g).0 == d);
            let same_t = same_d && !t.is_empty() && grids.iter().all(|g| parts(g).1 == t);
            match (same_d, same_t) {
                (true, true) => format!("{d}.{t}"),
                (true, false) => format!("{d}.all"),
                _ => "city.all".to_string(),
            }
        }
    };
    format!("yp.{epoch}.ev.{region}")
}

#[derive(thiserror::Error, Debug)]
pub enum LogError {
    #[error("NATS: {0}")]
    Nats(String),
    /// The stream holds a different sequence than the one expected: another writer
    /// published, or the stream was replaced. The node must resynchronise.
    #[error("the stream is at another sequence than this writer expected: {0}")]
    Fenced(String),
}

fn nats<E: std::fmt::Display>(e: E) -> LogError {
    LogError::Nats(e.to_string())
}

/// A node's NATS connection (reconnecting for ever) and its JetStream context.
async fn connect_nats(
    cfg: &ClusterConfig,
) -> Result<(async_nats::Client, jetstream::Context), LogError> {
    let mut options = async_nats::ConnectOptions::new()
        .name(format!("yiping-{}", cfg.node))
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2));
    if let (Some(u), Some(p)) = (&cfg.nats_user, &cfg.nats_password) {
        options = options.user_and_password(u.clone(), p.clone());
    }
    if let Some(creds) = &cfg.nats_creds {
        options = options
            .credentials_file(creds)
            .await
            .map_err(|e| LogError::Nats(format!("{}: {e}", creds.display())))?;
    }
    if let Some(ca) = &cfg.nats_ca {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    let client = options.connect(cfg.nats.as_str()).await.map_err(nats)?;
    let mut js = jetstream::new(client.clone());
    // The writer's core waits for the acks of its batch: on a lost server it gives up after
    // this, answers `unavailable`, and publishes the tail again later.
    js.set_timeout(Duration::from_secs(2));
    Ok((client, js))
}

#[derive(Clone)]
pub struct JetLog {
    pub client: async_nats::Client,
    js: jetstream::Context,
    epoch: String,
    stream: String,
}

impl JetLog {
    /// Connect and make sure the epoch's stream exists.
    pub async fn connect(cfg: &ClusterConfig, epoch: &str) -> Result<JetLog, LogError> {
        let (client, js) = connect_nats(cfg).await?;
        let stream = stream_name(epoch);
        js.get_or_create_stream(stream::Config {
            name: stream.clone(),
            subjects: vec![format!("yp.{epoch}.ev.>")],
            storage: stream::StorageType::File,
            num_replicas: cfg.replicas,
            // Only a republished tail after a failover repeats ids, within seconds.
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(nats)?;
        Ok(JetLog {
            client,
            js,
            epoch: epoch.to_string(),
            stream,
        })
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The JetStream context (the photos' object store lives beside the log).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// A town center's log: the city's epoch (found on the city's JetStream domain over the
    /// leaf link), and a mirror of the city's stream on the local server holding only the
    /// town's subjects, its district's and the city's (units, briefings). Mirrors keep the
    /// city's sequence numbers, so a wall resumes here by (epoch, seq) too.
    pub async fn connect_town(cfg: &ClusterConfig, town: &str) -> Result<JetLog, LogError> {
        let (client, js) = connect_nats(cfg).await?;
        // The epoch: a mirror made before keeps it, so a cut-off town restarts on its own.
        let mut names = js.stream_names();
        let mut local = None;
        while let Some(n) = names.next().await {
            let n = n.map_err(nats)?;
            if let Some(e) = n.strip_prefix("YP_") {
                local = Some(e.to_string());
            }
        }
        let epoch = match local {
            Some(e) => e,
            None => city_epoch(&client, &cfg.hub_domain).await?,
        };
        let stream = stream_name(&epoch);
        let (d, t) = town.split_once('-').unwrap_or((town, ""));
        let mut filters = vec![format!("yp.{epoch}.ev.city.all")];
        if t.is_empty() {
            filters.push(format!("yp.{epoch}.ev.{d}.>"));
        } else {
            let t = t.split('-').next().unwrap_or(t);
            filters.push(format!("yp.{epoch}.ev.{d}.all"));
            filters.push(format!("yp.{epoch}.ev.{d}.{t}"));
        }
        js.get_or_create_stream(stream::Config {
            name: stream.clone(),
            storage: stream::StorageType::File,
            mirror: Some(stream::Source {
                name: stream.clone(),
                // The city's JetStream API as seen across the leaf link (the server
                // takes the domain as this prefix).
                external: Some(stream::External {
                    api_prefix: format!("$JS.{}.API", cfg.hub_domain),
                    delivery_prefix: None,
                }),
                subject_transforms: filters
                    .into_iter()
                    .map(|f| stream::SubjectTransform {
                        source: f.clone(),
                        destination: f,
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .map_err(nats)?;
        Ok(JetLog {
            client,
            js,
            epoch,
            stream,
        })
    }

    /// The stream's last sequence (0 when empty).
    pub async fn last_seq(&self) -> Result<u64, LogError> {
        let mut s = self.js.get_stream(&self.stream).await.map_err(nats)?;
        Ok(s.info().await.map_err(nats)?.state.last_sequence)
    }

    /// Publish deltas in order, each expected right after the one before, and wait for the
    /// stream's acknowledgement of all of them. The publishes are pipelined (one round
    /// trip for the batch, not one per delta).
    pub async fn publish(&self, deltas: &[(u64, &Event, &str)]) -> Result<(), LogError> {
        let mut acks = Vec::with_capacity(deltas.len());
        for (seq, event, frame) in deltas {
            let msg = jetstream::message::PublishMessage::build()
                .payload(frame.to_string().into())
                .message_id(format!("{}:{seq}", self.epoch))
                .expected_last_sequence(seq - 1);
            let ack = self
                .js
                .send_publish(subject(&self.epoch, event), msg)
                .await
                .map_err(nats)?;
            acks.push((*seq, ack));
        }
        for (seq, ack) in acks {
            match ack.await {
                Ok(a) if a.sequence == seq => {}
                Ok(a) => {
                    return Err(LogError::Fenced(format!(
                        "delta {seq} stored as {}",
                        a.sequence
                    )));
                }
                Err(e) if e.to_string().contains("wrong last sequence") => {
                    return Err(LogError::Fenced(format!("delta {seq}: {e}")));
                }
                Err(e) => return Err(nats(e)),
            }
        }
        Ok(())
    }

    /// Follow the stream from `from` on: the deltas in order, a batch at a time, until the
    /// receiver is dropped. The consumer is recreated from the next sequence after any
    /// error (a NATS restart), so nothing is skipped or repeated.
    pub fn follow(&self, from: u64) -> mpsc::Receiver<Vec<StoredDelta>> {
        let (tx, rx) = mpsc::channel(256);
        let log = self.clone();
        tokio::spawn(async move {
            let mut next = from.max(1);
            loop {
                match log.follow_once(&mut next, &tx).await {
                    Ok(()) => return, // the receiver is gone
                    Err(e) => {
                        tracing::warn!("log: following from {next}: {e}; again in 0.2 s");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                if tx.is_closed() {
                    return;
                }
            }
        });
        rx
    }

    async fn follow_once(
        &self,
        next: &mut u64,
        tx: &mpsc::Sender<Vec<StoredDelta>>,
    ) -> Result<(), LogError> {
        let stream = self.js.get_stream(&self.stream).await.map_err(nats)?;
        let consumer = stream
            .create_consumer(consumer::push::OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: *next,
                },
                ..Default::default()
            })
            .await
            .map_err(nats)?;
        let mut messages = consumer.messages().await.map_err(nats)?;
        loop {
            // Take what has arrived as one batch: one trip through the core for many.
            let Some(first) = messages.next().await else {
                return Err(LogError::Nats("the consumer ended".into()));
            };
            let mut batch = vec![first.map_err(nats)?];
            while batch.len() < 1000 {
                match futures_util::FutureExt::now_or_never(messages.next()) {
                    Some(Some(m)) => batch.push(m.map_err(nats)?),
                    _ => break,
                }
            }
            let mut out = Vec::with_capacity(batch.len());
            for m in batch {
                let seq = m.info().map_err(nats)?.stream_sequence;
                let ts_us = m
                    .info()
                    .map(|i| (i.published.unix_timestamp_nanos() / 1000) as i64)
                    .unwrap_or(0);
                let frame = String::from_utf8(m.payload.to_vec())
                    .map_err(|e| LogError::Nats(format!("delta {seq} is not UTF-8: {e}")))?;
                *next = seq + 1;
                out.push(StoredDelta { seq, ts_us, frame });
            }
            if tx.send(out).await.is_err() {
                return Ok(());
            }
        }
    }
}
