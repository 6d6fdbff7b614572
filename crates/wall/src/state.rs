//! Derived state, kept up incrementally from mirror changes: the ticket queue's order and
//! the roll-ups of every region (which the map colours and the drill-down reads). Nothing here rescans every ticket
//! per frame; a snapshot builds them part by part as it arrives.

use bevy::prelude::*;
use domain::Deadlines;

use super::WallSet;
use super::action::QueueFilter;
use super::clock::WallClock;
use super::link::{MirrorChanged, WallMirror};
use super::ranked::Ranked;
use super::rollup::{RegionIndex, RollUps};
use feed::Change;
use protocol::{Priority, Ticket};

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

/// The key of a ticket off the ordinary queue but on one of the center's boards: 待审核,
/// 疑难, 挂起, and 待回访 (resolved, not yet called back). By its resolution deadline.
pub fn side_key(t: &Ticket) -> Option<QueueKey> {
    if t.merged_into.is_some() || t.current_deadline().is_some() {
        return None;
    }
    (t.status.is_open() || t.status == protocol::TicketStatus::Resolved).then_some((
        t.priority,
        t.deadline_ms,
        t.id,
    ))
}

/// The ticket queue, kept up by the changes: all open tickets in queue order, and what the
/// table shows (the same through the queue filter). A ticket change moves one key in
/// each; only a new snapshot or a new filter goes over every ticket.
#[derive(Resource, Default)]
pub struct Queue {
    pub order: Ranked<QueueKey>,
    /// The tickets on the center's boards (`side_key`), which the ordinary queue leaves
    /// out: few, kept apart so that the queue's order costs nothing more.
    side: Ranked<QueueKey>,
    /// `order` through the filter; `None` while the filter keeps all.
    filtered: Option<Ranked<QueueKey>>,
    /// The filter `filtered` was made for.
    filter: QueueFilter,
    /// The overdue filter holds the keys whose deadline is before this.
    overdue_before: i64,
    /// The keys of the snapshot parts received so far (sorted once it is whole).
    loading: Vec<QueueKey>,
    /// The clock it last saw (one going back means a replay began: filter again).
    clock: i64,
}

impl Queue {
    /// What the table shows, in order.
    pub fn rows(&self) -> &Ranked<QueueKey> {
        self.filtered.as_ref().unwrap_or(&self.order)
    }
    /// How many rows the table shows.
    pub fn len(&self) -> usize {
        self.rows().len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows().is_empty()
    }
    /// All open tickets, filtered or not.
    pub fn total(&self) -> usize {
        self.order.len()
    }
    /// The ticket in row `i`.
    pub fn row(&self, i: usize) -> Option<u64> {
        self.rows().get(i).map(|k| k.2)
    }
    /// The tickets the table shows, in order.
    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.rows().iter().map(|k| k.2)
    }

    /// Filter the whole queue again (a new filter or a new snapshot).
    fn refilter(&mut self, filter: &QueueFilter, m: &feed::Mirror, now: i64) {
        self.filter = filter.clone();
        self.overdue_before = now;
        let source = if filter.on_a_board() {
            &self.side
        } else {
            &self.order
        };
        self.filtered = (*filter != QueueFilter::All).then(|| {
            Ranked::from_unsorted(
                source
                    .iter()
                    .filter(|k| m.tickets.get(&k.2).is_some_and(|t| filter.keeps(t, now)))
                    .copied()
                    .collect(),
            )
        });
    }

    /// The overdue filter as the clock moves: keys whose deadline it passed join.
    fn advance(&mut self, now: i64) {
        let (Some(rows), QueueFilter::Overdue) = (self.filtered.as_mut(), &self.filter) else {
            return;
        };
        if now <= self.overdue_before {
            return;
        }
        for p in [Priority::Urgent, Priority::Important, Priority::Normal] {
            let from = (p, self.overdue_before, 0);
            for k in self.order.range(from, (p, now, 0)) {
                rows.insert(*k);
            }
        }
        self.overdue_before = now;
    }

    /// Ticket `id` changed from `before` to `now_t`.
    fn set(&mut self, before: Option<&Ticket>, now_t: Option<&Ticket>, now: i64) {
        if let Some(b) = before {
            for (k, side) in [(queue_key(b), false), (side_key(b), true)] {
                let Some(k) = k else { continue };
                if side {
                    self.side.remove(&k);
                } else {
                    self.order.remove(&k);
                }
                if let Some(f) = self.filtered.as_mut() {
                    f.remove(&k);
                }
            }
        }
        let Some(t) = now_t else { return };
        let board = self.filter.on_a_board();
        for (k, side) in [(queue_key(t), false), (side_key(t), true)] {
            let Some(k) = k else { continue };
            if side {
                self.side.insert(k);
            } else {
                self.order.insert(k);
            }
            if side == board
                && let Some(f) = self.filtered.as_mut()
                && self.filter.keeps(t, now)
            {
                f.insert(k);
            }
        }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Queue>()
        .init_resource::<RollUps>()
        .init_resource::<RegionIndex>()
        .add_systems(
            Update,
            (derive_queue, derive_rollups).in_set(WallSet::Derive),
        );
}

