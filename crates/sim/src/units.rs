//! The linked units of the demo city and which unit answers for which category.

use protocol::{Category, Unit, UnitKind};

use gis::city::City;

/// Departments every district has, with the categories each answers for.
const DEPARTMENTS: [(UnitKind, &str, &[Category]); 9] = [
    (
        UnitKind::Police,
        "公安分局",
        &[Category::PublicOrder, Category::Emergency],
    ),
    (
        UnitKind::CityManagement,
        "城管局",
        &[Category::CityManagement],
    ),
    (
        UnitKind::EmergencyManagement,
        "应急管理局",
        &[Category::Emergency, Category::SafetyHazard],
    ),
    (
        UnitKind::Environment,
        "生态环境局",
        &[Category::Environment],
    ),
    (
        UnitKind::Labour,
        "人社局",
        &[Category::Dispute, Category::Livelihood],
    ),
    (
        UnitKind::Water,
        "水利局",
        &[Category::Emergency, Category::Livelihood],
    ),
    (UnitKind::Power, "供电公司", &[Category::Livelihood]),
    (UnitKind::PetitionBureau, "信访局", &[Category::Petition]),
    (
        UnitKind::MarketRegulation,
        "市场监管局",
        &[Category::Livelihood, Category::SafetyHazard],
    ),
];

/// Units at each town: its center, the justice office and a mediator.
const TOWN_UNITS: [(UnitKind, &str, &[Category]); 3] = [
    (
        UnitKind::TownCenter,
        "社会治理中心",
        &[
            Category::Dispute,
            Category::SafetyHazard,
            Category::CityManagement,
            Category::Environment,
            Category::Livelihood,
            Category::Petition,
        ],
    ),
    (
        UnitKind::JusticeOffice,
        "司法所",
        &[Category::Dispute, Category::Petition],
    ),
    (UnitKind::Mediator, "调解员", &[Category::Dispute]),
];

/// Every unit of the city: district departments, town units, and each village's grid
/// workers (网格员), who take the small matters first (小事不出村).
pub fn units_of(city: &City) -> Vec<Unit> {
    let mut out = vec![];
    for d in &city.districts {
        for (i, (kind, name, cats)) in DEPARTMENTS.iter().enumerate() {
            out.push(Unit {
                id: format!("U-{}-{:?}", d.id, kind).to_lowercase(),
                name: format!("{}{}", d.name, name),
                kind: *kind,
                area: d.id.clone(),
                categories: cats.to_vec(),
                lon: d.center[0] + 0.004 * (i as f64 - 4.0),
                lat: d.center[1] + 0.003,
                on_duty: true,
                phone: String::new(),
            });
        }
    }
    for t in &city.towns {
        for (i, (kind, name, cats)) in TOWN_UNITS.iter().enumerate() {
            out.push(Unit {
                id: format!("U-{}-{:?}", t.id, kind).to_lowercase(),
                name: format!("{}{}", t.name, name),
                kind: *kind,
                area: t.id.clone(),
                categories: cats.to_vec(),
                lon: t.center[0] + 0.002 * i as f64,
                lat: t.center[1],
                on_duty: true,
                phone: String::new(),
            });
        }
    }
    for v in &city.villages {
        let worker = city
            .grids
            .iter()
            .find(|g| g.parent == v.id)
            .map(|g| g.worker.clone())
            .unwrap_or_default();
        out.push(Unit {
            id: format!("U-{}-grid", v.id).to_lowercase(),
            name: format!("{}网格员 {worker}", v.name),
            kind: UnitKind::GridWorker,
            area: v.id.clone(),
            categories: vec![
                Category::Dispute,
                Category::CityManagement,
                Category::SafetyHazard,
                Category::Livelihood,
            ],
            lon: v.center[0],
            lat: v.center[1],
            on_duty: true,
            phone: String::new(),
        });
    }
    out
}
