//! One WebSocket connection: the hello, then a reader that turns frames into core
//! requests and a writer that drains the client's bounded outbox onto the socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::CoreMsg;
use super::accounts::{Credential, Directory, Refused};
use super::admission::{Gate, Pass};
use super::config::GatewayConfig;
use super::tls;
use protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, Resume, ServerMsg, decode};
use store::accounts::entry;
use tokio_rustls::TlsAcceptor;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub fn ws_config(cfg: &GatewayConfig) -> WebSocketConfig {
    // A small read buffer: tungstenite zero-fills it before every read (measured: 26% of a
    // busy client's CPU at 128 KiB, 3% at 8 KiB), and every connection holds one (15,000
    // phones: 120 MB at 8 KiB). Clients send hellos and commands, rarely a frame of 4 KiB.
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(cfg.limits.hard_frame_bytes))
        .max_frame_size(Some(cfg.limits.hard_frame_bytes))
}

pub async fn accept_loop(
    listener: TcpListener,
    cfg: Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    mut stop: watch::Receiver<bool>,
    gate: Gate,
    (directory, tls): (Arc<Directory>, Option<TlsAcceptor>),
) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    // A place before the hello, taken at once: a full gate closes its
                    // oldest connection rather than refuse this one.
                    let pass = gate.enter();
                    let conn = Conn {
                        peer,
                        cfg: cfg.clone(),
                        core: core.clone(),
                        directory: directory.clone(),
                        tls: tls.clone(),
                    };
                    tokio::spawn(serve(stream, conn, stop.clone(), pass));
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

/// Send an error, then close with `close` (RFC 6455 §7.4.1) and the code as the reason.
async fn refuse(mut ws: Ws, code: ErrorCode, message: String, close: CloseCode) {
    let _ = ws.send(error_frame(code, message)).await;
    let frame = CloseFrame {
        code: close,
        reason: code.as_str().into(),
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, ws.close(Some(frame))).await;
}

/// How long a closing handshake may take before the socket is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

type Ws = WebSocketStream<tls::Stream>;

/// The way to an accepted hello: the upgrade, then the hello, within one deadline
/// (`hello_timeout_s` from the moment the connection was accepted).
/// What a connection's task is handed.
struct Conn {
    peer: std::net::SocketAddr,
    cfg: Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    directory: Arc<Directory>,
    tls: Option<TlsAcceptor>,
}

