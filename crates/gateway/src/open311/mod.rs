//! Open311 GeoReport v2 on the HTTP port, under `/open311/v2/` (discovery at
//! `/open311/discovery.{json,xml}`): the service catalogue (`domain::services`: each
//! category and sub-type a `service_code`), service definitions, `POST requests`
//! (form-encoded, `api_key` an operator's token or account) and `GET requests[/{id}]`, in
//! JSON and XML. INTERFACES.md has the mapping.
//!
//! A request brings a position, not a grid: the grid layer (`[area] grids`) places it, and
//! a position on no grid is refused. Requests come in as 12345 hotline tickets (the
//! channel a city's 311 system is). Reading requests needs a token too, unless
//! `[open311] public_requests` is set; then the reporter is never shown.

mod query;
pub use query::{Query, query};

use std::fmt::Write as _;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use super::accounts::{Credential, Refused};
use super::web::{Http, HttpError, Peer, read_body};
use super::xml::escape as xml_escape;
use super::{CoreMsg, conn::log_access};
use domain::services::{self, Service};
use domain::time::iso;
use protocol::{
    Channel, Command, CommandOutcome, ErrorCode, NewTicket, Priority, Ticket, TicketStatus,
};

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Xml,
}

/// `services.json` → ("services", Json).
fn split_format(path: &str) -> Option<(&str, Format)> {
    if let Some(p) = path.strip_suffix(".json") {
        Some((p, Format::Json))
    } else {
        path.strip_suffix(".xml").map(|p| (p, Format::Xml))
    }
}

/// An Open311 error: `[{"code": 400, "description": "…"}]` (or `<errors>`).
fn error(fmt: Format, status: StatusCode, description: &str) -> Response {
    let body = match fmt {
        Format::Json => {
            serde_json::json!([{ "code": status.as_u16(), "description": description }]).to_string()
        }
        Format::Xml => format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>{}</code>\
             <description>{}</description></error></errors>",
            status.as_u16(),
            xml_escape(description)
        ),
    };
    respond(fmt, status, body)
}

fn respond(fmt: Format, status: StatusCode, body: String) -> Response {
    let ct = match fmt {
        Format::Json => "application/json; charset=utf-8",
        Format::Xml => "text/xml; charset=utf-8",
    };
    (status, [(axum::http::header::CONTENT_TYPE, ct)], body).into_response()
}

/// A JSON value as XML: an object's fields as elements, an array's items each named by
/// the array's singular.
fn to_xml(out: &mut String, tag: &str, v: &serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Null => {
            let _ = write!(out, "<{tag}/>");
        }
        Value::Object(m) => {
            let _ = write!(out, "<{tag}>");
            for (k, v) in m {
                to_xml(out, k, v);
            }
            let _ = write!(out, "</{tag}>");
        }
        Value::Array(items) => {
            let _ = write!(out, "<{tag}>");
            // GeoReport's XML names a list's items by the list: attributes → attribute.
            let item = tag.strip_suffix('s').unwrap_or("item");
            for v in items {
                to_xml(out, item, v);
            }
            let _ = write!(out, "</{tag}>");
        }
        Value::String(s) => {
            let _ = write!(out, "<{tag}>{}</{tag}>", xml_escape(s));
        }
        other => {
            let _ = write!(out, "<{tag}>{other}</{tag}>");
        }
    }
}

/// A list in the requested format: JSON an array; XML `<root><item_tag>…</item_tag>…</root>`.
fn list(fmt: Format, root: &str, item: &str, items: Vec<serde_json::Value>) -> Response {
    let body = match fmt {
        Format::Json => serde_json::Value::Array(items).to_string(),
        Format::Xml => {
            let mut o = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            let _ = write!(o, "<{root}>");
            for v in &items {
                to_xml(&mut o, item, v);
            }
            let _ = write!(o, "</{root}>");
            o
        }
    };
    respond(fmt, StatusCode::OK, body)
}

