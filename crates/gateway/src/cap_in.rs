//! CAP 1.2 alerts in: `POST /cap/alerts` with an operator's token and a CAP alert as the
//! body raises a warning (`Alert`), changes the warning an earlier alert raised in place
//! (`Update`: the same id, acknowledgement and task force) or lifts it (`Cancel`): the
//! warning keeps every alert's identifier, so any of them finds it. Severity gives the
//! level; geocodes name grids or whole regions (the project's ids, or GB/T 2260 codes),
//! polygons and circles the grids they touch. A malformed alert gets `400` naming the
//! element and the value, an area outside the city `422 out_of_range`, and nothing
//! changes. INTERFACES.md has the mapping.

use geo::Polygon;

use gis::GridIndex;
use protocol::{ErrorCode, NewWarning, WarningKind, WarningLevel};

/// The CAP 1.2 namespace, of the alerts read here and of those `cap` writes.
pub const CAP_NS: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// What an alert asks for, checked.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    pub identifier: String,
    pub sender: String,
    pub msg_type: String,
    /// The alerts it refers to (sender, identifier), for Update and Cancel.
    pub references: Vec<(String, String)>,
    /// The warning to raise (Alert) or to change to (Update); its `cap_refs` is this
    /// alert's own `sender,identifier,sent`.
    pub warning: Option<NewWarning>,
}

/// Why an alert is refused: a code and words naming the element and the value.
pub type Refused = (ErrorCode, String);

fn bad(m: String) -> Refused {
    (ErrorCode::BadMessage, m)
}

/// Does the reference `r` (`sender,identifier,sent`) name the alert (sender, identifier)?
pub fn refers_to(r: &str, sender: &str, identifier: &str) -> bool {
    let mut it = r.split(',');
    it.next() == Some(sender) && it.next() == Some(identifier)
}

/// A CAP dateTime (`2026-07-01T10:00:00+08:00`: the schema's form, a zone and no `Z`) as
/// ms since the epoch.
pub fn cap_time(path: &str, s: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let form = b.len() == 25
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (b[19] == b'+' || b[19] == b'-')
        && b[22] == b':';
    let parts = (|| {
        Some((
            digits(0..4)?,
            digits(5..7)?,
            digits(8..10)?,
            digits(11..13)?,
            digits(14..16)?,
            digits(17..19)?,
            digits(20..22)?,
            digits(23..25)?,
        ))
    })();
    let (Some((y, mo, d, h, mi, sec, zh, zm)), true) = (parts, form) else {
        return Err(format!(
            "{path} {s:?} is not a CAP dateTime (YYYY-MM-DDThh:mm:ss+hh:mm, with its zone)"
        ));
    };
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
        || zh > 14
        || zm > 59
    {
        return Err(format!("{path} {s:?}: a field out of its range"));
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let sign = if b[19] == b'+' { 1 } else { -1 };
    let offset = sign * (zh * 3600 + zm * 60);
    Ok(((days * 86_400 + h * 3600 + mi * 60 + sec) - offset) * 1000)
}

/// The idempotency key of the warning an alert raised.
pub fn key(sender: &str, identifier: &str) -> String {
    let k = format!("cap:{sender}:{identifier}");
    k.chars().take(128).collect()
}

fn text<'a>(n: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    n.children()
        .find(|c| {
            c.is_element()
                && c.tag_name().name() == name
                && c.tag_name().namespace() == Some(CAP_NS)
        })
        .and_then(|c| c.text())
        .map(str::trim)
}

fn required<'a>(n: roxmltree::Node<'a, 'a>, path: &str, name: &str) -> Result<&'a str, String> {
    match text(n, name) {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(format!("{path}/{name} is missing")),
    }
}

fn one_of<'a>(value: &'a str, path: &str, allowed: &[&str]) -> Result<&'a str, String> {
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{path} {value:?} is not one of {}",
            allowed.join(", ")
        ))
    }
}

/// A CAP circle: `lat,lon radius_km`.
fn circle(s: &str) -> Result<(f64, f64, f64), String> {
    let bad = || format!("alert/info/area/circle {s:?} is not 'lat,lon radius' (km)");
    let (centre, r) = s.trim().split_once(' ').ok_or_else(bad)?;
    let (lat, lon) = centre.split_once(',').ok_or_else(bad)?;
    let (lat, lon, r): (f64, f64, f64) = (
        lat.trim().parse().map_err(|_| bad())?,
        lon.trim().parse().map_err(|_| bad())?,
        r.trim().parse().map_err(|_| bad())?,
    );
    if !(-90.0..=90.0).contains(&lat)
        || !(-180.0..=180.0).contains(&lon)
        || !(0.0..=1000.0).contains(&r)
    {
        return Err(bad());
    }
    Ok((lon, lat, r))
}

