//! The demo city: its hierarchy nests exactly, its counts match the spec, the same seed
//! gives the same city, and a fast-forwarded simulated year lands on the seeds' figures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly where it stands

use std::collections::HashMap;
use std::path::Path;

use geo::{Area, MultiPolygon};
use yiping::gis::city::{City, Region, read_outline};
use yiping::sim::city::{CitySpec, density, generate};
use yiping::sim::year::fast_forward;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn area(m: &MultiPolygon<f64>) -> f64 {
    m.unsigned_area()
}

/// Every child's parent exists, and each parent's area is its children's areas summed.
fn nests(children: &[Region], parents: &[Region], what: &str) {
    let by_id: HashMap<&str, &Region> = parents.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut sums: HashMap<&str, f64> = HashMap::new();
    for c in children {
        assert!(
            by_id.contains_key(c.parent.as_str()),
            "{what}: {} has no parent {}",
            c.id,
            c.parent
        );
        assert!(
            c.id.starts_with(&c.parent),
            "{what}: {} does not carry its parent's id {}",
            c.id,
            c.parent
        );
        *sums.entry(c.parent.as_str()).or_default() += area(&c.shape);
    }
    for p in parents {
        let (want, got) = (
            area(&p.shape),
            sums.get(p.id.as_str()).copied().unwrap_or(0.0),
        );
        assert!(
            (want - got).abs() <= want * 1e-6 + 1e-12,
            "{what}: {} has area {want}, its children {got}",
            p.id
        );
    }
}

#[test]
fn the_generated_city_nests_exactly_matches_its_spec_and_is_the_committed_one() {
    let outline = read_outline(&root().join("assets/geo/zhenjiang_outline.geojson")).unwrap();
    let spec = CitySpec::default();
    let city = generate(outline.clone(), &spec);

    // Counts as the spec says: 6 → 61 → 700 → 3,416 + 585 grids → about 16,000 micro-grids.
    assert_eq!(city.districts.len(), 6);
    assert_eq!(city.towns.len(), spec.towns);
    assert_eq!(city.villages.len(), spec.villages);
    assert_eq!(city.grids.len(), spec.grids);
    assert_eq!(city.grids.iter().filter(|g| g.dedicated).count(), 585);
    assert!(
        (15_500..=16_100).contains(&city.micro_grids.len()),
        "{} micro-grids",
        city.micro_grids.len()
    );

    // Every level is the exact union of the one below.
    nests(&city.towns, &city.districts, "towns in districts");
    nests(&city.villages, &city.towns, "villages in towns");
    nests(&city.grids, &city.villages, "grids in villages");
    nests(&city.micro_grids, &city.grids, "micro-grids in grids");

    // Siblings do not overlap: the union of all grids has the area of their sum, and it
    // covers the city but for the slivers dropped along the outline.
    let sum: f64 = city.grids.iter().map(|g| area(&g.shape)).sum();
    let union = geo::unary_union(city.grids.iter().map(|g| &g.shape));
    assert!(
        (area(&union) - sum).abs() < sum * 1e-6,
        "grids overlap: union {} vs sum {sum}",
        area(&union)
    );
    let whole = area(&outline);
    assert!(
        sum <= whole * (1.0 + 1e-9) && sum > whole * 0.99,
        "grids cover {:.4} of the city",
        sum / whole
    );

    // People: 300-500 households a comprehensive grid, 50-100 a micro-grid; a denser core.
    for g in city.grids.iter().filter(|g| !g.dedicated) {
        assert!(
            (300..=500).contains(&g.households),
            "{} has {}",
            g.id,
            g.households
        );
        assert!(!g.worker.is_empty());
    }
    assert!(
        city.micro_grids
            .iter()
            .filter(|m| !m.dedicated)
            .all(|m| (50..=100).contains(&m.households))
    );
    let core: Vec<f64> = city
        .grids
        .iter()
        .filter(|g| density(g.center) > 5.0)
        .map(|g| area(&g.shape))
        .collect();
    let rural: Vec<f64> = city
        .grids
        .iter()
        .filter(|g| density(g.center) < 1.5)
        .map(|g| area(&g.shape))
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&core) * 4.0 < mean(&rural),
        "the core's grids are not smaller"
    );

    // The same seed gives the same city: byte for byte the layers committed in assets/city
    // (written by a release build), so debug and release agree too.
    let dir = tempfile::tempdir().unwrap();
    city.write_layers(dir.path()).unwrap();
    for (name, _) in city.layers() {
        let file = format!("{name}.geojson");
        let made = std::fs::read(dir.path().join(&file)).unwrap();
        let committed = std::fs::read(root().join("assets/city").join(&file)).unwrap();
        assert!(
            made == committed,
            "{file} differs from the committed layer: run `yiping gen-city`"
        );
    }
}