fn service_json(s: &Service) -> serde_json::Value {
    let name = s.subtype.unwrap_or(s.category.zh());
    serde_json::json!({
        "service_code": s.code(),
        "service_name": name,
        "description": match s.subtype {
            Some(sub) => format!("{} · {sub}", s.category.zh()),
            None => format!("{}（{}）", s.category.zh(), s.category.en()),
        },
        "metadata": true,
        "type": "realtime",
        "keywords": s.category.en(),
        "group": s.category.zh(),
    })
}

/// The one attribute every service takes: the priority (紧急/重要/一般).
fn definition_json(s: &Service) -> serde_json::Value {
    serde_json::json!({
        "service_code": s.code(),
        "attributes": [{
            "variable": true,
            "code": "priority",
            "datatype": "singlevaluelist",
            "required": false,
            "datatype_description": "紧急 urgent, 重要 important, 一般 normal (default)",
            "order": 1,
            "description": "优先级 Priority",
            "values": [
                {"key": "urgent", "name": "紧急"},
                {"key": "important", "name": "重要"},
                {"key": "normal", "name": "一般"},
            ],
        }],
    })
}

/// Open311's two statuses, and the finer one clients show (`detailed_status`).
fn statuses(s: TicketStatus) -> (&'static str, &'static str) {
    match s {
        TicketStatus::Received => ("open", "NEW"),
        TicketStatus::Assigned | TicketStatus::Accepted => ("open", "ACCEPTED"),
        TicketStatus::InProgress | TicketStatus::Returned | TicketStatus::Reviewing => {
            ("open", "IN_PROGRESS")
        }
        TicketStatus::Resolved | TicketStatus::Rated | TicketStatus::Archived => {
            ("closed", "CLOSED")
        }
    }
}

fn request_json(t: &Ticket, public: bool) -> serde_json::Value {
    let s = services::of(t.category, &t.subtype);
    let (status, detailed) = match t.merged_into {
        // A duplicate is closed as such: its master carries the matter.
        Some(_) => ("closed", "DUPLICATE"),
        None => statuses(t.status),
    };
    let mut v = serde_json::json!({
        "service_request_id": t.id.to_string(),
        "status": status,
        "detailed_status": detailed,
        "status_notes": t.status.zh(),
        "service_name": s.subtype.unwrap_or(s.category.zh()),
        "service_code": s.code(),
        // The citizen's words where the ticket has them, else its title.
        "description": if t.content.is_empty() { &t.title } else { &t.content },
        "agency_responsible": t.unit.clone().unwrap_or_default(),
        "service_notice": "",
        "requested_datetime": iso(t.created_ms),
        "updated_datetime": iso(t.updated_ms),
        "expected_datetime": iso(t.deadline_ms),
        "address": if t.address.is_empty() { &t.grid } else { &t.address },
        "address_id": t.grid,
        "zipcode": "",
        "lat": t.lat,
        "long": t.lon,
        "media_url": "",
    });
    if let (Some(m), Some(o)) = (t.merged_into, v.as_object_mut()) {
        o.insert(
            "status_notes".into(),
            format!("已合并至 #{m} (duplicate of {m})").into(),
        );
    }
    if !public && let Some(m) = v.as_object_mut() {
        m.insert("reporter".into(), t.reporter.clone().into());
    }
    v
}

