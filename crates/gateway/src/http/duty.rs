//! The duty room over HTTP: `GET /api/duty` (roster, on duty, escalations, handovers in
//! the credential's scope), `POST /api/roster` (a CSV roster, admin), `GET
//! /api/reports/{daily|weekly}?date=…&format=pdf|html` (the credential's scope's report),
//! and `/duty/ack` (the acknowledgement link in a message: a page, and its button).

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use serde_json::json;
use tokio::sync::oneshot;

use super::super::CoreMsg;
use super::super::web::{
    Http, HttpError, Peer, read_body, reader, refused_status, stopping, submit,
};
use crate::duty::{link, roster_csv};
use crate::report;
use crate::xml::escape;
use domain::access::{Access, Role};
use protocol::{Command, CommandOutcome, Duty, ErrorCode, within};

fn params(q: Option<String>) -> HashMap<String, String> {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

async fn duty_of(h: &Http) -> Result<Box<Duty>, HttpError> {
    let (tx, rx) = oneshot::channel();
    h.core
        .send(CoreMsg::Duty { reply: tx })
        .await
        .map_err(|_| stopping())?;
    rx.await.map_err(|_| stopping())
}

/// `GET /api/duty`: what a wall's duty bar shows, for the credential's scope (its centers
/// and those above it).
pub async fn get_duty(State(h): State<Http>, peer: Peer, headers: HeaderMap) -> Response {
    let r = async {
        let who = reader(&h, peer, &headers, "the duty room").await?;
        let mut d = duty_of(&h).await?;
        let region = who.access.region.clone();
        let mine = |c: &str| within(c, &region) || within(&region, c);
        d.escalations.retain(|e| mine(&e.center));
        d.handovers.retain(|x| mine(&x.center));
        let shifts: Vec<_> = d
            .roster
            .shifts
            .iter()
            .filter(|s| mine(&s.center))
            .cloned()
            .collect();
        d.roster.shifts = shifts;
        Ok::<_, HttpError>(Json(d).into_response())
    };
    r.await.unwrap_or_else(|e| e.into_response())
}

/// `POST /api/roster`: a roster in CSV (`duty/roster_csv.rs`), from an admin credential;
/// every problem is answered with its line, and nothing is taken until there is none.
pub async fn post_roster(
    State(h): State<Http>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let r = async {
        let who = reader(&h, peer, &headers, "a roster").await?;
        if who.access.role != Role::Admin {
            return Err(HttpError(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "a roster is set with an admin token".into(),
            ));
        }
        let within_t = Duration::from_secs(h.cfg.limits.http_body_timeout_s);
        let body = read_body(body, h.cfg.limits.max_batch_bytes, within_t).await?;
        let text = std::str::from_utf8(&body).map_err(|e| {
            HttpError(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRoster,
                format!("not UTF-8 text: {e} (save the CSV as UTF-8)"),
            )
        })?;
        let roster = roster_csv::read(text).map_err(|p| {
            HttpError(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::BadRoster,
                p.join("\n"),
            )
        })?;
        let (people, shifts) = (roster.people.len(), roster.shifts.len());
        use sha2::Digest;
        let key = format!("roster-{:x}", sha2::Sha256::digest(text.as_bytes()));
        match submit(
            &h,
            who.request(key[..40].to_string(), Command::SetRoster { roster }),
        )
        .await?
        {
            CommandOutcome::Ok { seq, .. } => Ok((
                StatusCode::OK,
                Json(json!({"seq": seq, "people": people, "shifts": shifts})),
            )
                .into_response()),
            CommandOutcome::Refused { code, message } => {
                Err(HttpError(refused_status(code), code, message))
            }
        }
    };
    r.await.unwrap_or_else(|e| e.into_response())
}

/// `GET /api/reports/{daily|weekly}?date=YYYY-MM-DD[&format=pdf|html][&region=…]`: the
/// report of the credential's scope (or a region inside it).
pub async fn get_report(
    State(h): State<Http>,
    peer: Peer,
    headers: HeaderMap,
    Path(kind): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let r = async {
        let who = reader(&h, peer, &headers, "a report").await?;
        let bad = |m: String| HttpError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, m);
        let kind = report::Kind::parse(&kind)
            .ok_or_else(|| bad(format!("no report {kind:?}: daily or weekly")))?;
        let p = params(q);
        let date = p.get("date").map(String::as_str).unwrap_or("");
        let day = report::parse_date(date)
            .ok_or_else(|| bad(format!("date={date:?}: write it as 2026-12-07")))?;
        let region = who
            .access
            .feed_region(p.get("region").map(String::as_str))
            .map_err(|r| HttpError(StatusCode::FORBIDDEN, r.code, r.message))?;
        let bytes = make(
            &h,
            kind,
            day,
            &region,
            p.get("format").map(String::as_str).unwrap_or("pdf"),
        )
        .await?;
        Ok::<_, HttpError>(bytes)
    };
    r.await.unwrap_or_else(|e| e.into_response())
}

