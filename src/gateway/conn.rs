//! One WebSocket connection: the hello, then a reader that turns frames into core
//! requests and a writer that drains the client's bounded outbox onto the socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::CoreMsg;
use super::config::{GatewayConfig, TokenConfig, allowed};
use crate::protocol::{ClientMsg, ErrorCode, Hello, PROTOCOL_VERSION, ServerMsg};
use crate::store::Request;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub fn ws_config(cfg: &GatewayConfig) -> WebSocketConfig {
    // A small read buffer: tungstenite zero-fills it before every read (measured: 26% of a
    // busy client's CPU at 128 KiB, 3% at 8 KiB).
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .max_message_size(Some(cfg.limits.hard_frame_bytes))
        .max_frame_size(Some(cfg.limits.hard_frame_bytes))
}

pub async fn accept_loop(
    listener: TcpListener,
    cfg: Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve(stream, peer.to_string(), cfg.clone(), core.clone(), stop.clone()));
                }
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

fn error_frame(code: ErrorCode, message: impl Into<String>) -> Message {
    let msg = ServerMsg::Error {
        code,
        message: message.into(),
    };
    Message::Text(serde_json::to_string(&msg).unwrap_or_default().into())
}

async fn refuse(mut ws: WebSocketStream<TcpStream>, code: ErrorCode, message: String) {
    let _ = ws.send(error_frame(code, message.clone())).await;
    let _ = ws
        .close(Some(CloseFrame {
            code: CloseCode::Policy,
            reason: code.as_str().into(),
        }))
        .await;
}

async fn serve(
    stream: TcpStream,
    peer: String,
    cfg: Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ws =
        match tokio_tungstenite::accept_async_with_config(stream, Some(ws_config(&cfg))).await {
            Ok(ws) => ws,
            Err(e) => {
                tracing::debug!(%peer, "handshake failed: {e}");
                return;
            }
        };
    let timeout = Duration::from_secs(cfg.limits.hello_timeout_s);
    let first = match tokio::time::timeout(timeout, ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(_))) => {
            return refuse(
                ws,
                ErrorCode::HelloFirst,
                "the first frame must be a JSON hello".into(),
            )
            .await;
        }
        Ok(_) => return,
        Err(_) => {
            return refuse(
                ws,
                ErrorCode::HelloTimeout,
                "no hello within the time limit".into(),
            )
            .await;
        }
    };
    let hello = match serde_json::from_str::<ClientMsg>(&first) {
        Ok(ClientMsg::Hello(h)) => h,
        Ok(_) => {
            return refuse(
                ws,
                ErrorCode::HelloFirst,
                "the first frame must be a hello".into(),
            )
            .await;
        }
        Err(e) => {
            return refuse(
                ws,
                ErrorCode::BadHello,
                format!("hello does not parse: {e}"),
            )
            .await;
        }
    };
    if hello.protocol != PROTOCOL_VERSION {
        let m = format!(
            "this gateway speaks protocol {PROTOCOL_VERSION}, the client {}: upgrade the older side",
            hello.protocol
        );
        return refuse(ws, ErrorCode::Version, m).await;
    }
    let Some(who) = cfg.token(&hello.token).cloned() else {
        return refuse(ws, ErrorCode::Unauthorized, "unknown token".into()).await;
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    tracing::info!(client = id, %peer, name = %who.name, role = ?who.role, "client joined");
    session(ws, id, hello, who, cfg, core, &mut stop).await;
    tracing::info!(client = id, "client left");
}

