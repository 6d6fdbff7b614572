//! `POST /api/commands`: any command over HTTP, with its idempotency key and, from the
//! phone page, its field mark (position, the phone's time, photos). Decided like a
//! WebSocket command (`authorize`, the audit trail); a repeat of a key answers the first
//! outcome and changes nothing, so a phone's outbox may send again until it hears.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde::Deserialize;
use serde_json::json;

use super::super::web::{Http, HttpError, Peer, caller, read_body, refused_status, submit};
use protocol::{Command, CommandOutcome, ErrorCode, FieldMark};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Posted {
    key: String,
    command: Command,
    #[serde(default)]
    field: Option<FieldMark>,
}

pub async fn post(State(h): State<Http>, peer: Peer, headers: HeaderMap, body: Body) -> Response {
    match post_one(&h, peer, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn post_one(
    h: &Http,
    peer: Peer,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let who = caller(h, peer, headers, "a command").await?;
    let within = Duration::from_secs(h.cfg.limits.http_body_timeout_s);
    let body = read_body(body, h.cfg.limits.max_frame_bytes, within).await?;
    let bad = |m: String| HttpError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, m);
    let text = std::str::from_utf8(&body).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let value = protocol::decode::strict_value(text).map_err(bad)?;
    let mut posted: Posted = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    // 网格上报 from a phone comes with its position only: the grid layer places it.
    if let Command::Intake { ticket } = &mut posted.command
        && ticket.grid.is_empty()
        && let Some(grids) = &h.grids
    {
        match grids.locate(ticket.lon, ticket.lat) {
            Some(g) => ticket.grid = g.to_string(),
            None => {
                return Err(HttpError(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::OutOfRange,
                    format!(
                        "({}, {}) lies on none of the city's grids",
                        ticket.lon, ticket.lat
                    ),
                ));
            }
        }
    }
    if let Some(f) = &posted.field {
        for p in &f.photos {
            let stored = h.photos.exists(&p.id).await.map_err(|e| {
                HttpError(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Storage,
                    format!("photo store: {e}"),
                )
            })?;
            if !stored {
                return Err(HttpError(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::UnknownPhoto,
                    format!(
                        "no photo {} is stored: upload it first (POST /api/photos)",
                        p.id
                    ),
                ));
            }
        }
    }
    let mut request = who.request(posted.key, posted.command);
    request.field = posted.field;
    match submit(h, request).await? {
        CommandOutcome::Ok { seq, id } => {
            Ok((StatusCode::OK, Json(json!({ "seq": seq, "id": id }))).into_response())
        }
        CommandOutcome::Refused { code, message } => {
            Err(HttpError(refused_status(code), code, message))
        }
    }
}