#[test]
fn a_simulated_year_lands_on_the_seeds_figures_with_legal_transitions_only() {
    let city = City::load(
        &root().join("assets/city"),
        &root().join("assets/geo/zhenjiang_outline.geojson"),
    )
    .unwrap();
    // A Jiangyin-sized county: about 95,000 tickets a year.
    let r = fast_forward(&city, 260.0, 365, 11, 1_767_196_800_000, None);
    println!("{r:?}");
    assert_eq!(r.refused, 0, "the simulator made an illegal lifecycle move");
    assert!(
        (90_000..=100_000).contains(&r.tickets),
        "{} tickets",
        r.tickets
    );
    let near = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() <= 0.02,
            "{what}: {:.2}% vs the seeds' {:.2}%",
            got * 100.0,
            want * 100.0
        );
    };
    near(r.closure_rate, 0.989, "closure rate 办结率");
    near(
        r.dispute_resolution_rate,
        0.987,
        "dispute resolution 化解率",
    );
    near(
        r.resolved_low_share,
        0.983,
        "resolved at town or village level",
    );
    near(r.satisfaction, 0.979, "satisfaction 满意率");
}

#[test]
fn a_flood_multiplies_intake_tens_of_times_in_the_affected_districts() {
    let city = City::load(
        &root().join("assets/city"),
        &root().join("assets/geo/zhenjiang_outline.geojson"),
    )
    .unwrap();
    let start = 1_767_196_800_000; // 2026-01-01 00:00 Beijing
    let flood_at = start + 86_400_000 + 10 * 3_600_000; // the next day, 10:00
    let affected: &[&str] = &["321182", "321112"];
    let r = fast_forward(&city, 2600.0, 3, 5, start, Some((affected, flood_at, 30.0)));
    assert_eq!(r.refused, 0);
    assert!(r.warnings >= 1, "the flood raises its red warning");
    let hour = flood_at / 3_600_000;
    let count = |h: i64| {
        affected
            .iter()
            .map(|d| {
                r.by_hour_district
                    .get(&(h, d.to_string()))
                    .copied()
                    .unwrap_or(0)
            })
            .sum::<u64>()
    };
    let (during, day_before, day_after) = (count(hour), count(hour - 24), count(hour + 24));
    let usual = (day_before + day_after) as f64 / 2.0;
    assert!(
        during as f64 >= 10.0 * usual.max(1.0),
        "flood hour {during} vs usual {usual}"
    );
    // The districts it did not touch carry on as usual.
    let others = |h: i64| {
        r.by_hour_district
            .iter()
            .filter(|((hh, d), _)| *hh == h && !affected.contains(&d.as_str()))
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    assert!((others(hour) as f64) < 3.0 * (others(hour - 24).max(1) as f64));
}

/// A site's layers in its own form: codes without hyphens in properties of its own
/// naming (DM/MC, XZDM/XZMC, …), written from the committed demo layers.
fn site_layers(dir: &Path, drop_town: Option<&str>) -> std::path::PathBuf {
    let layers = [
        ("districts", "DM", "MC"),
        ("towns", "XZDM", "XZMC"),
        ("villages", "CJDM", "CJMC"),
        ("grids", "WGDM", "WGMC"),
        ("micro_grids", "WYDM", "WYMC"),
    ];
    let mut spec = String::from("name = \"镇江市\"\ncode = \"321100\"\n");
    for (layer, code, name) in layers {
        let text =
            std::fs::read_to_string(root().join(format!("assets/city/{layer}.geojson"))).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let features = v["features"].as_array_mut().unwrap();
        features.retain(|f| Some(f["properties"]["id"].as_str().unwrap()) != drop_town);
        for f in features.iter_mut() {
            let p = &f["properties"];
            let props = serde_json::json!({
                code: p["id"].as_str().unwrap().replace('-', ""),
                name: p["name"],
                "WORKER": p["worker"],
            });
            f["properties"] = props;
        }
        std::fs::write(dir.join(format!("{layer}.geojson")), v.to_string()).unwrap();
        spec.push_str(&format!(
            "[{layer}]\nfile = \"{layer}.geojson\"\ncode = \"{code}\"\nname = \"{name}\"\n"
        ));
        if layer == "grids" {
            spec.push_str("worker = \"WORKER\"\n");
        }
    }
    let path = dir.join("site.toml");
    std::fs::write(&path, spec).unwrap();
    path
}

/// `yiping import-city` on a site's own layers (the demo's, recoded: plain codes in
/// properties of the site's naming) gives back the demo's ids, names and nesting; with a
/// town left out, every village of it is named as having no town and its district as
/// not covered, and nothing is written.
#[test]
fn a_sites_own_layers_import_to_the_demos_ids_and_every_problem_names_its_code() {
    use yiping::import::city::{import, read_spec};
    let dir = tempfile::tempdir().unwrap();
    let spec = read_spec(&site_layers(dir.path(), None)).unwrap();
    let city = import(&spec)
        .unwrap()
        .unwrap_or_else(|p| panic!("{} problems: {:?}", p.len(), &p[..p.len().min(5)]));
    let demo = City::load(
        &root().join("assets/city"),
        &root().join("assets/geo/zhenjiang_outline.geojson"),
    )
    .unwrap();
    for ((name, got), (_, want)) in city.layers().into_iter().zip(demo.layers()) {
        let ids = |v: &[Region]| {
            v.iter()
                .map(|r| (r.id.clone(), r.name.clone(), r.parent.clone()))
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(ids(got), ids(want), "{name}");
    }
    assert_eq!(
        city.grids
            .iter()
            .find(|g| g.id == "321102-01-001-001")
            .map(|g| g.worker.as_str()),
        Some("郭霞玲")
    );
    // Written as the wall and the gateway read layers, not marked schematic.
    let out = dir.path().join("out");
    city.write_layers_as(&out, false).unwrap();
    let again = City::load(&out, &root().join("assets/geo/zhenjiang_outline.geojson")).unwrap();
    assert_eq!(again.grids.len(), demo.grids.len());
    nests(&again.towns, &again.districts, "imported towns");
    assert!(
        std::fs::read_to_string(out.join("grids.geojson"))
            .unwrap()
            .contains("\"schematic\":false")
    );

    // A town missing: every problem has the code of the feature it is about.
    let bad = tempfile::tempdir().unwrap();
    let spec = read_spec(&site_layers(bad.path(), Some("321102-01"))).unwrap();
    let Err(problems) = import(&spec).unwrap() else {
        panic!("a missing town is a problem")
    };
    let orphans: Vec<_> = problems.iter().filter(|p| p.layer == "village").collect();
    let villages_of_town = demo
        .villages
        .iter()
        .filter(|v| v.parent == "321102-01")
        .count();
    assert_eq!(orphans.len(), villages_of_town, "{problems:?}");
    assert!(
        orphans
            .iter()
            .all(|p| p.code.starts_with("32110201") && p.what.contains("no town")),
        "{orphans:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.layer == "district" && p.code == "321102" && p.what.contains("cover")),
        "{problems:?}"
    );
}

/// Issue 32: a grid polygon that crosses itself is named, with where, beside the other
/// problems of the same run; a city without micro-grids is written without that layer, and
/// read back.
#[test]
fn an_import_names_a_polygon_that_crosses_itself_and_writes_no_empty_micro_grid_layer() {
    use yiping::import::city::{import, read_spec};
    let dir = tempfile::tempdir().unwrap();
    let spec_path = site_layers(dir.path(), Some("321102-01"));
    // One grid of another town made a bow tie: two of its corners swapped.
    let grids = dir.path().join("grids.geojson");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&grids).unwrap()).unwrap();
    let f = v["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["properties"]["WGDM"] == "32110202001001")
        .map(|f| &mut f["geometry"]["coordinates"])
        .unwrap();
    let ring = if f[0][0][0].is_array() {
        &mut f[0][0]
    } else {
        &mut f[0]
    };
    let ring = ring.as_array_mut().unwrap();
    assert!(ring.len() >= 5, "{ring:?}");
    ring.swap(1, 2);
    std::fs::write(&grids, v.to_string()).unwrap();
    let Err(problems) = import(&read_spec(&spec_path).unwrap()).unwrap() else {
        panic!("three kinds of problem, none found")
    };
    let crossing: Vec<_> = problems
        .iter()
        .filter(|p| p.layer == "grid" && p.code == "32110202001001")
        .collect();
    assert!(
        crossing.len() == 1 && crossing[0].what.contains("crosses itself near (119."),
        "{crossing:?}"
    );
    assert!(problems.iter().any(|p| p.what.contains("no town")));
    assert!(problems.iter().any(|p| p.what.contains("cover")));

    // No micro-grids in the site's data: none written, and the layers read back.
    let clean = tempfile::tempdir().unwrap();
    let spec_path = site_layers(clean.path(), None);
    let text = std::fs::read_to_string(&spec_path).unwrap();
    let without = text.split("[micro_grids]").next().unwrap().to_string();
    std::fs::write(&spec_path, without).unwrap();
    let city = import(&read_spec(&spec_path).unwrap()).unwrap().unwrap();
    assert!(city.micro_grids.is_empty());
    let out = clean.path().join("out");
    city.write_layers_as(&out, false).unwrap();
    assert!(!out.join("micro_grids.geojson").exists());
    assert!(out.join("grids.geojson").exists());
    let again = City::load(&out, &root().join("assets/geo/zhenjiang_outline.geojson")).unwrap();
    assert_eq!(
        (again.grids.len(), again.micro_grids.len()),
        (city.grids.len(), 0)
    );
}
