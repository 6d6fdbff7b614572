//! Briefing mode (联合会商): when the gateway says a briefing runs, every wall turns to its
//! incident — the map drills to its area, and a board shows the key numbers in large type,
//! the units engaged, the significant-events lane a duty officer curated, and (for the
//! officer) the whole audit trail with a star to promote an entry. Starting, curating and
//! ending are commands, so a console drives what the wall shows. Here: what a briefing
//! covers and the system that turns the wall to it; the board is `panels/briefing.rs`.

use std::collections::BTreeSet;

use bevy::prelude::*;

use super::WallSet;
use super::action::UiAction;
use super::link::{AuditTrails, FeedLink, MirrorChanged, WallMirror};
use crate::feed::Change;
use crate::protocol::{AuditEntry, Briefing, ClientMsg, Incident};

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

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, follow.in_set(WallSet::Derive));
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
            Change::Briefing | Change::Snapshot { last: true } | Change::Warning { .. }
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
