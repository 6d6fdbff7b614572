//! Derived state, kept up incrementally from mirror changes: the ticket queue's order and
//! the open load of every grid (which the map colours). Nothing here rescans every ticket
//! per frame; a snapshot rebuilds once.

use std::collections::{BTreeSet, HashMap, HashSet};

use bevy::prelude::*;

use super::WallSet;
use super::link::{MirrorChanged, WallMirror};
use crate::feed::Change;
use crate::protocol::{Priority, Ticket};

/// Queue order: priority, then the deadline that counts now (the stage's, or the
/// resolution's), then id. A ticket accepted and left idle past its start deadline so
/// comes back up to the top of its priority.
pub type QueueKey = (Priority, i64, u64);

pub fn queue_key(t: &Ticket) -> Option<QueueKey> {
    let (_, d) = t.current_deadline()?;
    Some((t.priority, d, t.id))
}

#[derive(Resource, Default)]
pub struct Queue {
    pub order: BTreeSet<QueueKey>,
    /// Sorted position lookups for the table are by iteration; this caches it as a Vec
    /// when the set changed.
    pub rows: Vec<u64>,
    dirty: bool,
}

/// Per grid: open tickets and the urgent among them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Load {
    pub open: u32,
    pub urgent: u32,
}

#[derive(Resource, Default)]
pub struct GridLoad {
    pub by_grid: HashMap<String, Load>,
    /// Grids whose load changed since the map last looked.
    pub dirty: HashSet<String>,
    /// All grids changed (after a snapshot).
    pub all_dirty: bool,
}

impl GridLoad {
    fn add(&mut self, t: &Ticket, sign: i32) {
        if !t.status.is_open() {
            return;
        }
        let l = self.by_grid.entry(t.grid.clone()).or_default();
        l.open = (l.open as i32 + sign).max(0) as u32;
        if t.priority == Priority::Urgent {
            l.urgent = (l.urgent as i32 + sign).max(0) as u32;
        }
        self.dirty.insert(t.grid.clone());
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Queue>()
        .init_resource::<GridLoad>()
        .add_systems(Update, derive.in_set(WallSet::Derive));
}

pub fn derive(
    mirror: Res<WallMirror>,
    mut changes: MessageReader<MirrorChanged>,
    mut queue: ResMut<Queue>,
    mut load: ResMut<GridLoad>,
) {
    for MirrorChanged(change) in changes.read() {
        match change {
            Change::Snapshot { last: true } => {
                queue.order = mirror.0.tickets.values().filter_map(queue_key).collect();
                load.by_grid.clear();
                for t in mirror.0.tickets.values() {
                    load.add(t, 1);
                }
                load.all_dirty = true;
                queue.dirty = true;
            }
            Change::Ticket { id, before } => {
                if let Some(b) = before {
                    if let Some(k) = queue_key(b) {
                        queue.order.remove(&k);
                    }
                    load.add(b, -1);
                }
                if let Some(t) = mirror.0.tickets.get(id) {
                    if let Some(k) = queue_key(t) {
                        queue.order.insert(k);
                    }
                    load.add(t, 1);
                }
                queue.dirty = true;
            }
            _ => {}
        }
    }
    if queue.dirty {
        queue.rows = queue.order.iter().map(|k| k.2).collect();
        queue.dirty = false;
    }
}

/// Where a ticket stands against its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sla {
    /// More than an hour left (or closed).
    Ok,
    /// Less than an hour left.
    Soon,
    Overdue,
}

/// Against the deadline that counts now (`Ticket::current_deadline`).
pub fn sla(t: &Ticket, now_ms: i64) -> Sla {
    let Some((_, d)) = t.current_deadline() else {
        return Sla::Ok;
    };
    let left = d - now_ms;
    if left >= 3_600_000 {
        Sla::Ok
    } else if left >= 0 {
        Sla::Soon
    } else {
        Sla::Overdue
    }
}
