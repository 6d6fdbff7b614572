//! Warnings out as CAP 1.2 (OASIS Common Alerting Protocol; the message structure GB/T
//! 35965.1 profiles): `GET /cap/warnings/{id}.xml`, one alert, and `GET /cap/warnings.atom`,
//! an Atom feed of the live warnings linking to each. Any token reads them. The mapping is
//! in INTERFACES.md; the tests validate every alert against the OASIS schema.

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use super::CoreMsg;
use super::web::Http;
use super::xml::escape as xml_escape;
use domain::time::iso;
use protocol::{Warning, WarningKind, WarningLevel, WarningStatus};

use super::cap_in::CAP_NS;

/// CAP's severity, urgency and certainty for a level (红 Extreme … 蓝 Minor).
pub fn severity(level: WarningLevel) -> (&'static str, &'static str, &'static str) {
    match level {
        WarningLevel::Red => ("Extreme", "Immediate", "Observed"),
        WarningLevel::Orange => ("Severe", "Immediate", "Likely"),
        WarningLevel::Yellow => ("Moderate", "Expected", "Likely"),
        WarningLevel::Blue => ("Minor", "Future", "Possible"),
    }
}

/// CAP's category for a kind of warning.
fn category(kind: WarningKind) -> &'static str {
    match kind {
        WarningKind::Flood | WarningKind::Weather => "Met",
        WarningKind::Crowding => "Safety",
        WarningKind::GroupDispute | WarningKind::ExtremeRisk | WarningKind::MajorRisk => "Security",
        WarningKind::RepeatedComplaints | WarningKind::Other => "Other",
    }
}

/// The alert's identifier in GB/T 35965.1's form: the sender code, the time of the
/// version (local, to the second) and the warning's number.
fn identifier(code: &str, w: &Warning, at_ms: i64) -> String {
    let c = domain::time::civil(at_ms);
    let stamp: String = format!("{}{}", c.date(), c.hhmmss())
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!("{code}_{stamp}_{}", w.id)
}

/// One warning as a CAP 1.2 alert. A warning changed since it was raised is an `Update`
/// referring to the alert that raised it; one that came in as CAP refers to its issuer's
/// alerts too, so the chain can be followed either way. `code`: the sender code.
pub fn alert(code: &str, sender: &str, w: &Warning) -> String {
    let (sev, urgency, certainty) = severity(w.level);
    let updated = w.updated_ms > w.raised_ms;
    let mut o = String::with_capacity(2048);
    let _ = write!(
        o,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"{CAP_NS}\">\
         <identifier>{}</identifier><sender>{}</sender><sent>{}</sent><status>Actual</status>\
         <msgType>{}</msgType><scope>Restricted</scope>\
         <restriction>社会治理指挥中心内部 for the command center's units</restriction>",
        identifier(code, w, w.updated_ms),
        xml_escape(sender),
        iso(w.updated_ms),
        if updated { "Update" } else { "Alert" },
    );
    let mut refs: Vec<String> = w.cap_refs.clone();
    if updated {
        refs.push(format!(
            "{sender},{},{}",
            identifier(code, w, w.raised_ms),
            iso(w.raised_ms)
        ));
    }
    if !refs.is_empty() {
        let _ = write!(
            o,
            "<references>{}</references>",
            xml_escape(&refs.join(" "))
        );
    }
    let status = match w.status {
        WarningStatus::Raised => "已发布",
        WarningStatus::Acknowledged => "已签收",
        WarningStatus::TaskForce => "专班处置",
        WarningStatus::Lifted => "已解除",
    };
    let _ = write!(
        o,
        "<info><language>zh-CN</language><category>{}</category><event>{}</event>\
         <urgency>{urgency}</urgency><severity>{sev}</severity><certainty>{certainty}</certainty>\
         <senderName>一屏 Yiping</senderName><headline>{}</headline>\
         <description>{}</description>",
        category(w.kind),
        xml_escape(w.kind.zh()),
        xml_escape(&format!("{}预警：{}", w.level.zh(), w.title)),
        xml_escape(&format!(
            "{}预警（{}），{status}{}；涉及工单 {} 件，网格 {} 个",
            w.level.zh(),
            w.kind.zh(),
            w.task_force
                .as_ref()
                .map(|t| format!("，专班：{t}"))
                .unwrap_or_default(),
            w.tickets.len(),
            w.grids.len()
        )),
    );
    let _ = write!(
        o,
        "<parameter><valueName>yiping:level</valueName><value>{}</value></parameter>",
        w.level.en().to_lowercase()
    );
    let area = if w.grids.is_empty() {
        "全市 the whole city".to_string()
    } else {
        w.grids.join(", ")
    };
    let _ = write!(o, "<area><areaDesc>{}</areaDesc>", xml_escape(&area));
    for g in &w.grids {
        // A whole region (district, town, village) is named as one, like a grid.
        let name = if g.split('-').count() < 4 {
            "region"
        } else {
            "grid"
        };
        let _ = write!(
            o,
            "<geocode><valueName>{name}</valueName><value>{}</value></geocode>",
            xml_escape(g)
        );
    }
    o.push_str("</area></info></alert>\n");
    o
}