async fn session(
    ws: WebSocketStream<TcpStream>,
    id: u64,
    hello: Hello,
    who: TokenConfig,
    cfg: Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    stop: &mut watch::Receiver<bool>,
) {
    let (outbox_tx, mut outbox) = mpsc::channel::<Utf8Bytes>(cfg.limits.outbox);
    let (kill_tx, mut kill) = oneshot::channel::<&'static str>();
    let join = CoreMsg::Join {
        id,
        region: hello.region.unwrap_or_default(),
        resume: hello.resume_from,
        outbox: outbox_tx.clone(),
        kill: kill_tx,
    };
    if core.send(join).await.is_err() {
        return;
    }
    let (mut sink, mut stream) = ws.split();

    let writer = async move {
        let mut buf = Vec::with_capacity(64);
        let why = loop {
            tokio::select! {
                biased;
                why = &mut kill => break why.unwrap_or("closed"),
                n = outbox.recv_many(&mut buf, 64) => {
                    if n == 0 { return; }
                    let write = async {
                        for f in buf.drain(..) {
                            sink.feed(Message::Text(f)).await?;
                        }
                        sink.flush().await
                    };
                    // A client that stops reading blocks the write: the kill must still
                    // get through.
                    tokio::select! {
                        biased;
                        why = &mut kill => break why.unwrap_or("closed"),
                        r = write => if r.is_err() { return; },
                    }
                    buf.clear();
                }
            }
        };
        let send = async {
            let _ = sink.send(error_frame(ErrorCode::CutOff, why)).await;
            let _ = sink.close().await;
        };
        // A client that stops reading may never take the close frame either.
        let _ = tokio::time::timeout(Duration::from_secs(1), send).await;
    };

    let max = cfg.limits.max_frame_bytes;
    let reader = async {
        while let Some(frame) = stream.next().await {
            let text = match frame {
                Ok(Message::Text(t)) => t,
                Ok(Message::Binary(_)) => {
                    reply_error(
                        &outbox_tx,
                        ErrorCode::Binary,
                        "send JSON text frames, not binary",
                    );
                    continue;
                }
                Ok(Message::Close(_)) | Err(_) => return,
                Ok(_) => continue,
            };
            if text.len() > max {
                reply_error(
                    &outbox_tx,
                    ErrorCode::TooLarge,
                    format!("frame of {} bytes is over the {max}-byte limit", text.len()),
                );
                continue;
            }
            let msg = match serde_json::from_str::<ClientMsg>(&text) {
                Ok(m) => m,
                Err(e) => {
                    reply_error(&outbox_tx, ErrorCode::BadMessage, format!("{e}"));
                    continue;
                }
            };
            let req = match msg {
                ClientMsg::Hello(_) => {
                    reply_error(
                        &outbox_tx,
                        ErrorCode::HelloTwice,
                        "this connection has said hello",
                    );
                    continue;
                }
                ClientMsg::AuditQuery { ticket } => CoreMsg::Audit { id, ticket },
                ClientMsg::Command { key, command } => {
                    if let Err(why) = allowed(who.role, command.name()) {
                        let msg = ServerMsg::CommandResult {
                            key,
                            outcome: crate::protocol::CommandOutcome::Refused {
                                code: ErrorCode::Forbidden,
                                message: why,
                            },
                        };
                        let _ = outbox_tx
                            .try_send(serde_json::to_string(&msg).unwrap_or_default().into());
                        continue;
                    }
                    CoreMsg::Command {
                        id: Some(id),
                        request: Request {
                            actor: who.name.clone(),
                            key,
                            command,
                        },
                        reply: None,
                    }
                }
            };
            if core.send(req).await.is_err() {
                return;
            }
        }
    };

    tokio::select! {
        _ = writer => {}
        _ = reader => {}
        _ = stop.changed() => {}
    }
    let _ = core.send(CoreMsg::Leave { id }).await;
}

fn reply_error(outbox: &mpsc::Sender<Utf8Bytes>, code: ErrorCode, message: impl Into<String>) {
    let msg = ServerMsg::Error {
        code,
        message: message.into(),
    };
    if let Ok(s) = serde_json::to_string(&msg) {
        // A client whose outbox is full is about to be cut off anyway.
        let _ = outbox.try_send(s.into());
    }
}