async fn serve(stream: TcpStream, conn: Conn, mut stop: watch::Receiver<bool>, mut pass: Pass) {
    let Conn {
        peer,
        cfg,
        core,
        directory,
        tls,
    } = conn;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(cfg.limits.hello_timeout_s);
    let upgrade = async {
        let stream = tls::accept(stream, tls.as_ref())
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        tokio_tungstenite::accept_async_with_config(stream, Some(ws_config(&cfg)))
            .await
            .map_err(|e| e.to_string())
    };
    let mut ws = tokio::select! {
        r = tokio::time::timeout_at(deadline, upgrade) => match r {
            Ok(Ok(ws)) => ws,
            Ok(Err(e)) => {
                tracing::debug!(%peer, "upgrade failed: {e}");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "no WebSocket upgrade within the time limit: closed");
                return;
            }
        },
        _ = &mut pass.evicted => return,
        _ = stop.changed() => return,
    };
    let first = tokio::select! {
        r = tokio::time::timeout_at(deadline, ws.next()) => r,
        _ = &mut pass.evicted => {
            let m = "too many connections waiting to say hello: send the hello at once".into();
            return refuse(ws, ErrorCode::HelloTimeout, m, CloseCode::Again).await;
        }
        _ = stop.changed() => return,
    };
    let first = match first {
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(_))) => {
            let m = "the first frame must be a JSON hello".into();
            return refuse(ws, ErrorCode::HelloFirst, m, CloseCode::Policy).await;
        }
        Ok(Some(Err(e))) => return close_on_error(ws, &e).await,
        Ok(None) => return,
        Err(_) => {
            let m = "no hello within the time limit".into();
            return refuse(ws, ErrorCode::HelloTimeout, m, CloseCode::Policy).await;
        }
    };
    // A hello is held to the frame limit like any frame, before it is parsed.
    if first.len() > cfg.limits.max_frame_bytes {
        let m = format!(
            "hello of {} bytes is over the {}-byte limit",
            first.len(),
            cfg.limits.max_frame_bytes
        );
        return refuse(ws, ErrorCode::TooLarge, m, CloseCode::Size).await;
    }
    let hello = match decode::client_msg(&first) {
        Ok(ClientMsg::Hello(h)) => h,
        Ok(_) => {
            let m = "the first frame must be a hello".into();
            return refuse(ws, ErrorCode::HelloFirst, m, CloseCode::Policy).await;
        }
        Err(e) => {
            let m = format!("hello does not parse: {e}");
            return refuse(ws, ErrorCode::BadHello, m, CloseCode::Policy).await;
        }
    };
    if hello.protocol != PROTOCOL_VERSION {
        let m = format!(
            "this gateway speaks protocol {PROTOCOL_VERSION}, the client {}: upgrade the older side",
            hello.protocol
        );
        return refuse(ws, ErrorCode::Version, m, CloseCode::Policy).await;
    }
    let who = match directory.authenticate(&hello.token, peer.ip()).await {
        Ok(who) => who,
        Err(r @ Refused::Wait(_)) => {
            return refuse(ws, ErrorCode::RateLimited, r.message(), CloseCode::Again).await;
        }
        Err(r @ Refused::Unknown) => {
            log_access(
                &core,
                &Directory::claimed(&hello.token),
                "refused",
                &format!("unknown token from {peer}"),
            );
            return refuse(ws, ErrorCode::Unauthorized, r.message(), CloseCode::Policy).await;
        }
    };
    let region = match who.access.feed_region(hello.region.as_deref()) {
        Ok(r) => r,
        Err(r) => {
            log_access(&core, &who.id, "refused", &r.message);
            return refuse(ws, ErrorCode::Forbidden, r.message, CloseCode::Policy).await;
        }
    };
    // Accepted: the place before the hello is free for the next one.
    drop(pass);
    if let Some(ask) = hello.rewind {
        if let Err(m) = super::rewind::check(&ask) {
            return refuse(ws, ErrorCode::BadHello, m, CloseCode::Policy).await;
        }
        log_access(
            &core,
            &who.id,
            "rewind",
            &format!("from {} x{}, {peer}", ask.from_ms, ask.speed),
        );
        tracing::info!(%peer, name = %who.name, from_ms = ask.from_ms, "rewind");
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let asker = super::rewind::Asker {
            id,
            credential: who.id.clone(),
            region,
            core: core.clone(),
        };
        return super::rewind::serve(ws, ask, asker, &cfg, &mut stop).await;
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    tracing::info!(client = id, %peer, name = %who.name, role = who.access.role.as_str(), %region, "client joined");
    log_access(
        &core,
        &who.id,
        "login",
        &format!(
            "{} from {peer}, region '{region}'",
            who.access.role.as_str()
        ),
    );
    let opened = Opened {
        id,
        region,
        resume: hello.resume_from,
        encoding: hello.encoding,
        who,
    };
    session(ws, opened, cfg, core, &mut stop).await;
    tracing::info!(client = id, "client left");
}

/// A session that said an accepted hello.
struct Opened {
    id: u64,
    /// The region its feed is scoped to (its credential's, or narrower).
    region: String,
    resume: Option<Resume>,
    encoding: protocol::compact::Encoding,
    who: Credential,
}

/// Put a line in the access log (the core writes them once a second, together).
pub(super) fn log_access(core: &mpsc::Sender<CoreMsg>, account: &str, event: &str, detail: &str) {
    let e = entry(domain::time::now_ms(), account, event, detail);
    // A full core queue drops a log line rather than wait: logins are logged by tracing
    // too.
    let _ = core.try_send(CoreMsg::Access(e));
}

/// The close code for a read error (RFC 6455 §7.4.1): 1007 for text that is not UTF-8,
/// 1009 for a message over the limit, 1002 for any other protocol violation; `None` when
/// the connection is gone already.
fn close_code(e: &WsError) -> Option<(CloseCode, &'static str)> {
    match e {
        WsError::Utf8(_) => Some((CloseCode::Invalid, "text frame is not UTF-8")),
        WsError::Capacity(_) => Some((CloseCode::Size, "message too large")),
        WsError::Protocol(_) => Some((CloseCode::Protocol, "protocol violation")),
        _ => None,
    }
}

async fn close_on_error(mut ws: Ws, e: &WsError) {
    if let Some((code, reason)) = close_code(e) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, ws.close(Some(frame))).await;
    }
}

