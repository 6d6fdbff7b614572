//! Dispatch recommendation: which units answer for a ticket, best first. Pure domain
//! logic over protocol records, shared by the wall (the officer's one click and the
//! panel's list, which must agree) and the simulator (the units' own routing).

use super::lifecycle::can_dispatch;
use protocol::{AuditAction, AuditEntry, Command, Level, Ticket, Unit, within};

/// The units that may take `t`, best first: on duty, handling its category, answering
/// for an area that contains its grid; those whose area matches the ticket's level first
/// (the village's grid workers for a village-level ticket, the town's for town level, the
/// district's departments above), then the nearest.
pub fn rank_units<'a>(units: impl Iterator<Item = &'a Unit>, t: &Ticket) -> Vec<&'a Unit> {
    // Grid ids are district-town-village-grid; an area is one of their prefixes.
    let want = match t.level {
        Level::Village => 3,
        Level::Town => 2,
        Level::County | Level::City => 1,
    };
    let mut out: Vec<(&Unit, (usize, f64))> = units
        .filter(|u| u.on_duty && u.categories.contains(&t.category) && within(&t.grid, &u.area))
        .map(|u| {
            let depth = if u.area.is_empty() {
                0
            } else {
                u.area.split('-').count()
            };
            let d = (u.lon - t.lon).powi(2) + (u.lat - t.lat).powi(2);
            (u, (depth.abs_diff(want), d))
        })
        .collect();
    out.sort_by(|a, b| a.1.0.cmp(&b.1.0).then(a.1.1.total_cmp(&b.1.1)));
    out.into_iter().map(|(u, _)| u).collect()
}

/// The unit that last gave this ticket back (退回), from its audit trail: it has said the
/// ticket is not its own.
pub fn returned_by(trail: &[AuditEntry]) -> Option<&str> {
    trail
        .iter()
        .rev()
        .find(|a| a.action == AuditAction::Return)
        .and_then(|a| a.unit.as_deref())
}

/// The units to offer for `t`, best first: `rank_units`, with the unit that returned it
/// (when its trail is known) moved to the back.
pub fn recommend<'a>(
    units: impl Iterator<Item = &'a Unit>,
    t: &Ticket,
    trail: Option<&[AuditEntry]>,
) -> Vec<&'a Unit> {
    let mut ranked = rank_units(units, t);
    if let Some(r) = trail.and_then(returned_by) {
        // A stable sort: the others keep their order.
        ranked.sort_by_key(|u| u.id == r);
    }
    ranked
}

/// The one-click dispatch for `t`: to the first recommended unit, while it waits for one.
pub fn dispatch_command<'a>(
    units: impl Iterator<Item = &'a Unit>,
    t: &Ticket,
    trail: Option<&[AuditEntry]>,
) -> Option<Command> {
    if !can_dispatch(t.status) {
        return None;
    }
    let unit = recommend(units, t, trail).first()?.id.clone();
    Some(Command::Dispatch { ticket: t.id, unit })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Category, examples};

    #[test]
    fn the_unit_that_returned_a_ticket_goes_last_in_the_list_and_the_one_click() {
        let t = examples::ticket();
        let mk = |id: &str, lon: f64| Unit {
            id: id.into(),
            area: "321102-01".into(),
            lon,
            on_duty: true,
            categories: vec![t.category],
            ..examples::unit()
        };
        let units = [mk("near", t.lon), mk("far", t.lon + 0.1)];
        let back = AuditEntry {
            action: AuditAction::Return,
            unit: Some("near".into()),
            ..examples::audit()
        };
        let ids = |trail: Option<&[AuditEntry]>| -> Vec<String> {
            recommend(units.iter(), &t, trail)
                .iter()
                .map(|u| u.id.clone())
                .collect()
        };
        assert_eq!(ids(None), ["near", "far"]);
        assert_eq!(ids(Some(std::slice::from_ref(&back))), ["far", "near"]);
        assert_eq!(
            dispatch_command(units.iter(), &t, Some(std::slice::from_ref(&back))),
            Some(Command::Dispatch {
                ticket: t.id,
                unit: "far".into()
            })
        );
    }

    #[test]
    fn the_own_area_comes_first_then_the_nearest_and_off_duty_units_never() {
        let t = examples::ticket(); // grid 321102-01-003-005, dispute, village level
        let mk = |id: &str, area: &str, lon: f64, on: bool, cat: Category| Unit {
            id: id.into(),
            area: area.into(),
            lon,
            on_duty: on,
            categories: vec![cat],
            ..examples::unit()
        };
        let units = [
            mk("district-near", "321102", t.lon, true, Category::Dispute),
            mk(
                "town-far",
                "321102-01",
                t.lon + 0.1,
                true,
                Category::Dispute,
            ),
            mk(
                "town-near",
                "321102-01",
                t.lon + 0.01,
                true,
                Category::Dispute,
            ),
            mk("town-off", "321102-01", t.lon, false, Category::Dispute),
            mk("other-town", "321102-02", t.lon, true, Category::Dispute),
            mk(
                "wrong-category",
                "321102-01",
                t.lon,
                true,
                Category::Environment,
            ),
        ];
        let ids: Vec<_> = rank_units(units.iter(), &t)
            .iter()
            .map(|u| u.id.as_str())
            .collect();
        // A village-level ticket: its town's units are one level off, the district two.
        assert_eq!(ids, ["town-near", "town-far", "district-near"]);
        let village = mk(
            "grid-worker",
            "321102-01-003",
            t.lon + 0.2,
            true,
            Category::Dispute,
        );
        let all: Vec<Unit> = units.iter().cloned().chain([village]).collect();
        assert_eq!(
            rank_units(all.iter(), &t)[0].id,
            "grid-worker",
            "the village's own first"
        );
    }
}