/// A CAP polygon: `lat,lon lat,lon …`, at least four pairs, first and last the same.
fn polygon(s: &str) -> Result<Polygon<f64>, String> {
    let pts: Vec<(f64, f64)> = s
        .split_whitespace()
        .map(|p| {
            let (lat, lon) = p.split_once(',')?;
            Some((lon.trim().parse().ok()?, lat.trim().parse().ok()?))
        })
        .collect::<Option<_>>()
        .ok_or_else(|| format!("alert/info/area/polygon {s:?} is not lat,lon pairs"))?;
    if pts.len() < 4 || pts.first() != pts.last() {
        return Err(
            "alert/info/area/polygon needs at least four points, the last the first".into(),
        );
    }
    Ok(Polygon::new(geo::LineString::from(pts), vec![]))
}

/// Parse and check an alert. `grids`: the city's layer, to place areas (without it only
/// grid and region geocodes can name places, unchecked).
pub fn parse(xml: &str, grids: Option<&GridIndex>) -> Result<Parsed, Refused> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| bad(format!("not XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "alert" || root.tag_name().namespace() != Some(CAP_NS) {
        return Err(bad(format!(
            "alert: the root element is <{}> in namespace {:?}, not a CAP 1.2 <alert> ({CAP_NS})",
            root.tag_name().name(),
            root.tag_name().namespace().unwrap_or("none")
        )));
    }
    let identifier = required(root, "alert", "identifier")
        .map_err(bad)?
        .to_string();
    let sender = required(root, "alert", "sender").map_err(bad)?.to_string();
    for (what, v) in [("identifier", &identifier), ("sender", &sender)] {
        if v.contains([' ', ',', '<', '&']) {
            return Err(bad(format!(
                "alert/{what} {v:?} has a space, comma, < or &: CAP forbids them"
            )));
        }
    }
    let sent = required(root, "alert", "sent").map_err(bad)?;
    cap_time("alert/sent", sent).map_err(bad)?;
    let status = required(root, "alert", "status").map_err(bad)?;
    one_of(
        status,
        "alert/status",
        &["Actual", "Exercise", "System", "Test", "Draft"],
    )
    .map_err(bad)?;
    if status != "Actual" {
        return Err(bad(format!(
            "alert/status {status}: only Actual alerts change warnings"
        )));
    }
    let msg_type = required(root, "alert", "msgType").map_err(bad)?;
    one_of(
        msg_type,
        "alert/msgType",
        &["Alert", "Update", "Cancel", "Ack", "Error"],
    )
    .map_err(bad)?;
    if matches!(msg_type, "Ack" | "Error") {
        return Err(bad(format!(
            "alert/msgType {msg_type}: only Alert, Update and Cancel change warnings"
        )));
    }
    let scope = required(root, "alert", "scope").map_err(bad)?;
    one_of(scope, "alert/scope", &["Public", "Restricted", "Private"]).map_err(bad)?;
    let references: Vec<(String, String)> = text(root, "references")
        .unwrap_or("")
        .split_whitespace()
        .map(|r| {
            let mut it = r.split(',');
            match (it.next(), it.next(), it.next()) {
                (Some(s), Some(i), Some(t)) if !s.is_empty() && !i.is_empty() => {
                    cap_time("alert/references (its sent)", t)?;
                    Ok((s.to_string(), i.to_string()))
                }
                _ => Err(format!(
                    "alert/references {r:?} is not sender,identifier,sent"
                )),
            }
        })
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    if msg_type != "Alert" && references.is_empty() {
        return Err(bad(format!(
            "alert/references is missing: an {msg_type} names the alert it changes"
        )));
    }
    let warning = if msg_type == "Cancel" {
        None
    } else {
        let info = root
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == "info")
            .ok_or_else(|| bad("alert/info is missing".into()))?;
        let mut w = warning_of(info, grids)?;
        w.cap_refs = vec![format!("{sender},{identifier},{sent}")];
        Some(w)
    };
    Ok(Parsed {
        identifier,
        sender,
        msg_type: msg_type.to_string(),
        references,
        warning,
    })
}