/// `GET` and `POST` below `/open311/v2/`.
pub async fn v2(
    State(h): State<Http>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    method: axum::http::Method,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some((what, fmt)) = split_format(&path) else {
        return error(
            Format::Json,
            StatusCode::NOT_FOUND,
            "Open311 paths end in .json or .xml",
        );
    };
    let mut params: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let is_form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // The caller, when the query's api_key was checked before the body was read.
    let mut known = None;
    if method == axum::http::Method::POST && is_form {
        // Open311 puts api_key in the form itself, so a POST's body is read before its
        // token unless the key comes in the query string: then only after it. A form
        // with no key known yet is held to `FORM_BEFORE_KEY` bytes, in the body time.
        let query_key = params.iter().find(|(n, _)| n == "api_key").map(|(_, v)| v);
        if let Some(k) = query_key {
            match h.directory.authenticate(k, peer.0).await {
                Ok(who) => known = Some(who),
                Err(r) => return error(fmt, refused_status(&r), &r.message()),
            }
        }
        let limit = if known.is_some() {
            h.cfg.limits.max_frame_bytes
        } else {
            FORM_BEFORE_KEY.min(h.cfg.limits.max_frame_bytes)
        };
        let within = std::time::Duration::from_secs(h.cfg.limits.http_body_timeout_s);
        match read_body(body, limit, within).await {
            Ok(b) => params.extend(form_urlencoded::parse(&b).into_owned()),
            Err(HttpError(status, _, m)) => return error(fmt, status, &m),
        }
    }
    let param = Params(params);
    let segs: Vec<&str> = what.split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["services"]) => list(
            fmt,
            "services",
            "service",
            services::all().iter().map(service_json).collect(),
        ),
        ("GET", ["services", code]) => match services::by_code(code) {
            Some(s) => {
                let v = definition_json(&s);
                match fmt {
                    Format::Json => respond(fmt, StatusCode::OK, v.to_string()),
                    Format::Xml => {
                        let mut o = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
                        to_xml(&mut o, "service_definition", &v);
                        respond(fmt, StatusCode::OK, o)
                    }
                }
            }
            None => error(fmt, StatusCode::NOT_FOUND, &format!("no service {code}")),
        },
        ("POST", ["requests"]) => {
            if !is_form {
                return error(
                    fmt,
                    StatusCode::BAD_REQUEST,
                    "POST requests is form-encoded (application/x-www-form-urlencoded)",
                );
            }
            post_request(&h, fmt, &param, (peer, known)).await
        }
        ("GET", ["requests"]) => get_requests(&h, fmt, &param, None, peer).await,
        ("GET", ["requests", id]) => match id.parse::<u64>() {
            Ok(id) => get_requests(&h, fmt, &param, Some(id), peer).await,
            Err(_) => error(fmt, StatusCode::NOT_FOUND, &format!("no request {id}")),
        },
        _ => error(
            fmt,
            StatusCode::NOT_FOUND,
            &format!("no Open311 resource {path}"),
        ),
    }
}

