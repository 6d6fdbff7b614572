//! The phone page of units and grid workers (`/m/`): static files embedded in the binary
//! (no build step on a site, nothing fetched from elsewhere), the address of the live
//! feed (`/m/config.json`), and who a token is (`/m/me`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;

use super::web::{Http, Peer, reader};

/// The page's files: name, type, bytes. The service worker's cache list names the same.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../phone/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../phone/app.js"),
    ),
    (
        "outbox.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../phone/outbox.js"),
    ),
    (
        "photo.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../phone/photo.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../phone/app.css"),
    ),
    (
        "sw.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../phone/sw.js"),
    ),
    (
        "manifest.webmanifest",
        "application/manifest+json",
        include_bytes!("../phone/manifest.webmanifest"),
    ),
    (
        "icon-192.png",
        "image/png",
        include_bytes!("../phone/icon-192.png"),
    ),
    (
        "icon-512.png",
        "image/png",
        include_bytes!("../phone/icon-512.png"),
    ),
];

fn send(name: &str) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                // The service worker decides what is kept; the browser asks each time.
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

pub async fn index() -> Response {
    send("index.html")
}

pub async fn file(Path(name): Path<String>) -> Response {
    let mut r = send(&name);
    if name == "sw.js" {
        // The worker controls the whole page under /m/.
        r.headers_mut().insert(
            "service-worker-allowed",
            header::HeaderValue::from_static("/m/"),
        );
    }
    r
}

/// Where the live feed is: the WebSocket port on the host the page was loaded from.
pub async fn config(State(h): State<Http>, headers: HeaderMap) -> Json<serde_json::Value> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    // "[::1]:7401" and "example:7401" alike: the name without the port.
    let name = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    };
    let scheme = if h.cfg.tls.is_some() { "wss" } else { "ws" };
    Json(json!({
        "ws": format!("{scheme}://{name}:{}", h.ws_port),
        "protocol": protocol::PROTOCOL_VERSION,
        "max_photos": protocol::MAX_PHOTOS_PER_ACTION,
    }))
}

/// Who the token is: name, role, unit (with the unit's record when it is registered).
pub async fn me(State(h): State<Http>, peer: Peer, headers: HeaderMap) -> Response {
    let who = match reader(&h, peer, &headers, "the phone page").await {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    Json(json!({
        "id": who.id,
        "name": who.name,
        "role": who.access.role.as_str(),
        "region": who.access.region,
        "unit": who.access.unit,
    }))
    .into_response()
}
