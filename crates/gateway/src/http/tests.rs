//! The HTTP endpoints driven through `router` without a socket: a stand-in for the core
//! answers commands, so these check what HTTP itself decides (who may, what is read,
//! what is refused before the core ever sees it). The end-to-end tests over real sockets
//! (`tests/gateway.rs`, `tests/hostile.rs`) keep what needs a socket: time limits, the
//! gate, TLS, durability.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use super::*;
use crate::Status;
use crate::accounts::Directory;
use crate::config::{GatewayConfig, Role, TokenConfig};
use crate::engine::Answer;

/// The router on a gateway config with an operator and a viewer token, and what its core
/// was asked: commands get `Ok { seq: 7, id: 42 }`.
fn app() -> (Router, Arc<Mutex<Vec<store::Request>>>) {
    let tokens = vec![
        TokenConfig::new("op", Role::Operator, "值班员"),
        TokenConfig::new("view", Role::Viewer, "大屏"),
    ];
    let cfg = GatewayConfig {
        tokens: tokens.clone(),
        ..GatewayConfig::default()
    };
    let (core, mut rx) = tokio::sync::mpsc::channel(16);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if let CoreMsg::Command {
                request,
                reply: Some(reply),
                ..
            } = m
            {
                log.lock().unwrap().push(*request);
                let _ = reply.send(Answer {
                    outcome: CommandOutcome::Ok {
                        seq: 7,
                        id: Some(42),
                    },
                    fresh: true,
                });
            }
        }
    });
    let state = Http {
        cfg: Arc::new(cfg),
        directory: Directory::new(tokens),
        core,
        status: Arc::new(Status::default()),
        epoch: "e1".into(),
        grids: None,
        gazetteer: None,
        photos: Arc::new(
            crate::photos::Photos::disk(
                std::env::temp_dir().join(format!("yiping-http-test-{}", rand::random::<u64>())),
            )
            .unwrap(),
        ),
        ws_port: 0,
        duty: Default::default(),
        names: Default::default(),
    };
    (router(state), seen)
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, json)
}

fn intake(token: Option<&str>) -> axum::http::request::Builder {
    let b = Request::post("/api/tickets").header("content-type", "application/json");
    match token {
        Some(t) => b.header("authorization", format!("Bearer {t}")),
        None => b,
    }
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let (app, _) = app();
    let (status, body) = call(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(
        body["epoch"],
        serde_json::Value::Null,
        "no epoch without a token"
    );
    assert_eq!(body["role"], "standalone");
    let asked = Request::get("/healthz").header("authorization", "Bearer view");
    let (_, body) = call(&app, asked.body(Body::empty()).unwrap()).await;
    assert_eq!(body["epoch"], "e1", "a known token is told the epoch");
}

#[tokio::test]
async fn intake_is_refused_before_the_core_without_an_operators_token_or_a_ticket() {
    let (app, seen) = app();
    let ticket = serde_json::to_string(&protocol::examples::new_ticket()).unwrap();
    let cases = [
        (
            None,
            ticket.as_str(),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            Some("nobody"),
            ticket.as_str(),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            Some("view"),
            ticket.as_str(),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            Some("op"),
            "{\"title\": 3",
            StatusCode::BAD_REQUEST,
            "bad_message",
        ),
    ];
    for (token, body, want, code) in cases {
        let req = intake(token).body(Body::from(body.to_string())).unwrap();
        let (status, answer) = call(&app, req).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (want, Some(code)),
            "{token:?} {body}"
        );
        assert!(!answer["message"].as_str().unwrap_or("").is_empty());
    }
    let req = intake(Some("op"))
        .header("idempotency-key", "with space")
        .body(Body::from(ticket.clone()))
        .unwrap();
    let (status, answer) = call(&app, req).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "the core saw none of these"
    );
}

#[tokio::test]
async fn an_operators_ticket_reaches_the_core_under_its_key_and_name() {
    let (app, seen) = app();
    let ticket = protocol::examples::new_ticket();
    let body = serde_json::to_string(&ticket).unwrap();
    let req = intake(Some("op"))
        .header("idempotency-key", "hotline-2026-0001")
        .body(Body::from(body.clone()))
        .unwrap();
    let (status, answer) = call(&app, req).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer, serde_json::json!({"id": 42, "seq": 7}));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].key, "hotline-2026-0001");
    assert_eq!(seen[0].actor, "值班员");
    assert_eq!(seen[0].command, protocol::Command::Intake { ticket });
}
