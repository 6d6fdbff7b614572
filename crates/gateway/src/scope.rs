//! What a feed scoped to a region sees of the city-wide records: the units serving it,
//! and of a briefing (every wall turns to it) the title with only its own tickets and
//! grids. PROTOCOL.md ("Scoped feeds") says the same.

use protocol::{Briefing, Event, ServerMsg, Unit, within};

/// The units a scope sees: those whose area lies inside it or contains it (a city-wide
/// unit serves every town). The rule deltas follow (`Event::in_region`).
pub fn units<'a>(all: impl IntoIterator<Item = &'a Unit>, region: &str) -> Vec<Unit> {
    all.into_iter()
        .filter(|u| within(&u.area, region) || within(region, &u.area))
        .cloned()
        .collect()
}

/// A briefing as a feed scoped to `region` sees it: incident, title and times kept (the
/// wall shows that a briefing runs); tickets limited to those `grid_of` places inside
/// the scope, grids to those inside it, and no significant-events lane (its entries are
/// the whole incident's trail).
pub fn briefing(b: &Briefing, region: &str, grid_of: impl Fn(u64) -> Option<String>) -> Briefing {
    if region.is_empty() {
        return b.clone();
    }
    Briefing {
        tickets: b
            .tickets
            .iter()
            .copied()
            .filter(|id| grid_of(*id).is_some_and(|g| within(&g, region)))
            .collect(),
        grids: b
            .grids
            .iter()
            .filter(|g| within(g, region))
            .cloned()
            .collect(),
        significant: Vec::new(),
        ..b.clone()
    }
}

/// A delta frame of a briefing change, re-made for a scoped feed; `None` for any other
/// frame (sent as it is) or one that does not read back (a bug, said in the log).
pub fn briefing_frame(
    frame: &str,
    region: &str,
    grid_of: impl Fn(u64) -> Option<String>,
) -> Option<String> {
    if region.is_empty() {
        return None;
    }
    let mut msg: ServerMsg = serde_json::from_str(frame)
        .map_err(|e| tracing::error!("a delta frame does not read back: {e}"))
        .ok()?;
    let ServerMsg::Delta {
        event: Event::BriefingChanged { briefing: Some(b) },
        ..
    } = &mut msg
    else {
        return None;
    };
    *b = briefing(b, region, grid_of);
    serde_json::to_string(&msg)
        .map_err(|e| tracing::error!("a scoped briefing does not serialize: {e}"))
        .ok()
}

/// The duty room as a feed scoped to `region` sees it: its own centers' and those above
/// (their shifts, escalations and handovers); `None` when there is nothing (no roster).
pub fn duty(d: &protocol::Duty, region: &str) -> Option<Box<protocol::Duty>> {
    if d == &protocol::Duty::default() {
        return None;
    }
    let mine = |c: &str| protocol::within(c, region) || protocol::within(region, c);
    let mut d = d.clone();
    d.roster.shifts.retain(|s| mine(&s.center));
    d.escalations.retain(|e| mine(&e.center));
    d.handovers.retain(|h| mine(&h.center));
    Some(Box::new(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Incident, examples};

    fn b() -> Briefing {
        Briefing {
            incident: Incident::Warning { id: 3 },
            title: "防汛".into(),
            tickets: vec![1, 2],
            grids: vec!["321102-01-003-005".into(), "321111-02-001-01".into()],
            significant: vec![9],
            started_ms: 0,
            by: "市指挥中心".into(),
        }
    }

    fn grid_of(id: u64) -> Option<String> {
        match id {
            1 => Some("321102-01-003-005".into()),
            2 => Some("321111-02-001-01".into()),
            _ => None,
        }
    }

    #[test]
    fn a_town_sees_the_title_and_its_own_part_of_a_briefing() {
        let town = briefing(&b(), "321102-01", grid_of);
        assert_eq!(town.title, "防汛");
        assert_eq!(town.tickets, vec![1]);
        assert_eq!(town.grids, vec!["321102-01-003-005".to_string()]);
        assert!(town.significant.is_empty());
        assert_eq!(briefing(&b(), "", grid_of), b());
        let msg = ServerMsg::Delta {
            epoch: "e".into(),
            seq: 5,
            ts_us: 7,
            event: Event::BriefingChanged {
                briefing: Some(b()),
            },
        };
        let frame = serde_json::to_string(&msg).unwrap();
        let scoped = briefing_frame(&frame, "321111", grid_of).unwrap();
        assert!(scoped.contains("321111-02-001-01") && !scoped.contains("321102-01-003-005"));
        assert!(briefing_frame(&frame, "", grid_of).is_none());
    }

    #[test]
    fn a_town_sees_its_units_and_the_city_wide_ones() {
        let mk = |id: &str, area: &str| Unit {
            id: id.into(),
            area: area.into(),
            ..examples::unit()
        };
        let all = [
            mk("a", "321102-01"),
            mk("b", "321111"),
            mk("c", ""),
            mk("d", "321102"),
        ];
        let ids: Vec<String> = units(&all, "321102-01").into_iter().map(|u| u.id).collect();
        assert_eq!(ids, ["a", "c", "d"]);
        assert_eq!(units(&all, "").len(), 4);
    }
}