/// The live warnings as an Atom feed, newest first, each entry linking to its alert.
pub fn feed(epoch: &str, base: &str, warnings: &[Warning]) -> String {
    let updated = warnings.iter().map(|w| w.updated_ms).max().unwrap_or(0);
    let mut o = String::with_capacity(1024 + warnings.len() * 512);
    let _ = write!(
        o,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>urn:yiping:{epoch}:warnings</id><title>一屏 预警 Yiping warnings</title>\
         <updated>{}</updated><author><name>一屏 Yiping</name></author>\
         <link rel=\"self\" href=\"{base}/cap/warnings.atom\"/>",
        iso(updated)
    );
    for w in warnings {
        let (sev, _, _) = severity(w.level);
        let _ = write!(
            o,
            "<entry><id>urn:yiping:{epoch}:W{id}</id><title>{}</title><updated>{}</updated>\
             <link rel=\"alternate\" type=\"application/cap+xml\" href=\"{base}/cap/warnings/{id}.xml\"/>\
             <category term=\"{sev}\"/><summary>{}</summary></entry>",
            xml_escape(&format!("{}预警：{}", w.level.zh(), w.title)),
            iso(w.updated_ms),
            xml_escape(w.kind.zh()),
            id = w.id,
        );
    }
    o.push_str("</feed>\n");
    o
}

async fn live_warnings(h: &Http) -> Option<Vec<Warning>> {
    let (tx, rx) = oneshot::channel();
    h.core.send(CoreMsg::Warnings { reply: tx }).await.ok()?;
    rx.await.ok()
}

fn xml(status: StatusCode, ct: &'static str, body: String) -> Response {
    (status, [(axum::http::header::CONTENT_TYPE, ct)], body).into_response()
}

fn sender(h: &Http) -> String {
    let node = h
        .cfg
        .cluster
        .as_ref()
        .map_or("gateway", |c| c.node.as_str());
    format!("yiping@{node}")
}

/// `GET /cap/warnings.atom` or `GET /cap/warnings/{id}.xml`.
pub async fn serve(
    State(h): State<Http>,
    Path(path): Path<String>,
    peer: super::web::Peer,
    headers: HeaderMap,
) -> Response {
    let region = match super::web::reader(&h, peer, &headers, "CAP read").await {
        Ok(who) => who.access.region.clone(),
        Err(e) => return e.into_response(),
    };
    let Some(mut warnings) = live_warnings(&h).await else {
        return xml(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "the gateway is stopping".into(),
        );
    };
    warnings.retain(|w| protocol::Event::WarningRaised { warning: w.clone() }.in_region(&region));
    warnings.sort_by_key(|w| std::cmp::Reverse(w.updated_ms));
    let base = h.base_url();
    if path == "warnings.atom" {
        return xml(
            StatusCode::OK,
            "application/atom+xml; charset=utf-8",
            feed(&h.epoch, &base, &warnings),
        );
    }
    let id = path
        .strip_prefix("warnings/")
        .and_then(|p| p.strip_suffix(".xml"))
        .and_then(|p| p.parse::<u64>().ok());
    match id.and_then(|id| warnings.iter().find(|w| w.id == id)) {
        Some(w) => xml(
            StatusCode::OK,
            "application/cap+xml; charset=utf-8",
            alert(&h.cfg.cap.sender_code, &sender(&h), w),
        ),
        None => xml(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            format!("no live warning at {path} (GET /cap/warnings.atom lists them)"),
        ),
    }
}

