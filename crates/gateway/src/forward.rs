//! Commands taken by a follower go to the writer over NATS request/reply
//! (`yp.<epoch>.cmd`); only the node holding the lease listens there.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use std::sync::Arc;

use crate::accounts::Directory;
use crate::{Answer, CoreMsg};
use protocol::{Command, CommandOutcome, ErrorCode};
use store::Request;

/// A request as it crosses to the writer: which credential, which key, what. Only the
/// credential's id: the writer finds its role, region and unit in its own directory (the
/// record's accounts, its config's static tokens), never in the message, so a message
/// forged on NATS cannot make itself an admin.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    credential: String,
    key: String,
    command: Command,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<protocol::FieldMark>,
}

#[derive(Serialize, Deserialize)]
struct WireAnswer {
    outcome: CommandOutcome,
    fresh: bool,
}

pub fn subject(epoch: &str) -> String {
    format!("yp.{epoch}.cmd")
}

/// Where a node that has just become the writer says so, once it listens for commands.
pub fn elected_subject(epoch: &str) -> String {
    format!("yp.{epoch}.elected")
}

/// The answer a command gets when no writer took it in time: the client sends it again
/// with the same key (which is applied at most once).
pub fn unavailable(why: &str) -> Answer {
    Answer {
        outcome: CommandOutcome::Refused {
            code: ErrorCode::Unavailable,
            message: format!("no writer answered ({why}); send it again with the same key"),
        },
        fresh: false,
    }
}

/// A command on its way to the writer, and where its answer goes.
pub type Route = (Option<u64>, Request, Option<oneshot::Sender<Answer>>);

/// Commands queued towards the writer at most; past that a follower answers `unavailable`.
pub const FORWARD_QUEUE: usize = 16_384;

/// The follower's forwarder: takes its clients' commands in order and sends them to the
/// writer a batch at a time (one round trip for all that queued while the last batch was
/// out, and one order), handing each answer back to the core.
pub fn spawn_forwarder(
    client: async_nats::Client,
    epoch: String,
    timeout: Duration,
    core: mpsc::Sender<CoreMsg>,
) -> mpsc::Sender<Route> {
    let (tx, mut rx) = mpsc::channel::<Route>(FORWARD_QUEUE);
    tokio::spawn(async move {
        // A batch out to a writer that died waits out `timeout` (3 s), and everything
        // queued behind it with it (issue 26: 2.8-3.0 s in 7 of 16 kills). The new
        // writer's word that it listens ends that wait at once: the batch is answered
        // `unavailable` (its clients send it again, same keys, applied at most once) and
        // the next goes to the new writer.
        let mut elected = match client.subscribe(elected_subject(&epoch)).await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(
                    "cluster: not told of new writers ({e}): a dead one's batch waits out its timeout"
                );
                None
            }
        };
        let mut queued = Vec::new();
        while rx.recv_many(&mut queued, 1000).await > 0 {
            let batch = std::mem::take(&mut queued);
            let (routes, requests): (Vec<_>, Vec<_>) = batch
                .into_iter()
                .map(|(id, r, reply)| ((id, r.key.clone(), reply), r))
                .unzip();
            let n = requests.len();
            let answers = match elected.as_mut() {
                Some(sub) => {
                    // Word of an election before this batch is old news.
                    while let Some(Some(_)) = futures_util::FutureExt::now_or_never(sub.next()) {}
                    tokio::select! {
                        a = forward(&client, &epoch, requests, timeout) => a,
                        Some(_) = sub.next() => {
                            vec![unavailable("a new writer was elected while this batch waited for the last"); n]
                        }
                    }
                }
                None => forward(&client, &epoch, requests, timeout).await,
            };
            tracing::debug!(n, first = ?answers.first().map(|a| &a.outcome), "cluster: forwarded");
            for ((id, key, reply), answer) in routes.into_iter().zip(answers) {
                let m = CoreMsg::Forwarded {
                    id,
                    key,
                    answer,
                    reply,
                };
                if core.send(m).await.is_err() {
                    return;
                }
            }
        }
    });
    tx
}