/// A clock this far behind the roll-ups' means another clock took over (a replay began):
/// what is overdue is counted again against it. Live and replay clocks only go forward.
const CLOCK_WENT_BACK_MS: i64 = 1000;

/// The queue, kept up by the mirror's changes. A system of its own beside the roll-ups
/// and the markers (`markers::place`): each reads the mirror and writes only its own
/// view, so Bevy runs them at once. At a province's snapshot, one after the other on the
/// main thread, they were the wall's last second before its first full frame.
pub fn derive_queue(
    mirror: Res<WallMirror>,
    clock: Res<WallClock>,
    mut changes: MessageReader<MirrorChanged>,
    mut queue: ResMut<Queue>,
    filter: Option<Res<QueueFilter>>,
) {
    let now = clock.now_ms;
    let m = &mirror.0;
    let all = QueueFilter::All;
    let filter = filter.as_deref().unwrap_or(&all);
    if now < queue.clock - CLOCK_WENT_BACK_MS || *filter != queue.filter {
        queue.refilter(filter, m, now);
    }
    queue.clock = now;
    queue.advance(now);
    for MirrorChanged(change) in changes.read() {
        match change {
            Change::Snapshot { first, last, ids } => {
                // Each part as it comes (the network thread decodes the next meanwhile);
                // the queue's order is sorted once, when the last part is in.
                if *first {
                    queue.loading.clear();
                    queue.side = Ranked::default();
                }
                let keys = ids
                    .iter()
                    .filter_map(|id| m.tickets.get(id).and_then(|t| queue_key(t)));
                queue.loading.extend(keys);
                for t in ids.iter().filter_map(|id| m.tickets.get(id)) {
                    if let Some(k) = side_key(t) {
                        queue.side.insert(k);
                    }
                }
                if *last {
                    queue.order = Ranked::from_unsorted(std::mem::take(&mut queue.loading));
                    queue.refilter(filter, m, now);
                }
            }
            Change::Ticket { id, before } => {
                let t = m.tickets.get(id).map(|t| &**t);
                queue.set(before.as_deref(), t, now);
            }
            _ => {}
        }
    }
}

/// Every region's roll-up, kept up by the mirror's changes (beside the queue: see
/// `derive_queue`).
pub fn derive_rollups(
    mirror: Res<WallMirror>,
    index: Res<RegionIndex>,
    clock: Res<WallClock>,
    mut changes: MessageReader<MirrorChanged>,
    mut rolls: ResMut<RollUps>,
) {
    let now = clock.now_ms;
    let m = &mirror.0;
    if now < rolls.clock() - CLOCK_WENT_BACK_MS {
        rolls.clear(now);
        for (id, t) in &m.tickets {
            rolls.set_ticket(*id, Some(t), &index);
        }
        rolls.set_warnings(m.warnings.values());
    }
    for MirrorChanged(change) in changes.read() {
        match change {
            Change::Snapshot { first, last, ids } => {
                if *first {
                    rolls.clear(now);
                    rolls.begin_bulk();
                }
                for id in ids {
                    rolls.set_ticket(*id, m.tickets.get(id).map(|t| &**t), &index);
                }
                if *last {
                    rolls.end_bulk();
                    rolls.set_warnings(m.warnings.values());
                }
            }
            Change::Ticket { id, .. } => {
                rolls.set_ticket(*id, m.tickets.get(id).map(|t| &**t), &index);
            }
            Change::Warning { .. } => rolls.set_warnings(m.warnings.values()),
            _ => {}
        }
    }
    rolls.advance(now);
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