/// The warning an alert's `info` describes: level, kind, title, expiry, and its areas
/// placed on the city.
fn warning_of(info: roxmltree::Node, grids: Option<&GridIndex>) -> Result<NewWarning, Refused> {
    let p = "alert/info";
    let category = required(info, p, "category").map_err(bad)?;
    let event = required(info, p, "event").map_err(bad)?;
    one_of(
        required(info, p, "urgency").map_err(bad)?,
        "alert/info/urgency",
        &["Immediate", "Expected", "Future", "Past", "Unknown"],
    )
    .map_err(bad)?;
    let severity = one_of(
        required(info, p, "severity").map_err(bad)?,
        "alert/info/severity",
        &["Extreme", "Severe", "Moderate", "Minor", "Unknown"],
    )
    .map_err(bad)?;
    one_of(
        required(info, p, "certainty").map_err(bad)?,
        "alert/info/certainty",
        &["Observed", "Likely", "Possible", "Unlikely", "Unknown"],
    )
    .map_err(bad)?;
    for t in ["effective", "onset"] {
        if let Some(v) = text(info, t) {
            cap_time(&format!("alert/info/{t}"), v).map_err(bad)?;
        }
    }
    let expires_ms = match text(info, "expires") {
        Some(v) => Some(cap_time("alert/info/expires", v).map_err(bad)?),
        None => None,
    };
    let level = match severity {
        "Extreme" => WarningLevel::Red,
        "Severe" => WarningLevel::Orange,
        "Moderate" => WarningLevel::Yellow,
        _ => WarningLevel::Blue,
    };
    let kind = if ["洪", "涝", "汛", "flood", "Flood"]
        .iter()
        .any(|w| event.contains(w))
    {
        WarningKind::Flood
    } else {
        match category {
            "Met" => WarningKind::Weather,
            "Safety" => WarningKind::Crowding,
            "Security" => WarningKind::MajorRisk,
            _ => WarningKind::Other,
        }
    };
    let mut ids: Vec<String> = vec![];
    for area in info
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "area")
    {
        ids.extend(place(area, grids)?);
    }
    ids.sort();
    ids.dedup();
    // A region named whole takes in the grids inside it named besides.
    let regions: Vec<String> = ids
        .iter()
        .filter(|i| i.split('-').count() < 4)
        .cloned()
        .collect();
    ids.retain(|g| !regions.iter().any(|r| r != g && protocol::within(g, r)));
    let headline = text(info, "headline")
        .filter(|h| !h.is_empty())
        .unwrap_or(event);
    Ok(NewWarning {
        level,
        kind,
        title: headline.chars().take(200).collect(),
        grids: ids,
        tickets: vec![],
        cap_refs: vec![],
        expires_ms,
    })
}

