//! Briefing mode (联合会商): when the gateway says a briefing runs, every wall turns to its
//! incident — the map drills to its area, and a board shows the key numbers in large type,
//! the units engaged, the significant-events lane a duty officer curated, and (for the
//! officer) the whole audit trail with a star to promote an entry. Starting, curating and
//! ending are commands, so a console drives what the wall shows. Here: what a briefing
//! covers and the system that turns the wall to it; the board is `panels/briefing.rs`.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashSet};

use bevy::prelude::*;

use super::WallSet;
use super::action::UiAction;
use super::link::{AuditTrails, FeedLink, MirrorChanged, WallMirror};
use feed::{Change, Mirror};
use protocol::{AuditEntry, Briefing, ClientMsg, Incident, Ticket, within};

/// The incident's timeline: the audit entries of its tickets (as they were when the
/// briefing started), in log order, each with its ticket.
pub fn timeline(b: &Briefing, trails: &AuditTrails) -> Vec<(u64, AuditEntry)> {
    let mut out: Vec<(u64, AuditEntry)> = b
        .tickets
        .iter()
        .copied()
        .flat_map(|t| {
            trails
                .0
                .get(&t)
                .into_iter()
                .flatten()
                .map(move |a| (t, a.clone()))
        })
        .collect();
    out.sort_by_key(|(_, a)| a.seq);
    out.dedup_by_key(|(_, a)| a.seq);
    out
}

/// The significant-events lane: the promoted entries, in the order promoted.
pub fn lane<'a>(b: &Briefing, timeline: &'a [(u64, AuditEntry)]) -> Vec<&'a (u64, AuditEntry)> {
    b.significant
        .iter()
        .filter_map(|s| timeline.iter().find(|(_, a)| a.seq == *s))
        .collect()
}

/// The region the map turns to: a ticket's village, or the narrowest region holding all
/// of a warning's grids.
pub fn incident_region(b: &Briefing) -> String {
    let grids = &b.grids;
    let Some(first) = grids.first() else {
        return String::new();
    };
    // The common prefix, by whole parts of the id.
    let mut parts: Vec<&str> = first.split('-').collect();
    for g in &grids[1..] {
        let other: Vec<&str> = g.split('-').collect();
        let n = parts.iter().zip(&other).take_while(|(a, b)| a == b).count();
        parts.truncate(n);
    }
    // A single grid shows with its neighbours: its village.
    if grids.len() == 1 && parts.len() >= 4 {
        parts.truncate(3);
    }
    parts.join("-")
}

/// What a briefing's board shows of the mirror, kept up as the mirror changes rather than
/// searched for every frame (a flood's area takes hundreds of tickets, the city has ~900
/// units).
#[derive(Resource, Default)]
pub struct IncidentView {
    /// The incident's tickets, newest first: (created, id).
    pub tickets: BTreeSet<(Reverse<i64>, u64)>,
    /// The nearest free units, nearest first: (unit id, km).
    pub free: Vec<(String, f64)>,
}

/// How many free units the board can show.
const FREE_UNITS: usize = 8;

/// When the incident's own tickets start: a warning that lists none (a flood over whole
/// districts) takes the tickets taken in within its area since it was raised.
fn since(m: &Mirror, b: &Briefing) -> i64 {
    match b.incident {
        Incident::Warning { id } => m.warnings.get(&id).map_or(b.started_ms, |w| w.raised_ms),
        Incident::Ticket { .. } => b.started_ms,
    }
}

fn belongs(b: &Briefing, since: i64, t: &Ticket) -> bool {
    if b.tickets.is_empty() {
        t.created_ms >= since && b.grids.iter().any(|g| within(&t.grid, g))
    } else {
        b.tickets.contains(&t.id)
    }
}

