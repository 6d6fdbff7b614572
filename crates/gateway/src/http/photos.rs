//! `POST /api/photos` (a photo from the field, checked, re-encoded and stored under its
//! hash) and `GET /api/photos/{id}?ticket=N[&thumb=1]` (served to its uploader, and to a
//! credential whose scope covers ticket N when N names it).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;
use tokio::sync::oneshot;

use super::super::CoreMsg;
use super::super::web::{Http, HttpError, Peer, caller, read_body, reader, stopping};
use domain::access::Role;
use protocol::{ErrorCode, Ticket};

pub async fn upload(State(h): State<Http>, peer: Peer, headers: HeaderMap, body: Body) -> Response {
    match upload_one(&h, peer, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn upload_one(
    h: &Http,
    peer: Peer,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let who = caller(h, peer, headers, "a photo upload").await?;
    let within = Duration::from_secs(h.cfg.limits.http_body_timeout_s);
    let bytes = read_body(body, h.cfg.limits.max_photo_bytes, within).await?;
    let max_pixels = h.cfg.limits.max_photo_pixels;
    // Decoding and encoding take tens of milliseconds: off the runtime's threads.
    let photo =
        tokio::task::spawn_blocking(move || super::super::photos::ingest(&bytes, max_pixels))
            .await
            .map_err(|e| internal(format!("photo task: {e}")))?
            .map_err(|r| {
                let status = match r.0 {
                    ErrorCode::ImageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                };
                HttpError(status, r.0, r.1)
            })?;
    h.photos.put(&photo).await.map_err(|e| {
        tracing::error!("a photo not stored: {e}");
        HttpError(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Storage,
            "not stored (in the gateway's log): send it again".into(),
        )
    })?;
    h.photos.uploaded(&photo.id, &who.id);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": photo.id,
            "width": photo.width,
            "height": photo.height,
            "bytes": photo.jpeg.len(),
        })),
    )
        .into_response())
}

fn internal(m: String) -> HttpError {
    HttpError(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Storage, m)
}

/// The query: which ticket names the photo, and whether the thumbnail is wanted.
#[derive(Default)]
pub struct Which {
    ticket: Option<u64>,
    thumb: bool,
}

impl Which {
    fn parse(q: Option<&str>) -> Result<Which, HttpError> {
        let mut w = Which::default();
        for (k, v) in form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
            match &*k {
                "ticket" => {
                    w.ticket = Some(v.parse().map_err(|_| {
                        HttpError(
                            StatusCode::BAD_REQUEST,
                            ErrorCode::Invalid,
                            format!("ticket={v}: a ticket number"),
                        )
                    })?)
                }
                "thumb" => w.thumb = v == "1",
                _ => {}
            }
        }
        Ok(w)
    }
}

pub async fn serve(
    State(h): State<Http>,
    peer: Peer,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let which = match Which::parse(q.as_deref()) {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    match serve_one(&h, peer, &headers, &id, which).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn serve_one(
    h: &Http,
    peer: Peer,
    headers: &HeaderMap,
    id: &str,
    which: Which,
) -> Result<Response, HttpError> {
    let who = reader(h, peer, headers, "a photo").await?;
    let id = id.strip_suffix(".jpg").unwrap_or(id);
    if !protocol::is_photo_id(id) {
        return Err(HttpError(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownPhoto,
            "a photo id is 64 hex digits".into(),
        ));
    }
    let mine = h.photos.uploaded_by(id, &who.id);
    if !mine {
        let Some(n) = which.ticket else {
            return Err(HttpError(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "name the ticket the photo belongs to (?ticket=N)".into(),
            ));
        };
        let t = ticket(h, n, &who.access.region).await?;
        let visible = t.as_ref().is_some_and(|t| {
            who.access.role != Role::Unit || t.unit.is_some() && t.unit == who.access.unit
        });
        if !visible {
            return Err(HttpError(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                format!("ticket {n} is outside this credential's scope"),
            ));
        }
        if !t.is_some_and(|t| t.work.photos.iter().any(|p| p.id == id)) {
            return Err(HttpError(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownPhoto,
                format!("ticket {n} has no photo {id}"),
            ));
        }
    }
    let bytes = h
        .photos
        .get(id, which.thumb)
        .await
        .map_err(|e| internal(format!("photo store: {e}")))?
        .ok_or_else(|| {
            HttpError(
                StatusCode::NOT_FOUND,
                ErrorCode::UnknownPhoto,
                format!("no photo {id} is stored here"),
            )
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            // Its name is its content's hash: it never changes.
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Ticket `n` (live or archived) if it lies in `region`.
async fn ticket(h: &Http, n: u64, region: &str) -> Result<Option<Ticket>, HttpError> {
    let (tx, rx) = oneshot::channel();
    let ask = CoreMsg::Tickets {
        ids: Some(vec![n]),
        region: region.to_string(),
        created: (i64::MIN, i64::MAX),
        reply: tx,
    };
    h.core.send(ask).await.map_err(|_| stopping())?;
    Ok(rx.await.map_err(|_| stopping())?.into_iter().next())
}
