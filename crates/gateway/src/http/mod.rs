//! HTTP on the gateway: `POST /api/tickets` (intake, validated, acknowledged once
//! durable) and `GET /healthz`.

use std::sync::atomic::Ordering;

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tower::Layer;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

use super::CoreMsg;
use super::admission::Gate;
pub use super::web::Http;
use super::web::{HttpError, Peer, caller, idempotency_key, read_body, refused_status, submit};
use protocol::{Command, CommandOutcome, ErrorCode, NewTicket};
use tokio_rustls::TlsAcceptor;

/// Every HTTP endpoint of the gateway, on `state`: built once and shared by every
/// connection. A new endpoint is a `.route` here and a handler beside its kind (intake
/// here, Open311 in `open311.rs`, CAP in `cap.rs`/`cap_in.rs`). Tests drive it without a
/// socket where a socket adds nothing.
pub fn router(state: Http) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/tickets", post(intake))
        .route("/api/tickets/batch", post(intake_batch))
        .route("/api/commands", post(commands::post))
        .route("/api/photos", post(photos::upload))
        .route("/api/photos/{id}", get(photos::serve))
        // The duty room (`duty.rs`).
        .route("/api/duty", get(duty::get_duty))
        .route("/api/roster", post(duty::post_roster))
        .route("/api/reports/{kind}", get(duty::get_report))
        .route("/duty/ack", get(duty::ack_page).post(duty::ack_post))
        // The phone page of units and grid workers (`phone.rs`).
        .route("/m", get(super::phone::index))
        .route("/m/", get(super::phone::index))
        .route("/m/config.json", get(super::phone::config))
        .route("/m/me", get(super::phone::me))
        .route("/m/{file}", get(super::phone::file))
        // Bodies are read by the handlers themselves, after the token and within
        // `http_body_timeout_s` and their size limit (`web::read_body`).
        .route(
            "/open311/v2/{*path}",
            get(super::open311::v2).post(super::open311::v2),
        )
        .route("/open311/{file}", get(super::open311::discovery))
        .route("/cap/alerts", post(super::cap::take))
        .route("/cap/{*path}", get(super::cap::serve))
        .with_state(state)
}

pub async fn serve(
    listener: TcpListener,
    state: Http,
    mut stop: watch::Receiver<bool>,
    (gate, tls): (Gate, Option<TlsAcceptor>),
) {
    let header_timeout = Duration::from_secs(state.cfg.limits.http_header_timeout_s);
    let app = router(state);
    // Each connection on its own: hyper closes one whose request head does not arrive
    // within `http_header_timeout_s` (an idle keep-alive connection too, since the
    // timer runs whenever a head is awaited), and the gate closes the oldest when full.
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("http accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let mut pass = gate.enter();
        // The peer's address goes on each of its requests: wrong tokens back off by it.
        let service = TowerToHyperService::new(Extension(Peer(peer.ip())).layer(app.clone()));
        let mut stop = stop.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            // The TLS handshake gets the head's time limit too.
            let stream = match tokio::time::timeout(
                header_timeout,
                super::tls::accept(stream, tls.as_ref()),
            )
            .await
            {
                Ok(Ok(s)) => s,
                _ => return,
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => if let Err(e) = r {
                    tracing::debug!(%peer, "http connection: {e}");
                },
                _ = &mut pass.evicted => tracing::debug!(%peer, "http connection closed: the gate needed its place"),
                _ = stop.changed() => conn.as_mut().graceful_shutdown(),
            }
        });
    }
}