/// `POST /cap/alerts`: a CAP 1.2 alert in (see `cap_in`).
pub async fn take(
    State(h): State<Http>,
    peer: super::web::Peer,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    use super::web::{HttpError, caller, read_body, submit};
    use protocol::{Command, CommandOutcome, ErrorCode};
    let run = async {
        let who = caller(&h, peer, &headers, "CAP alerts").await?;
        // Only now, with the caller known, is the body read, within its time.
        let within = std::time::Duration::from_secs(h.cfg.limits.http_body_timeout_s);
        let body = read_body(body, h.cfg.limits.max_frame_bytes, within).await?;
        let bad = |m: String| HttpError(StatusCode::BAD_REQUEST, ErrorCode::BadMessage, m);
        let xml = std::str::from_utf8(&body).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        // A malformed alert is a 400; an area outside the city a 422 (`out_of_range`).
        let alert = super::cap_in::parse(xml, h.grids.as_deref()).map_err(|(code, m)| {
            let status = match code {
                ErrorCode::BadMessage => StatusCode::BAD_REQUEST,
                c => super::web::refused_status(c),
            };
            HttpError(status, code, m)
        })?;
        let refused = |code: ErrorCode, message: String| {
            HttpError(super::web::refused_status(code), code, message)
        };
        // The live warnings the referred alerts raised or changed: all found before
        // anything changes (any alert of a warning's chain finds it, at any point).
        let mut targets: Vec<u64> = vec![];
        if !alert.references.is_empty() {
            let live = live_warnings(&h).await.ok_or_else(super::web::stopping)?;
            for (sender, identifier) in &alert.references {
                match live.iter().find(|w| {
                    w.cap_refs
                        .iter()
                        .any(|r| super::cap_in::refers_to(r, sender, identifier))
                }) {
                    Some(w) if !targets.contains(&w.id) => targets.push(w.id),
                    Some(_) => {}
                    None => {
                        return Err(HttpError(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            ErrorCode::UnknownWarning,
                            format!(
                                "alert/references: {sender},{identifier} names no live warning here (never taken in, or lifted)"
                            ),
                        ));
                    }
                }
            }
        }
        let key = super::cap_in::key(&alert.sender, &alert.identifier);
        let mut lifted = vec![];
        let mut updated = vec![];
        let mut raised = None;
        match (alert.msg_type.as_str(), alert.warning) {
            ("Cancel", _) => {
                for id in targets {
                    let note = format!("CAP Cancel {}", alert.identifier);
                    let cmd = Command::LiftWarning { warning: id, note };
                    match submit(&h, who.request(format!("{key}:lift:{id}"), cmd)).await? {
                        CommandOutcome::Ok { .. } => lifted.push(id),
                        CommandOutcome::Refused { code, message } => {
                            return Err(refused(code, message));
                        }
                    }
                }
            }
            ("Update", Some(w)) => {
                for id in targets {
                    let cmd = Command::UpdateWarning {
                        warning: id,
                        update: w.clone(),
                        note: format!("CAP Update {}", alert.identifier),
                    };
                    match submit(&h, who.request(format!("{key}:update:{id}"), cmd)).await? {
                        CommandOutcome::Ok { .. } => updated.push(id),
                        CommandOutcome::Refused { code, message } => {
                            return Err(refused(code, message));
                        }
                    }
                }
            }
            (_, Some(w)) => {
                match submit(&h, who.request(key, Command::RaiseWarning { warning: w })).await? {
                    CommandOutcome::Ok { id, .. } => raised = id,
                    CommandOutcome::Refused { code, message } => {
                        return Err(refused(code, message));
                    }
                }
            }
            (_, None) => {}
        }
        Ok(axum::Json(serde_json::json!({
            "identifier": alert.identifier,
            "msg_type": alert.msg_type,
            "raised": raised,
            "updated": updated,
            "lifted": lifted,
        }))
        .into_response())
    };
    match run.await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}