async fn make(
    h: &Http,
    kind: report::Kind,
    day: i64,
    region: &str,
    format: &str,
) -> Result<Response, HttpError> {
    if !matches!(format, "pdf" | "html") {
        return Err(HttpError(
            StatusCode::BAD_REQUEST,
            ErrorCode::Invalid,
            format!("format={format:?}: pdf or html"),
        ));
    }
    let (tx, rx) = oneshot::channel();
    h.core
        .send(CoreMsg::Report {
            region: region.to_string(),
            reply: tx,
        })
        .await
        .map_err(|_| stopping())?;
    let inputs = rx
        .await
        .map_err(|_| stopping())?
        .map_err(|e| HttpError(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Storage, e))?;
    let center = h.cfg.duty.as_ref().map_or_else(
        || crate::duty::config::ReportsConfig::default().center,
        |d| d.reports.center.clone(),
    );
    let names = h.names.clone();
    let format = format.to_string();
    // Laying out and subsetting the font take tens of milliseconds: off the runtime.
    tokio::task::spawn_blocking(move || {
        let r = report::build(kind, day, &inputs, &center, &names)
            .map_err(|e| HttpError(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, e))?;
        let name = format!(
            "{}-{}.{format}",
            kind.as_str(),
            r.period.split(' ').next().unwrap_or("")
        );
        let disposition = format!("inline; filename=\"{name}\"");
        Ok(if format == "pdf" {
            let bytes = report::pdf(&r)
                .map_err(|e| HttpError(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Storage, e))?;
            (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                bytes,
            )
                .into_response()
        } else {
            (
                [(header::CONTENT_DISPOSITION, disposition)],
                Html(report::html(&r)),
            )
                .into_response()
        })
    })
    .await
    .map_err(|e| {
        HttpError(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Storage,
            e.to_string(),
        )
    })?
}

fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=zh-CN><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>{title}</title>\
<style>body{{font-family:sans-serif;margin:2em 1.2em;font-size:18px;color:#263238}}button{{font-size:1.2em;padding:.8em 2em;background:#c62828;color:#fff;border:0;border-radius:8px;width:100%}}</style>{body}</html>"
    ))
    .into_response()
}

/// The escalation and person a signed link names, or why not.
async fn linked(
    h: &Http,
    p: &HashMap<String, String>,
) -> Result<(protocol::Escalation, protocol::Person), String> {
    let e: u64 = p
        .get("e")
        .and_then(|e| e.parse().ok())
        .ok_or("链接不完整 (the link is incomplete)")?;
    let person = p.get("p").cloned().unwrap_or_default();
    let sig = p.get("s").cloned().unwrap_or_default();
    if !link::verify(&h.duty.key, e, &person, &sig) {
        return Err("链接无效或已过期 (this link is not valid: the gateway's key changed, or it was altered)".into());
    }
    let duty = duty_of(h)
        .await
        .map_err(|_| "gateway is stopping".to_string())?;
    let esc = duty
        .escalation(e)
        .cloned()
        .ok_or("该提醒已不存在 (no such escalation)")?;
    let who = duty
        .roster
        .person(&person)
        .cloned()
        .ok_or("值班表中无此人 (not on the roster)")?;
    Ok((esc, who))
}

/// `GET /duty/ack?e=…&p=…&s=…`: the page the link opens (no change: a preview opens it).
pub async fn ack_page(State(h): State<Http>, RawQuery(q): RawQuery) -> Response {
    let p = params(q.clone());
    match linked(&h, &p).await {
        Err(e) => (
            StatusCode::FORBIDDEN,
            page(
                "无法确认",
                &format!("<h2>无法确认</h2><p>{}</p>", escape(&e)),
            ),
        )
            .into_response(),
        Ok((e, who)) => {
            let state = match (&e.acked_by, &e.closed) {
                (Some(by), _) => format!("<p>已由 {} 确认。</p>", escape(by)),
                (None, Some(why)) => format!("<p>已关闭：{}</p>", escape(why)),
                (None, None) => format!(
                    "<form method=post action=\"/duty/ack?{}\"><button>确认收到（{}）</button></form>",
                    escape(&q.unwrap_or_default()),
                    escape(&who.name)
                ),
            };
            page(
                "值班提醒",
                &format!(
                    "<h2>{}</h2><p>第 {} 轮 · {}</p>{state}",
                    escape(&e.title),
                    e.rounds,
                    e.level.zh()
                ),
            )
        }
    }
}

/// `POST /duty/ack?…`: acknowledge as the linked person (an `ack_escalation` command,
/// authorized and audited like any other).
pub async fn ack_post(State(h): State<Http>, RawQuery(q): RawQuery) -> Response {
    let p = params(q);
    let (e, who) = match linked(&h, &p).await {
        Ok(x) => x,
        Err(e) => {
            return (
                StatusCode::FORBIDDEN,
                page(
                    "无法确认",
                    &format!("<h2>无法确认</h2><p>{}</p>", escape(&e)),
                ),
            )
                .into_response();
        }
    };
    let request = store::Request {
        actor: who.credential.clone(),
        credential: format!("link:{}", who.id),
        access: Access {
            role: Role::Operator,
            region: e.center.clone(),
            unit: None,
        },
        key: format!("ack-link-{}-{}", e.id, who.id),
        command: Command::AckEscalation { escalation: e.id },
        field: None,
    };
    match submit(&h, request).await {
        Ok(CommandOutcome::Ok { .. }) => page(
            "已确认",
            &format!(
                "<h2>已确认</h2><p>{}</p><p>{} 已确认，提醒停止。</p>",
                escape(&e.title),
                escape(&who.name)
            ),
        ),
        Ok(CommandOutcome::Refused { message, .. }) => page(
            "未确认",
            &format!("<h2>未确认</h2><p>{}</p>", escape(&message)),
        ),
        Err(e) => e.into_response(),
    }
}
