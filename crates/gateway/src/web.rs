//! What every HTTP handler shares (intake, Open311, CAP): the state, who is calling,
//! reading a body within its limits, handing a command to the core, an error answer.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::accounts::{Credential, Directory, Refused};
use super::config::GatewayConfig;
use super::conn::log_access;
use super::{CoreMsg, Status};
use protocol::{CommandOutcome, ErrorCode};

/// The address an HTTP request came from (its connection's peer): wrong tokens back off
/// by it. Put on each request by `http::serve`; a request made without a connection
/// (the router's own tests) comes from 0.0.0.0.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Peer, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Peer>()
            .copied()
            .unwrap_or(Peer(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct Http {
    pub cfg: Arc<GatewayConfig>,
    pub directory: Arc<Directory>,
    pub core: mpsc::Sender<CoreMsg>,
    pub status: Arc<Status>,
    pub epoch: String,
    /// The grid layer by position, for Open311 requests (`[area] grids`).
    pub grids: Option<Arc<gis::GridIndex>>,
    /// The city's names (the division layers beside `[area] grids`), to place a request
    /// that comes with an address and no position.
    pub gazetteer: Option<Arc<gis::Gazetteer>>,
    /// Photos from the field (`photos.rs`).
    pub photos: Arc<super::photos::Photos>,
    /// The WebSocket port (the phone page's live feed).
    pub ws_port: u16,
    /// The duty room's notifier (its key checks acknowledgement links).
    pub duty: crate::duty::Notifier,
    /// District and town names, for reports.
    pub names: std::sync::Arc<std::collections::HashMap<String, String>>,
}

impl Http {
    /// This port's own address as a URL base (`http://127.0.0.1:7401`), for links.
    pub fn base_url(&self) -> String {
        let scheme = if self.cfg.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.cfg.http_listen)
    }
}

pub(crate) fn error(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "code": code, "message": message.into() })),
    )
        .into_response()
}

/// Read a request body of at most `limit` bytes within `within`: the limit applies as the
/// bytes come, never after buffering them all.
pub(crate) async fn read_body(
    body: Body,
    limit: usize,
    within: Duration,
) -> Result<Bytes, HttpError> {
    match tokio::time::timeout(within, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(_)) => Err(HttpError(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("body over {limit} bytes"),
        )),
        Err(_) => Err(HttpError(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Timeout,
            format!("body not received within {} s", within.as_secs()),
        )),
    }
}

/// The HTTP status of a refused command, as PROTOCOL.md's error table gives it.
pub(crate) fn refused_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Storage | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// An error answer: status, code, what to fix.
pub(crate) struct HttpError(pub StatusCode, pub ErrorCode, pub String);

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        error(self.0, self.1, self.2)
    }
}

/// The `Idempotency-Key` header: absent, or 1-128 visible ASCII characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, HttpError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        _ => Err(HttpError(
            StatusCode::BAD_REQUEST,
            ErrorCode::Invalid,
            "Idempotency-Key must be 1-128 visible ASCII characters (letters, digits, punctuation)"
                .into(),
        )),
    }
}

/// Who is calling, from `Authorization: Bearer …`: any known credential (an unknown
/// token is refused and logged).
pub(crate) async fn reader(
    h: &Http,
    peer: Peer,
    headers: &HeaderMap,
    what: &str,
) -> Result<Credential, HttpError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match h.directory.authenticate(token, peer.0).await {
        Ok(who) => Ok(who),
        Err(Refused::Wait(d)) => Err(HttpError(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            Refused::Wait(d).message(),
        )),
        Err(Refused::Unknown) => {
            log_access(
                &h.core,
                &Directory::claimed(token),
                "refused",
                &format!("unknown token (HTTP {what}) from {}", peer.0),
            );
            Err(HttpError(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "send 'Authorization: Bearer <token>' with an account's token".into(),
            ))
        }
    }
}

/// Who is calling: a credential that may command.
pub(crate) async fn caller(
    h: &Http,
    peer: Peer,
    headers: &HeaderMap,
    what: &str,
) -> Result<Credential, HttpError> {
    let who = reader(h, peer, headers, what).await?;
    if !who.access.role.can_command() {
        return Err(HttpError(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!("{what} needs an operator token"),
        ));
    }
    Ok(who)
}

/// The answer when the core is gone (the gateway is shutting down).
pub(crate) fn stopping() -> HttpError {
    HttpError(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Stopping,
        "gateway is stopping".into(),
    )
}

/// Hand a command to the core and wait for its outcome.
pub(crate) async fn submit(h: &Http, request: store::Request) -> Result<CommandOutcome, HttpError> {
    let (tx, rx) = oneshot::channel();
    let msg = CoreMsg::Command {
        id: None,
        request: Box::new(request),
        reply: Some(tx),
    };
    h.core.send(msg).await.map_err(|_| stopping())?;
    rx.await.map(|a| a.outcome).map_err(|_| stopping())
}
