//! CAP 1.2 alerts in: `POST /cap/alerts` with an operator's token and a CAP alert as the
//! body raises a warning (`Alert`), replaces the one an earlier alert raised (`Update`:
//! lifted, and the new one raised) or lifts it (`Cancel`). Severity gives the level,
//! geocodes and polygons the grids. A malformed alert gets `400` naming the element and
//! changes nothing. INTERFACES.md has the mapping.

use geo::Polygon;

use gis::GridIndex;
use protocol::{NewWarning, WarningKind, WarningLevel};

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
    /// The warning to raise (Alert, Update).
    pub warning: Option<NewWarning>,
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
/// grid geocodes can name places).
pub fn parse(xml: &str, grids: Option<&GridIndex>) -> Result<Parsed, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "alert" || root.tag_name().namespace() != Some(CAP_NS) {
        return Err(format!(
            "alert: the root element is <{}> in namespace {:?}, not a CAP 1.2 <alert> ({CAP_NS})",
            root.tag_name().name(),
            root.tag_name().namespace().unwrap_or("none")
        ));
    }
    let identifier = required(root, "alert", "identifier")?.to_string();
    let sender = required(root, "alert", "sender")?.to_string();
    required(root, "alert", "sent")?;
    let status = required(root, "alert", "status")?;
    one_of(
        status,
        "alert/status",
        &["Actual", "Exercise", "System", "Test", "Draft"],
    )?;
    if status != "Actual" {
        return Err(format!(
            "alert/status {status}: only Actual alerts change warnings"
        ));
    }
    let msg_type = required(root, "alert", "msgType")?;
    one_of(
        msg_type,
        "alert/msgType",
        &["Alert", "Update", "Cancel", "Ack", "Error"],
    )?;
    if matches!(msg_type, "Ack" | "Error") {
        return Err(format!(
            "alert/msgType {msg_type}: only Alert, Update and Cancel change warnings"
        ));
    }
    let scope = required(root, "alert", "scope")?;
    one_of(scope, "alert/scope", &["Public", "Restricted", "Private"])?;
    let references: Vec<(String, String)> = text(root, "references")
        .unwrap_or("")
        .split_whitespace()
        .map(|r| {
            let mut it = r.split(',');
            match (it.next(), it.next()) {
                (Some(s), Some(i)) if !s.is_empty() && !i.is_empty() => {
                    Ok((s.to_string(), i.to_string()))
                }
                _ => Err(format!(
                    "alert/references {r:?} is not sender,identifier,sent"
                )),
            }
        })
        .collect::<Result<_, _>>()?;
    if msg_type != "Alert" && references.is_empty() {
        return Err(format!(
            "alert/references is missing: an {msg_type} names the alert it changes"
        ));
    }
    let warning = if msg_type == "Cancel" {
        None
    } else {
        let info = root
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == "info")
            .ok_or("alert/info is missing")?;
        let p = "alert/info";
        let category = required(info, p, "category")?;
        let event = required(info, p, "event")?;
        one_of(
            required(info, p, "urgency")?,
            "alert/info/urgency",
            &["Immediate", "Expected", "Future", "Past", "Unknown"],
        )?;
        let severity = one_of(
            required(info, p, "severity")?,
            "alert/info/severity",
            &["Extreme", "Severe", "Moderate", "Minor", "Unknown"],
        )?;
        one_of(
            required(info, p, "certainty")?,
            "alert/info/certainty",
            &["Observed", "Likely", "Possible", "Unlikely", "Unknown"],
        )?;
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
        let mut grid_ids: Vec<String> = vec![];
        for area in info
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "area")
        {
            required(area, "alert/info/area", "areaDesc")?;
            for el in area.children().filter(|c| c.is_element()) {
                match el.tag_name().name() {
                    "geocode" => {
                        let name = required(el, "alert/info/area/geocode", "valueName")?;
                        let value = required(el, "alert/info/area/geocode", "value")?;
                        match (name, grids) {
                            ("grid", None) => grid_ids.push(value.to_string()),
                            ("grid" | "region" | "GB/T 2260" | "行政区划代码", Some(g)) => {
                                let found = g.within(value);
                                if found.is_empty() {
                                    return Err(format!(
                                        "alert/info/area/geocode {name}={value}: no grid of the city there"
                                    ));
                                }
                                grid_ids.extend(found);
                            }
                            _ => {
                                return Err(format!(
                                    "alert/info/area/geocode valueName {name:?}: grid, region or GB/T 2260 is understood"
                                ));
                            }
                        }
                    }
                    "polygon" => {
                        let poly = polygon(el.text().unwrap_or(""))?;
                        let g = grids.ok_or(
                            "alert/info/area/polygon: this gateway has no grid layer to place it",
                        )?;
                        grid_ids.extend(g.inside(&poly));
                    }
                    _ => {}
                }
            }
        }
        grid_ids.sort();
        grid_ids.dedup();
        let headline = text(info, "headline")
            .filter(|h| !h.is_empty())
            .unwrap_or(event);
        Some(NewWarning {
            level,
            kind,
            title: headline.chars().take(200).collect(),
            grids: grid_ids,
            tickets: vec![],
        })
    };
    Ok(Parsed {
        identifier,
        sender,
        msg_type: msg_type.to_string(),
        references,
        warning,
    })
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
        assert!(bad.unwrap_err().starts_with("alert/info/severity \"Huge\""));
        let no_scope = parse(&alert("<msgType>Alert</msgType>"), None).unwrap_err();
        assert_eq!(no_scope, "alert/scope is missing");
        let cancel = parse(
            &alert("<msgType>Cancel</msgType><scope>Public</scope>"),
            None,
        )
        .unwrap_err();
        assert!(
            cancel.starts_with("alert/references is missing"),
            "{cancel}"
        );
        let other = parse("<alert><identifier>x</identifier></alert>", None).unwrap_err();
        assert!(other.contains("not a CAP 1.2"), "{other}");
    }
}