async fn session(
    ws: Ws,
    opened: Opened,
    cfg: Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    stop: &mut watch::Receiver<bool>,
) {
    let Opened {
        id,
        region,
        resume,
        encoding,
        who,
    } = opened;
    // The audit queries' scope: the feed's own, carried with each query so the core
    // never has to find the connection (a join held while a node catches up is in no
    // list of joined clients).
    let scope = region.clone();
    let (outbox_tx, mut outbox) = mpsc::channel::<Utf8Bytes>(cfg.limits.outbox);
    let (kill_tx, mut kill) = oneshot::channel::<&'static str>();
    let (snap_tx, snap_rx) = oneshot::channel();
    // A unit's credential (a unit's or a grid worker's phone) watches its own tickets.
    let unit = match who.access.role {
        domain::access::Role::Unit => who.access.unit.clone(),
        _ => None,
    };
    let join = CoreMsg::Join {
        id,
        region,
        unit,
        credential: who.id.clone(),
        role: who.access.role,
        resume,
        outbox: outbox_tx.clone(),
        kill: kill_tx,
        snapshot: super::snapshot::Ask {
            encoding,
            reply: snap_tx,
        },
    };
    if core.send(join).await.is_err() {
        return;
    }
    let (sink, mut stream) = ws.split();
    // Held by the bulk thread while the snapshot goes out (`bulk`), then by the writer,
    // then by the close below.
    let sink = Arc::new(tokio::sync::Mutex::new(sink));
    // How the reader ended: the peer closed, or broke the protocol (with the close code).
    let mut ended: Option<(CloseCode, &'static str)> = None;

    let writer = async {
        let mut buf = Vec::with_capacity(64);
        // The snapshot first, when the core has one built for this client (it drops the
        // ask when the client resumes instead); the outbox holds what came after it.
        let snapshot = async {
            let Ok(mut built) = snap_rx.await else {
                return Ok(());
            };
            let frames = match built.wait_for(|f| f.is_some()).await {
                Ok(f) => f.clone().unwrap_or_default(),
                Err(_) => return Err(()),
            };
            let mut held = sink.clone().lock_owned().await;
            // Dropped with this future (a kill, or the reader ending): the bulk thread
            // stops at the next part and lets go of the socket for the close.
            let (_going_on, stopped) = oneshot::channel::<()>();
            super::bulk::run(async move {
                tokio::select! {
                    biased;
                    _ = stopped => Err(()),
                    sent = send_all(&mut held, &frames) => sent,
                }
            })
            .await
            .map_err(|_| ())?
        };
        let why = tokio::select! {
            biased;
            why = &mut kill => Some(why.unwrap_or("closed")),
            r = snapshot => match r {
                Ok(()) => None,
                Err(()) => return,
            },
        };
        let mut sink = sink.lock().await;
        let why = if let Some(why) = why {
            why
        } else {
            loop {
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
            }
        };
        let send = async {
            let _ = sink.send(error_frame(ErrorCode::CutOff, why)).await;
            let frame = CloseFrame {
                code: CloseCode::Policy,
                reason: ErrorCode::CutOff.as_str().into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
        };
        // A client that stops reading may never take the close frame either.
        let _ = tokio::time::timeout(CLOSE_WAIT, send).await;
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
                // The peer's close: the WebSocket layer queued the answer; it is sent below.
                Ok(Message::Close(_)) => return Some((CloseCode::Normal, "")),
                Err(e) => return close_code(&e),
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
            let msg = match decode::client_msg(&text) {
                Ok(m) => m,
                Err(e) => {
                    reply_error(&outbox_tx, ErrorCode::BadMessage, e);
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
                ClientMsg::AuditQuery { ticket } => CoreMsg::Audit {
                    id,
                    ticket,
                    region: scope.clone(),
                },
                ClientMsg::Command { key, command } => CoreMsg::Command {
                    id: Some(id),
                    request: Box::new(who.request(key, command)),
                    reply: None,
                },
            };
            if core.send(req).await.is_err() {
                return None;
            }
        }
        None
    };

    tokio::select! {
        _ = writer => {}
        e = reader => ended = e,
        _ = stop.changed() => ended = Some((CloseCode::Away, "gateway shutting down")),
    }
    let _ = core.send(CoreMsg::Leave { id }).await;
    if let Some((code, reason)) = ended {
        // Answer the peer's close (its reply is queued: a flush sends it), or close with
        // the code that says what it broke.
        let close = async {
            let mut sink = sink.lock().await;
            if code == CloseCode::Normal {
                let _ = sink.flush().await;
            } else {
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                let _ = sink.send(Message::Close(Some(frame))).await;
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, close).await;
    }
}

/// A snapshot's frames onto the socket, each part its own turn: the thread's other
/// sends get in between parts, not after the whole snapshot.
async fn send_all(sink: &mut SplitSink<Ws, Message>, frames: &[Message]) -> Result<(), ()> {
    for f in frames {
        sink.feed(f.clone()).await.map_err(|_| ())?;
        tokio::task::yield_now().await;
    }
    sink.flush().await.map_err(|_| ())
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