/// The Prometheus text format, version 0.0.4. Aggregate figures only, no ticket or person:
/// like `/healthz`, it asks for no token (a site keeps its HTTP port on the center's
/// network, or behind TLS).
async fn metrics(State(h): State<Http>) -> Response {
    // The core sets the state gauges for this scrape (a busy or stopping core: the last
    // values stand).
    let (tx, rx) = oneshot::channel();
    if h.core.send(CoreMsg::Gauges(tx)).await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(1), rx).await;
    }
    let mut text = h.status.metrics.render(
        h.status.seq.load(Ordering::Relaxed),
        h.status.cut_off.load(Ordering::Relaxed),
    );
    if let Some(c) = &h.cfg.cluster {
        let writer = u8::from(h.status.writer.load(Ordering::Relaxed));
        text.push_str(&format!(
            "# HELP yiping_cluster_writer Whether this cluster node holds the writer's lease.\n\
             # TYPE yiping_cluster_writer gauge\nyiping_cluster_writer{{node=\"{}\"}} {writer}\n",
            c.node.replace(['\\', '"', '\n'], "_")
        ));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `/healthz`: answers anyone (a load balancer, a site's monitor) with what is not a
/// secret; the epoch, which names the log's NATS subjects, only to a known token.
async fn healthz(State(h): State<Http>, peer: Peer, headers: HeaderMap) -> Json<serde_json::Value> {
    let known = headers.contains_key("authorization")
        && super::web::reader(&h, peer, &headers, "health")
            .await
            .is_ok();
    Json(json!({
        "status": "ok",
        "epoch": known.then_some(h.epoch.as_str()),
        "seq": h.status.seq.load(Ordering::Relaxed),
        "clients": h.status.clients.load(Ordering::Relaxed),
        "cut_off": h.status.cut_off.load(Ordering::Relaxed),
        "node": h.cfg.cluster.as_ref().map(|c| c.node.as_str()),
        "role": match &h.cfg.cluster {
            None => "standalone",
            Some(_) if h.status.writer.load(Ordering::Relaxed) => "writer",
            Some(_) => "follower",
        },
    }))
}

async fn intake(State(h): State<Http>, peer: Peer, headers: HeaderMap, body: Body) -> Response {
    match intake_one(&h, peer, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn intake_one(
    h: &Http,
    peer: Peer,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let who = caller(h, peer, headers, "intake").await?;
    let key = idempotency_key(headers)?;
    // Only now, with the caller known, is the body read.
    let within = Duration::from_secs(h.cfg.limits.http_body_timeout_s);
    let body = read_body(body, h.cfg.limits.max_frame_bytes, within).await?;
    let ticket: NewTicket = serde_json::from_slice(&body).map_err(|e| {
        HttpError(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadMessage,
            e.to_string(),
        )
    })?;
    let key = key.unwrap_or_else(|| {
        format!(
            "http-{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        )
    });
    match submit(h, who.request(key, Command::Intake { ticket })).await? {
        CommandOutcome::Ok { seq, id } => {
            Ok((StatusCode::CREATED, Json(json!({ "id": id, "seq": seq }))).into_response())
        }
        CommandOutcome::Refused { code, message } => {
            Err(HttpError(refused_status(code), code, message))
        }
    }
}

/// `POST /api/tickets/batch`: JSON Lines, one `{"source_id", "ticket"}` a line, from
/// another system (a hotline's export). Idempotent on the source system's id: a line
/// posted again is a repeat, not a second ticket. Each ticket is taken in whole or not at
/// all; the answer counts them and says, line by line, what was refused and why.
async fn intake_batch(
    State(h): State<Http>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let run = async {
        let who = caller(&h, peer, &headers, "batch intake").await?;
        let within = Duration::from_secs(h.cfg.limits.http_body_timeout_s);
        let body = read_body(body, h.cfg.limits.max_batch_bytes, within).await?;
        let csv = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
        let parse = if csv {
            super::batch::parse_csv
        } else {
            super::batch::parse
        };
        let lines = parse(&body, super::batch::MAX_LINES)
            .map_err(|e| HttpError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, e))?;
        let mut report = super::batch::Report::default();
        // Every line to the core at once: it commits them in its batches (one fsync for
        // many), each ticket whole or not at all.
        let mut pending = Vec::new();
        for line in lines {
            match line {
                Ok((n, source_id, ticket)) => {
                    let request =
                        who.request(format!("source:{source_id}"), Command::Intake { ticket });
                    let (tx, rx) = oneshot::channel();
                    let msg = CoreMsg::Command {
                        id: None,
                        request: Box::new(request),
                        reply: Some(tx),
                    };
                    if h.core.send(msg).await.is_err() {
                        return Err(super::web::stopping());
                    }
                    pending.push((n, source_id, rx));
                }
                Err((n, message)) => report.refuse(n, None, ErrorCode::BadMessage, message),
            }
        }
        for (n, source_id, rx) in pending {
            match rx.await {
                Ok(a) => report.outcome(n, source_id, a.outcome, a.fresh),
                Err(_) => report.refuse(
                    n,
                    Some(source_id),
                    ErrorCode::Stopping,
                    "gateway is stopping".into(),
                ),
            }
        }
        Ok::<_, HttpError>(Json(report.finish()).into_response())
    };
    match run.await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

mod commands;
mod duty;
mod photos;
#[cfg(test)]
mod tests;