/// The grids and regions one `area` names: geocodes by id or GB/T 2260 code (a region
/// stays one id), polygons and circles by the grids they touch. An area with none of the
/// city's is refused, by its areaDesc.
fn place(area: roxmltree::Node, grids: Option<&GridIndex>) -> Result<Vec<String>, Refused> {
    let desc = required(area, "alert/info/area", "areaDesc").map_err(bad)?;
    let outside = |what: String| {
        (
            ErrorCode::OutOfRange,
            format!("alert/info/area {desc:?}: {what} holds none of the city's grids"),
        )
    };
    let mut ids = vec![];
    for el in area.children().filter(|c| c.is_element()) {
        match el.tag_name().name() {
            "geocode" => {
                let name = required(el, "alert/info/area/geocode", "valueName").map_err(bad)?;
                let value = required(el, "alert/info/area/geocode", "value").map_err(bad)?;
                let id = match (name, grids) {
                    ("grid" | "region", None) => value.to_string(),
                    ("grid" | "region", Some(g)) if g.knows(value) => value.to_string(),
                    ("grid" | "region", Some(_)) => {
                        return Err(outside(format!("geocode {name}={value}")));
                    }
                    ("GB/T 2260" | "行政区划代码", Some(g)) => g
                        .region_of_code(value)
                        .ok_or_else(|| outside(format!("geocode {name}={value}")))?,
                    ("GB/T 2260" | "行政区划代码", None) => {
                        return Err(bad(format!(
                            "alert/info/area/geocode {name}={value}: this gateway has no grid layer to read codes by"
                        )));
                    }
                    _ => {
                        return Err(bad(format!(
                            "alert/info/area/geocode valueName {name:?}: grid, region or GB/T 2260 is understood"
                        )));
                    }
                };
                ids.push(id);
            }
            "polygon" => {
                let raw = el.text().unwrap_or("");
                let poly = polygon(raw).map_err(bad)?;
                let g = grids.ok_or_else(|| {
                    bad(
                        "alert/info/area/polygon: this gateway has no grid layer to place it"
                            .into(),
                    )
                })?;
                let found = g.intersecting(&poly);
                if found.is_empty() {
                    return Err(outside(format!("polygon {raw:?}")));
                }
                ids.extend(found);
            }
            "circle" => {
                let raw = el.text().unwrap_or("");
                let (lon, lat, r) = circle(raw).map_err(bad)?;
                let g = grids.ok_or_else(|| {
                    bad("alert/info/area/circle: this gateway has no grid layer to place it".into())
                })?;
                let found = g.near(lon, lat, r);
                if found.is_empty() {
                    return Err(outside(format!("circle {raw:?}")));
                }
                ids.extend(found);
            }
            _ => {}
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(body: &str) -> String {
        format!(
            "<alert xmlns=\"{CAP_NS}\"><identifier>A-1</identifier><sender>met@zj</sender>\
             <sent>2026-07-01T10:00:00+08:00</sent><status>Actual</status>{body}</alert>"
        )
    }

    #[test]
    fn an_alert_becomes_a_warning_and_a_bad_one_names_its_element() {
        let info = "<info><category>Met</category><event>暴雨内涝</event><urgency>Immediate</urgency>\
            <severity>Severe</severity><certainty>Likely</certainty><headline>暴雨橙色预警</headline>\
            <area><areaDesc>大渡社区</areaDesc><geocode><valueName>grid</valueName><value>321102-01-001-001</value></geocode></area></info>";
        let p = parse(
            &alert(&format!(
                "<msgType>Alert</msgType><scope>Public</scope>{info}"
            )),
            None,
        )
        .unwrap();
        let w = p.warning.unwrap();
        assert_eq!(
            (w.level, w.kind, w.title.as_str()),
            (WarningLevel::Orange, WarningKind::Flood, "暴雨橙色预警")
        );
        assert_eq!(w.grids, ["321102-01-001-001"]);
        let bad = parse(
            &alert(&format!(
                "<msgType>Alert</msgType><scope>Public</scope>{}",
                info.replace("Severe", "Huge")
            )),
            None,
        );
        assert!(
            bad.unwrap_err()
                .1
                .starts_with("alert/info/severity \"Huge\"")
        );
        let no_scope = parse(&alert("<msgType>Alert</msgType>"), None).unwrap_err();
        assert_eq!(no_scope.1, "alert/scope is missing");
        let cancel = parse(
            &alert("<msgType>Cancel</msgType><scope>Public</scope>"),
            None,
        )
        .unwrap_err()
        .1;
        assert!(
            cancel.starts_with("alert/references is missing"),
            "{cancel}"
        );
        let other = parse("<alert><identifier>x</identifier></alert>", None)
            .unwrap_err()
            .1;
        assert!(other.contains("not a CAP 1.2"), "{other}");
        // Times: the schema's form with a zone, nothing else.
        assert_eq!(
            cap_time("t", "2026-07-01T10:00:00+08:00").unwrap(),
            cap_time("t", "2026-07-01T02:00:00+00:00").unwrap()
        );
        assert_eq!(cap_time("t", "1970-01-01T00:00:00-00:00").unwrap(), 0);
        for t in [
            "2026-12-01 09:30:00",
            "2026-12-01T09:30:00Z",
            "2026-12-01T09:30:00",
            "2026-13-01T09:30:00+08:00",
        ] {
            assert!(cap_time("alert/sent", t).is_err(), "{t}");
        }
        let loose = alert("<msgType>Alert</msgType><scope>Public</scope>")
            .replace("2026-07-01T10:00:00+08:00", "2026-12-01 09:30:00");
        let e = parse(&loose, None).unwrap_err().1;
        assert!(e.starts_with("alert/sent \"2026-12-01 09:30:00\""), "{e}");
    }
}
