//! Rewind served over the wire: a client whose hello asks for a `rewind` gets, on its own
//! connection, a replay of this gateway's log (its SQLite file, or the cluster's record in
//! PostgreSQL) from the time it asked, at the speed it asked. So a wall on another machine
//! or in a town center rewinds during a briefing without the gateway's database at hand.
//!
//! The replay runs on a private gateway of its own (a fresh temporary database, loopback,
//! a token made for it, the client's region), exactly as `yiping replay` does; this
//! connection relays its frames. Commands are refused: a rewind shows what happened.
//!
//! A rewind is a client of the core like any other: counted in `max_clients`, one per
//! credential and `MAX_REWINDS` per gateway, ended by a revocation, and by
//! `REWIND_LIMIT` in any case. Its temporary folder is private (0700) and removed.

use crate::{CoreMsg, GatewayError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::config::{GatewayConfig, ReplaySource};
use super::tls;
use protocol::{ErrorCode, RewindAsk, ServerMsg};

/// Rewinds served at once by one gateway at most (each replays the log on a gateway of
/// its own).
pub const MAX_REWINDS: usize = 4;
/// The longest a rewind runs: a briefing's look back, not a second live feed.
pub const REWIND_LIMIT: Duration = Duration::from_secs(3600);

/// Who asks for a rewind, as the core counts it.
pub struct Asker {
    pub id: u64,
    pub credential: String,
    pub region: String,
    pub core: tokio::sync::mpsc::Sender<CoreMsg>,
}

fn error(code: ErrorCode, message: String) -> Message {
    let m = ServerMsg::Error { code, message };
    Message::Text(serde_json::to_string(&m).unwrap_or_default().into())
}

/// The client's socket failed under a rewind.
fn ws_err(e: tokio_tungstenite::tungstenite::Error) -> GatewayError {
    GatewayError::Rewind(format!("the client's connection: {e}"))
}

/// Check a rewind's ask: a speed from 1 to 3,600, a start not in the future.
pub fn check(ask: &RewindAsk) -> Result<(), String> {
    if !(1.0..=3600.0).contains(&ask.speed) {
        return Err(format!(
            "rewind speed {} is not within 1 to 3600",
            ask.speed
        ));
    }
    if ask.from_ms > domain::time::now_ms() {
        return Err("a rewind starts in the past".into());
    }
    Ok(())
}

/// Relay a replay of this gateway's log to `ws` until either side ends.
pub(super) async fn serve(
    mut ws: WebSocketStream<tls::Stream>,
    ask: RewindAsk,
    asker: Asker,
    cfg: &GatewayConfig,
    stop: &mut watch::Receiver<bool>,
) {
    let (kill_tx, mut kill) = oneshot::channel();
    let (reply, placed) = oneshot::channel();
    let msg = CoreMsg::Rewind {
        id: asker.id,
        credential: asker.credential.clone(),
        kill: kill_tx,
        reply,
    };
    let placed = match asker.core.send(msg).await {
        Ok(()) => placed
            .await
            .unwrap_or(Err("the gateway is stopping".into())),
        Err(_) => Err("the gateway is stopping".into()),
    };
    if let Err(m) = placed {
        let _ = ws.send(error(ErrorCode::Unavailable, m)).await;
        let _ = ws.close(None).await;
        return;
    }
    let ended = tokio::select! {
        r = relay(&mut ws, ask, asker.region, cfg, stop) => r.err().map(|e| {
            tracing::warn!("rewind: {e:#}");
            (ErrorCode::Storage, format!("the rewind stopped: {e}"))
        }),
        why = &mut kill => Some((ErrorCode::Unauthorized, format!(
            "the rewind ended: {}", why.unwrap_or("the gateway stopped it")
        ))),
        _ = tokio::time::sleep(REWIND_LIMIT) => Some((ErrorCode::Timeout, format!(
            "a rewind runs {} minutes at most: ask again to go on", REWIND_LIMIT.as_secs() / 60
        ))),
    };
    if let Some((code, m)) = ended {
        let _ = ws.send(error(code, m)).await;
    }
    let _ = asker.core.send(CoreMsg::Leave { id: asker.id }).await;
    let _ = ws.close(None).await;
}

async fn relay(
    ws: &mut WebSocketStream<tls::Stream>,
    ask: RewindAsk,
    region: String,
    cfg: &GatewayConfig,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    let (dir, token) = super::config::replay_workspace()?;
    // Removed however the relay ends: at its end, or dropped by a revocation or the
    // time limit.
    let _remove = RemoveOnDrop(dir.clone());
    let source = ReplaySource {
        path: cfg.database.clone(),
        postgres: cfg.cluster.as_ref().map(|c| c.postgres.clone()),
        speed: ask.speed,
        from_ms: Some(ask.from_ms),
    };
    let mut rcfg = GatewayConfig::for_replay(source, dir.join("rewind.sqlite"), token.clone());
    rcfg.limits = cfg.limits.clone();
    let (addr, done) = private_gateway(rcfg);
    let addr = addr
        .await
        .map_err(|_| GatewayError::Rewind("the replay's gateway did not start".into()))??;
    let result = async {
        let hello = wire::hello(&token, None, Some(region).filter(|r| !r.is_empty()));
        let mut inner = wire::open(&format!("ws://{addr}"), None, &hello)
            .await
            .map_err(GatewayError::Rewind)?;
        loop {
            tokio::select! {
                m = inner.next() => match m {
                    Some(Ok(Message::Text(t))) => ws.send(Message::Text(t)).await.map_err(ws_err)?,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(GatewayError::Rewind(format!("the replay's feed: {e}"))),
                    None => return Ok(()),
                },
                m = ws.next() => match m {
                    Some(Ok(Message::Text(_))) => {
                        let m = "a rewind takes no commands: return to live to act".into();
                        ws.send(error(ErrorCode::Replay, m)).await.map_err(ws_err)?;
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                    Some(Ok(_)) => {}
                },
                _ = stop.changed() => return Ok(()),
            }
        }
    }
    .await;
    let _ = done.send(());
    result
}

/// A private folder removed when this is dropped.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Start a replay gateway on a thread and runtime of its own (a gateway's connection
/// cannot await a whole gateway's start inside its own task: the types would contain
/// themselves); returns where it listens, and the switch that stops it.
fn private_gateway(
    cfg: GatewayConfig,
) -> (
    oneshot::Receiver<Result<std::net::SocketAddr, GatewayError>>,
    oneshot::Sender<()>,
) {
    let (addr_tx, addr_rx) = oneshot::channel();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("yiping-rewind".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = addr_tx.send(Err(e.into()));
                    return;
                }
            };
            rt.block_on(async move {
                match super::start(cfg).await {
                    Ok(g) => {
                        let _ = addr_tx.send(Ok(g.ws_addr));
                        let _ = done_rx.await;
                        g.shutdown().await;
                    }
                    Err(e) => {
                        let _ = addr_tx.send(Err(e));
                    }
                }
            });
        });
    if let Err(e) = spawned {
        tracing::error!("rewind: no thread: {e}");
    }
    (addr_rx, done_tx)
}