/// `GET /open311/discovery.{json,xml}`.
pub async fn discovery(State(h): State<Http>, Path(file): Path<String>) -> Response {
    let Some(("discovery", fmt)) = split_format(&file) else {
        return error(
            Format::Json,
            StatusCode::NOT_FOUND,
            "discovery.json or discovery.xml",
        );
    };
    let v = serde_json::json!({
        "changeset": iso(0),
        "contact": "社会治理现代化指挥中心 · 一屏 Yiping",
        "key_service": "api_key: an operator's token or account (yiping account add)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{}/open311/v2", h.base_url()),
            "changeset": iso(0),
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    match fmt {
        Format::Json => respond(fmt, StatusCode::OK, v.to_string()),
        Format::Xml => {
            let mut o = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            to_xml(&mut o, "discovery", &v);
            respond(fmt, StatusCode::OK, o)
        }
    }
}

/// The most form bytes read before an api_key is known: a request's fields with the
/// citizen's words (4,000 characters, URL-encoded 9 bytes each: 36 KB); a photo goes by
/// media_url, never in the form.
const FORM_BEFORE_KEY: usize = 48 * 1024;

/// Open311's status for a refused api_key: 403 as before for an unknown one (the
/// GeoReport v2 convention), 429 while the address or account backs off.
fn refused_status(r: &Refused) -> StatusCode {
    match r {
        Refused::Unknown => StatusCode::FORBIDDEN,
        Refused::Wait(_) => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// A request's parameters (query and form), by name; the first of a repeated name.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

async fn post_request(
    h: &Http,
    fmt: Format,
    params: &Params,
    (peer, known): (Peer, Option<Credential>),
) -> Response {
    let param = |k: &str| params.get(k);
    let key = param("api_key").unwrap_or("");
    let checked = match known {
        Some(who) => Ok(who),
        None => h.directory.authenticate(key, peer.0).await,
    };
    let who = match checked {
        Ok(who) => who,
        Err(r) => {
            log_access(&h.core, "?", "refused", "Open311: unknown api_key");
            return error(fmt, refused_status(&r), &r.message());
        }
    };
    if !who.access.role.can_command() {
        return error(fmt, StatusCode::FORBIDDEN, "api_key is not an operator's");
    }
    let Some(service) = param("service_code").and_then(services::by_code) else {
        return error(
            fmt,
            StatusCode::BAD_REQUEST,
            "service_code is missing or unknown (GET services.json lists them)",
        );
    };
    let num = |k: &str| param(k).and_then(|v| v.trim().parse::<f64>().ok());
    let address = param("address_string").unwrap_or("").trim().to_string();
    // By position (the grid holding it), or by address (the city's names): a request
    // whose address no name matches is taken in unplaced (待定位) for an operator to
    // place, never refused and never guessed.
    let (lon, lat, grid, placed) = match (num("lat"), num("long")) {
        (Some(lat), Some(lon)) => {
            let Some(grids) = h.grids.as_ref() else {
                return error(
                    fmt,
                    StatusCode::BAD_REQUEST,
                    "this gateway has no grid layer ([area] grids) to place a request",
                );
            };
            let Some(grid) = grids.locate(lon, lat) else {
                return error(
                    fmt,
                    StatusCode::BAD_REQUEST,
                    &format!("lat {lat}, long {lon} is on none of the city's grids"),
                );
            };
            (lon, lat, grid.to_string(), String::new())
        }
        _ if !address.is_empty() => {
            let found = h.gazetteer.as_ref().and_then(|g| g.place(&address));
            match found {
                Some(m) if m.grid.is_some() && m.center.is_some() => {
                    let [lon, lat] = m.center.unwrap_or_default();
                    let note = format!("按地址定位于 {} ({}), score {:.2}", m.name, m.id, m.score);
                    (lon, lat, m.grid.unwrap_or_default(), note)
                }
                Some(m) => (
                    0.0,
                    0.0,
                    String::new(),
                    format!(
                        "待定位: 地址最近 {} ({}), score {:.2}",
                        m.name, m.id, m.score
                    ),
                ),
                None => (
                    0.0,
                    0.0,
                    String::new(),
                    "待定位: 地址未匹配地名".to_string(),
                ),
            }
        }
        _ => {
            return error(
                fmt,
                StatusCode::BAD_REQUEST,
                "lat and long, or address_string, are required",
            );
        }
    };
    let priority = match param("attribute[priority]").unwrap_or("normal") {
        "urgent" => Priority::Urgent,
        "important" => Priority::Important,
        "normal" => Priority::Normal,
        other => {
            return error(
                fmt,
                StatusCode::BAD_REQUEST,
                &format!("attribute[priority] {other:?} is not urgent, important or normal"),
            );
        }
    };
    // The citizen's words go whole into the content (诉求内容, up to 4,000 characters);
    // the title (摘要) is their first line, cut to 60 characters, or the service's name.
    let description = param("description").unwrap_or("").trim();
    let first_line: String = description
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(60)
        .collect();
    let title = if first_line.trim().is_empty() {
        service.subtype.unwrap_or(service.category.zh()).to_string()
    } else {
        first_line.trim().to_string()
    };
    let name = [param("last_name"), param("first_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("");
    let ticket = NewTicket {
        channel: Channel::Hotline12345,
        category: service.category,
        subtype: service.subtype.unwrap_or("").to_string(),
        priority,
        lon,
        lat,
        grid,
        title,
        reporter: name,
        content: description.to_string(),
        address,
        sla_minutes: None,
        created_ms: None,
    };
    if !placed.is_empty() {
        tracing::info!("Open311 request placed by address: {placed}");
    }
    // The client's own id for the request makes a repeat harmless; without one each POST
    // is a new ticket, as Open311 has it.
    let key = match param("device_id").zip(param("account_id")) {
        Some((d, a)) => format!("open311:{d}:{a}"),
        None => format!("open311:{:016x}", rand::random::<u64>()),
    };
    match super::web::submit(h, who.request(key, Command::Intake { ticket })).await {
        Ok(CommandOutcome::Ok { id: Some(id), .. }) => list(
            fmt,
            "service_requests",
            "request",
            vec![serde_json::json!({
                "service_request_id": id.to_string(),
                "service_notice": if placed.is_empty() {
                    "已受理 received".to_string()
                } else {
                    format!("已受理 received; {placed}")
                },
                "account_id": null,
            })],
        ),
        Ok(CommandOutcome::Refused { code, message }) => {
            let status = match code {
                ErrorCode::Storage | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            error(fmt, status, &format!("{code}: {message}"))
        }
        _ => error(fmt, StatusCode::SERVICE_UNAVAILABLE, "not saved: try again"),
    }
}

async fn get_requests(
    h: &Http,
    fmt: Format,
    params: &Params,
    one: Option<u64>,
    peer: Peer,
) -> Response {
    let param = |k: &str| params.get(k);
    // Who may read: a token (any role, its region), or anyone if the site says so.
    let public = h.cfg.open311.public_requests;
    let region = match param("api_key") {
        Some(k) => match h.directory.authenticate(k, peer.0).await {
            Ok(who) => Some(who.access.region.clone()),
            Err(r) => return error(fmt, refused_status(&r), &r.message()),
        },
        None if public => None,
        None => {
            return error(
                fmt,
                StatusCode::FORBIDDEN,
                "reading requests needs an api_key on this gateway",
            );
        }
    };
    let q = match query(&params.0, one, domain::time::now_ms()) {
        Ok(q) => q,
        Err(m) => return error(fmt, StatusCode::BAD_REQUEST, &m),
    };
    let (ids, from, to) = (q.ids, q.from, q.to);
    // The core hands over only the region's tickets taken in within the range (or those
    // asked for by id): a listing does not copy every live ticket.
    let (tx, rx) = oneshot::channel();
    let ask = CoreMsg::Tickets {
        ids: ids.clone(),
        region: region.unwrap_or_default(),
        created: (from, to),
        reply: tx,
    };
    if h.core.send(ask).await.is_err() {
        return error(
            fmt,
            StatusCode::SERVICE_UNAVAILABLE,
            "the gateway is stopping",
        );
    }
    let Ok(mut tickets) = rx.await else {
        return error(
            fmt,
            StatusCode::SERVICE_UNAVAILABLE,
            "the gateway is stopping",
        );
    };
    let (codes, wanted_status) = (q.codes, q.statuses);
    if ids.is_none() {
        tickets.retain(|t| {
            let code = services::of(t.category, &t.subtype).code();
            codes
                .as_ref()
                .is_none_or(|c| c.iter().any(|x| x == code.as_str()))
                && wanted_status
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|x| x == statuses(t.status).0))
        });
    }
    if one.is_some() && tickets.is_empty() {
        return error(fmt, StatusCode::NOT_FOUND, "no such request here");
    }
    tickets.sort_by_key(|t| std::cmp::Reverse(t.created_ms));
    tickets.truncate(1000);
    let public_view = param("api_key").is_none();
    list(
        fmt,
        "service_requests",
        "request",
        tickets
            .iter()
            .map(|t| request_json(t, public_view))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped_and_lists_name_their_items() {
        let mut o = String::new();
        to_xml(
            &mut o,
            "request",
            &serde_json::json!({"description": "a<b & \"c\"", "lat": 32.1}),
        );
        assert_eq!(
            o,
            "<request><description>a&lt;b &amp; &quot;c&quot;</description><lat>32.1</lat></request>"
        );
    }
}