/// Ask the writer to apply `requests`, in order: one answer each.
async fn forward(
    client: &async_nats::Client,
    epoch: &str,
    requests: Vec<Request>,
    timeout: Duration,
) -> Vec<Answer> {
    let n = requests.len();
    let wire: Vec<Wire> = requests
        .into_iter()
        .map(|request| Wire {
            credential: request.credential,
            key: request.key,
            command: request.command,
            field: request.field,
        })
        .collect();
    let all = |a: Answer| vec![a; n];
    let Ok(body) = serde_json::to_vec(&wire) else {
        return all(unavailable("the commands do not serialize"));
    };
    let asked = tokio::time::timeout(timeout, client.request(subject(epoch), body.into())).await;
    match asked {
        Err(_) => all(unavailable("timed out")),
        Ok(Err(e)) => all(unavailable(&e.to_string())),
        Ok(Ok(msg)) => match serde_json::from_slice::<Vec<WireAnswer>>(&msg.payload) {
            Ok(a) if a.len() == n => a
                .into_iter()
                .map(|a| Answer {
                    outcome: a.outcome,
                    fresh: a.fresh,
                })
                .collect(),
            Ok(_) => all(unavailable("the writer's answer does not match the batch")),
            Err(e) => all(unavailable(&format!("the answer does not decode: {e}"))),
        },
    }
}

/// The writer's side: take forwarded batches into the core like any other commands, and
/// answer each batch when the core has answered all of it (after the stream has the
/// changes). Runs until aborted (a demotion) or the core is gone.
pub async fn serve(
    client: async_nats::Client,
    epoch: String,
    core: mpsc::Sender<CoreMsg>,
    directory: Arc<Directory>,
) -> Result<(), async_nats::Error> {
    let mut sub = client
        .queue_subscribe(subject(&epoch), "writer".into())
        .await?;
    // Listening: followers waiting on a dead writer's answer may stop waiting.
    client
        .publish(elected_subject(&epoch), Vec::new().into())
        .await?;
    client.flush().await?;
    while let Some(msg) = sub.next().await {
        let Some(reply_to) = msg.reply.clone() else {
            continue;
        };
        let batch: Vec<Wire> = match serde_json::from_slice(&msg.payload) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!("cluster: a forwarded batch does not decode: {e}");
                continue;
            }
        };
        tracing::debug!(n = batch.len(), "cluster: forwarded commands taken");
        let mut pending = Vec::with_capacity(batch.len());
        for wire in batch {
            let (tx, rx) = oneshot::channel();
            pending.push(rx);
            let Some(who) = directory.credential_of(&wire.credential) else {
                tracing::warn!(
                    credential = %wire.credential,
                    "cluster: a forwarded command names no live credential here: refused"
                );
                let _ = tx.send(Answer {
                    outcome: CommandOutcome::Refused {
                        code: ErrorCode::Forbidden,
                        message: format!(
                            "the writer knows no live credential {} (revoked, or not one of this city's)",
                            wire.credential
                        ),
                    },
                    fresh: false,
                });
                continue;
            };
            let mut request = who.request(wire.key, wire.command);
            request.field = wire.field;
            let m = CoreMsg::Command {
                id: None,
                request: Box::new(request),
                reply: Some(tx),
            };
            if core.send(m).await.is_err() {
                return Ok(());
            }
        }
        let client = client.clone();
        tokio::spawn(async move {
            let mut answers = Vec::with_capacity(pending.len());
            for rx in pending {
                let a = rx
                    .await
                    .unwrap_or_else(|_| unavailable("the writer stopped"));
                answers.push(WireAnswer {
                    outcome: a.outcome,
                    fresh: a.fresh,
                });
            }
            if let Ok(body) = serde_json::to_vec(&answers) {
                let _ = client.publish(reply_to, body.into()).await;
            }
        });
    }
    Ok(())
}
