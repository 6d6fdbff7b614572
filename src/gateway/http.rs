//! HTTP on the gateway: `POST /api/tickets` (intake, validated, acknowledged once
//! durable) and `GET /healthz`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use super::config::{GatewayConfig, allowed};
use super::{CoreMsg, Status};
use crate::protocol::{Command, CommandOutcome, ErrorCode, NewTicket};
use crate::store::Request;

#[derive(Clone)]
struct Http {
    cfg: Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    status: Arc<Status>,
    epoch: String,
}

pub async fn serve(
    listener: TcpListener,
    cfg: Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    status: Arc<Status>,
    epoch: String,
    mut stop: watch::Receiver<bool>,
) {
    let state = Http {
        cfg,
        core,
        status,
        epoch,
    };
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/api/tickets", post(intake))
        .with_state(state);
    let shutdown = async move {
        let _ = stop.changed().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("http server: {e}");
    }
}

async fn healthz(State(h): State<Http>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "epoch": h.epoch,
        "seq": h.status.seq.load(Ordering::Relaxed),
        "clients": h.status.clients.load(Ordering::Relaxed),
        "cut_off": h.status.cut_off.load(Ordering::Relaxed),
    }))
}

fn error(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "code": code, "message": message.into() })),
    )
        .into_response()
}

async fn intake(State(h): State<Http>, headers: HeaderMap, body: Bytes) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(who) = h.cfg.token(token) else {
        return error(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "send 'Authorization: Bearer <token>' with a token from the gateway config",
        );
    };
    if let Err(why) = allowed(who.role, "intake") {
        return error(StatusCode::FORBIDDEN, ErrorCode::Forbidden, why);
    }
    if body.len() > h.cfg.limits.max_frame_bytes {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("body over {} bytes", h.cfg.limits.max_frame_bytes),
        );
    }
    let ticket: NewTicket = match serde_json::from_slice(&body) {
        Ok(t) => t,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadMessage,
                e.to_string(),
            );
        }
    };
    let key = match headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        Some(k) => k.to_string(),
        None => format!(
            "http-{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        ),
    };
    let (tx, rx) = oneshot::channel();
    let msg = CoreMsg::Command {
        id: None,
        request: Request {
            actor: who.name.clone(),
            key,
            command: Command::Intake { ticket },
        },
        reply: Some(tx),
    };
    if h.core.send(msg).await.is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Stopping,
            "gateway is stopping",
        );
    }
    match rx.await {
        Ok(CommandOutcome::Ok { seq, id }) => {
            (StatusCode::CREATED, Json(json!({ "id": id, "seq": seq }))).into_response()
        }
        Ok(CommandOutcome::Refused { code, message }) => {
            let status = if code == ErrorCode::Storage {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            error(status, code, message)
        }
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Stopping,
            "gateway is stopping",
        ),
    }
}