/// The on-duty units not engaged in the incident, handling one of its categories and
/// answering for an area that holds one of its tickets, nearest to the tickets' middle.
fn nearest_free(m: &Mirror, tickets: &[&Ticket]) -> Vec<(String, f64)> {
    if tickets.is_empty() {
        return vec![];
    }
    let k = tickets.len() as f64;
    let lon = tickets.iter().map(|t| t.lon).sum::<f64>() / k;
    let lat = tickets.iter().map(|t| t.lat).sum::<f64>() / k;
    let engaged: HashSet<&str> = tickets
        .iter()
        .filter(|t| t.status.is_open())
        .filter_map(|t| t.unit.as_deref())
        .collect();
    let categories: HashSet<_> = tickets.iter().map(|t| t.category).collect();
    // Every area that holds a ticket: the city, and each prefix of each ticket's grid.
    let areas: HashSet<&str> = tickets
        .iter()
        .flat_map(|t| {
            std::iter::once(0)
                .chain(t.grid.match_indices('-').map(|(i, _)| i))
                .chain(std::iter::once(t.grid.len()))
                .map(|end| &t.grid[..end])
        })
        .collect();
    let mut v: Vec<(String, f64)> = m
        .units
        .values()
        .filter(|u| u.on_duty && !engaged.contains(u.id.as_str()))
        .filter(|u| u.categories.iter().any(|c| categories.contains(c)))
        .filter(|u| areas.contains(u.area.as_str()))
        .map(|u| {
            // km on the ground: a degree of latitude is 111 km, of longitude 111 cos(lat).
            let dx = (u.lon - lon) * 111.0 * lat.to_radians().cos();
            let dy = (u.lat - lat) * 111.0;
            (u.id.clone(), (dx * dx + dy * dy).sqrt())
        })
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v.truncate(FREE_UNITS);
    v
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<IncidentView>()
        .add_systems(Update, (follow, keep_view).in_set(WallSet::Derive));
}

/// Keep `IncidentView` up: a ticket change moves that ticket in or out; a new briefing, a
/// snapshot or a warning change rebuilds it; the free units follow any ticket or unit
/// change (a set of areas, then one pass over the units).
fn keep_view(
    mirror: Res<WallMirror>,
    mut changes: MessageReader<MirrorChanged>,
    mut view: ResMut<IncidentView>,
) {
    let m = &mirror.0;
    let Some(b) = &m.briefing else {
        changes.clear();
        if !view.tickets.is_empty() || !view.free.is_empty() {
            *view = IncidentView::default();
        }
        return;
    };
    let since = since(m, b);
    let (mut rebuild, mut moved) = (false, false);
    for MirrorChanged(c) in changes.read() {
        match c {
            Change::Briefing | Change::Snapshot { last: true, .. } | Change::Warning { .. } => {
                rebuild = true
            }
            Change::Ticket { id, before } => {
                moved = true;
                if let Some(b0) = before {
                    view.tickets.remove(&(Reverse(b0.created_ms), *id));
                }
                if let Some(t) = m.tickets.get(id).filter(|t| belongs(b, since, t)) {
                    view.tickets.insert((Reverse(t.created_ms), *id));
                }
            }
            Change::Unit => moved = true,
            _ => {}
        }
    }
    if rebuild {
        view.tickets = m
            .tickets
            .values()
            .filter(|t| belongs(b, since, t))
            .map(|t| (Reverse(t.created_ms), t.id))
            .collect();
    }
    if rebuild || moved {
        let tickets: Vec<&Ticket> = view
            .tickets
            .iter()
            .filter_map(|(_, id)| m.tickets.get(id).map(|t| &**t))
            .collect();
        view.free = nearest_free(m, &tickets);
    }
}

/// When a briefing starts or turns to another incident: fetch its tickets' trails and
/// drill the map to its area; when it ends, back to the city.
fn follow(
    mirror: Res<WallMirror>,
    link: Option<Res<FeedLink>>,
    mut changes: MessageReader<MirrorChanged>,
    mut actions: MessageWriter<UiAction>,
    mut shown: Local<Option<Incident>>,
    mut asked: Local<BTreeSet<u64>>,
) {
    let relevant = changes.read().any(|MirrorChanged(c)| {
        matches!(
            c,
            Change::Briefing | Change::Snapshot { last: true, .. } | Change::Warning { .. }
        )
    });
    if !relevant {
        return;
    }
    let now = mirror.0.briefing.as_ref().map(|b| b.incident);
    if let Some(b) = &mirror.0.briefing {
        if let Some(link) = &link {
            for &t in &b.tickets {
                if asked.insert(t) {
                    let _ = link.commands.try_send(ClientMsg::AuditQuery { ticket: t });
                }
            }
        }
        if *shown != now {
            actions.write(UiAction::Deselect);
            let region = incident_region(b);
            actions.write(UiAction::Focus(region.clone()));
            // A warning over several districts (a flood): frame them all, not the city.
            if region.is_empty() && !b.grids.is_empty() {
                actions.write(UiAction::Frame(b.grids.clone()));
            }
        }
    } else if shown.is_some() {
        asked.clear();
        actions.write(UiAction::Focus(String::new()));
    }
    *shown = now;
}
