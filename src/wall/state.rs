//! Derived state, kept up incrementally from mirror changes: the ticket queue's order and
//! the roll-ups of every region (which the map colours and the drill-down reads). Nothing here rescans every ticket
//! per frame; a snapshot rebuilds once.

use std::collections::BTreeSet;

use bevy::prelude::*;

use super::WallSet;
use super::clock::WallClock;
use super::link::{MirrorChanged, WallMirror};
use super::rollup::{RegionIndex, RollUps};
use crate::feed::Change;
use crate::protocol::{Priority, Ticket};

/// Queue order: priority, then the deadline that counts now (the stage's, or the
/// resolution's), then id. A ticket accepted and left idle past its start deadline so
/// comes back up to the top of its priority.
pub type QueueKey = (Priority, i64, u64);

pub fn queue_key(t: &Ticket) -> Option<QueueKey> {
    // A merged duplicate is its master's matter: the queue shows the master only.
    if t.merged_into.is_some() {
        return None;
    }
    let (_, d) = t.current_deadline()?;
    Some((t.priority, d, t.id))
}

#[derive(Resource, Default)]
pub struct Queue {
    pub order: BTreeSet<QueueKey>,
    /// What the table shows: `order` through the queue filter, as a Vec (the table looks
    /// rows up by position), made again when the set or the filter changed.
    pub rows: Vec<u64>,
    /// All open tickets, filtered or not.
    pub total: usize,
    dirty: bool,
    /// The second the rows were last filtered at (the overdue filter moves with time).
    filtered_at: i64,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Queue>()
        .init_resource::<RollUps>()
        .init_resource::<RegionIndex>()
        .add_systems(Update, derive.in_set(WallSet::Derive));
}

/// A clock this far behind the roll-ups' means another clock took over (a replay began):
/// what is overdue is counted again against it. Live and replay clocks only go forward.
const CLOCK_WENT_BACK_MS: i64 = 1000;

pub fn derive(
    mirror: Res<WallMirror>,
    index: Res<RegionIndex>,
    clock: Res<WallClock>,
    mut changes: MessageReader<MirrorChanged>,
    mut queue: ResMut<Queue>,
    mut rolls: ResMut<RollUps>,
    filter: Option<Res<super::action::QueueFilter>>,
) {
    let now = clock.now_ms;
    let all = super::action::QueueFilter::All;
    if filter.as_ref().is_some_and(|f| f.is_changed()) {
        queue.dirty = true;
    }
    let filter = filter.as_deref().unwrap_or(&all);
    let rebuild_rolls = |rolls: &mut RollUps| {
        rolls.clear(now);
        for (id, t) in &mirror.0.tickets {
            rolls.set_ticket(*id, Some(t), &index);
        }
        rolls.set_warnings(mirror.0.warnings.values());
    };
    if now < rolls.clock() - CLOCK_WENT_BACK_MS {
        rebuild_rolls(&mut rolls);
    }
    for MirrorChanged(change) in changes.read() {
        match change {
            Change::Snapshot { last: true } => {
                queue.order = mirror.0.tickets.values().filter_map(queue_key).collect();
                rebuild_rolls(&mut rolls);
                queue.dirty = true;
            }
            Change::Ticket { id, before } => {
                if let Some(k) = before.as_deref().and_then(queue_key) {
                    queue.order.remove(&k);
                }
                let t = mirror.0.tickets.get(id);
                if let Some(k) = t.and_then(queue_key) {
                    queue.order.insert(k);
                }
                rolls.set_ticket(*id, t, &index);
                queue.dirty = true;
            }
            Change::Warning { .. } => rolls.set_warnings(mirror.0.warnings.values()),
            _ => {}
        }
    }
    rolls.advance(now);
    let second = now / 1000;
    if queue.dirty || (*filter != all && second != queue.filtered_at) {
        let m = &mirror.0;
        let rows: Vec<u64> = queue
            .order
            .iter()
            .map(|k| k.2)
            .filter(|id| m.tickets.get(id).is_some_and(|t| filter.keeps(t, now)))
            .collect();
        queue.total = queue.order.len();
        queue.rows = rows;
        queue.dirty = false;
        queue.filtered_at = second;
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
