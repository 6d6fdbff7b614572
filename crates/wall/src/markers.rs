//! Marker slots: one fixed slot per open ticket in a storage buffer of vec4s
//! (x, y, deadline s, code). A ticket change rewrites its own 16 bytes; nothing else.
//!
//! The slots are placed in the derive step (`place`, beside the queue and the roll-ups,
//! which Bevy runs at the same time: none writes what another reads); the map copies
//! them to the GPU in the draw step (`map::render::update_markers`).

use bevy::prelude::*;

use super::WallSet;
use super::layers::Projection;
use super::link::{MirrorChanged, WallMirror};
use feed::Change;
use protocol::Ticket;

/// What a change left for the GPU buffer. Ordered: of a frame's changes the greatest
/// says what the buffer needs (a part `Loading` after a write waits with it for the
/// snapshot's end, which is `Whole`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Placed {
    #[default]
    Nothing,
    /// Some slots were written (`flush_into`).
    Some,
    /// A snapshot is coming in: the buffer waits for its last part.
    Loading,
    /// A snapshot is whole: every slot is new (`flush_all_into`).
    Whole,
}

/// Bytes per slot: one vec4<f32>.
pub const SLOT_BYTES: usize = 16;

#[derive(Resource)]
pub struct MarkerSlots {
    /// foldhash: a province's snapshot places a million markers at once.
    pub slot_of: domain::state::IdMap<u32>,
    free: Vec<u32>,
    pub capacity: u32,
    /// The buffer contents, as the shader reads them.
    pub bytes: Vec<u8>,
    /// Time origin of the deadlines, ms since the epoch.
    pub base_ms: i64,
    /// Slots written since the last `flush_into`.
    dirty: Vec<u32>,
    /// Where a ticket's lon/lat is on the map.
    pub proj: Projection,
    /// What the GPU buffer needs since the map last looked (`take_pending`).
    pending: Placed,
}

fn put(bytes: &mut [u8], slot: u32, v: [f32; 4]) {
    let o = slot as usize * SLOT_BYTES;
    for (k, x) in v.iter().enumerate() {
        bytes[o + 4 * k..o + 4 * k + 4].copy_from_slice(&x.to_le_bytes());
    }
}

pub fn code(t: &Ticket) -> f32 {
    (t.status as u32 + 8 * t.priority as u32 + 32 * t.supervised as u32) as f32
}

impl MarkerSlots {
    pub fn new(capacity: u32, base_ms: i64, proj: Projection) -> Self {
        let mut s = MarkerSlots {
            capacity,
            base_ms,
            bytes: vec![0; capacity as usize * SLOT_BYTES],
            free: (0..capacity).rev().collect(),
            slot_of: Default::default(),
            dirty: vec![],
            proj,
            pending: Placed::Nothing,
        };
        for i in 0..capacity {
            put(&mut s.bytes, i, [0.0, 0.0, 0.0, -1.0]);
        }
        s
    }

    /// Put, move or remove a ticket's marker. Returns false when the slots are full (the
    /// caller grows them).
    pub fn set(&mut self, t: &Ticket) -> bool {
        if !t.status.is_open() || t.merged_into.is_some() {
            self.remove(t.id);
            return true;
        }
        let slot = match self.slot_of.get(&t.id) {
            Some(s) => *s,
            None => match self.free.pop() {
                Some(s) => {
                    self.slot_of.insert(t.id, s);
                    s
                }
                None => return false,
            },
        };
        let p = self.proj.to_world(t.lon, t.lat);
        let deadline = (t.deadline_ms - self.base_ms) as f32 / 1000.0;
        put(&mut self.bytes, slot, [p.x, p.y, deadline, code(t)]);
        self.dirty.push(slot);
        true
    }

    /// Room for `capacity` markers: the slots grow by extension, so the markers placed
    /// keep their slots (a snapshot's parts are placed as they come, before its size is
    /// known).
    pub fn grow_to(&mut self, capacity: u32) {
        if capacity <= self.capacity {
            return;
        }
        self.bytes.resize(capacity as usize * SLOT_BYTES, 0);
        for i in self.capacity..capacity {
            put(&mut self.bytes, i, [0.0, 0.0, 0.0, -1.0]);
        }
        // Popped from the end: the lowest new slot first.
        self.free.splice(0..0, (self.capacity..capacity).rev());
        self.capacity = capacity;
    }

    /// Put, move or remove a ticket's marker, growing the slots when they are full.
    pub fn place(&mut self, t: &Ticket) {
        if !self.set(t) {
            self.grow_to(self.capacity.max(1024) * 2);
            self.set(t);
        }
    }

    /// Take one change of the mirror: a snapshot's first part empties the slots, each
    /// part's markers are placed as it comes (in the frame its tickets were read in, not
    /// all at once at its end: at a province's million that was 0.4 s of the first full
    /// frame), a ticket's marker moves. What the GPU buffer needs after it (also noted
    /// for `take_pending`).
    pub fn take(&mut self, change: &Change, tickets: &domain::state::Tickets) -> Placed {
        let placed = match change {
            Change::Snapshot { first, last, ids } => {
                if *first {
                    *self = MarkerSlots {
                        pending: self.pending,
                        ..MarkerSlots::new(self.capacity, self.base_ms, self.proj)
                    };
                }
                for id in ids {
                    if let Some(t) = tickets.get(id) {
                        self.place(t);
                    }
                }
                if *last {
                    Placed::Whole
                } else {
                    Placed::Loading
                }
            }
            Change::Ticket { id, .. } => {
                match tickets.get(id) {
                    Some(t) => self.place(t),
                    None => self.remove(*id),
                }
                Placed::Some
            }
            _ => Placed::Nothing,
        };
        self.pending = self.pending.max(placed);
        placed
    }

    /// What the GPU buffer needs since the last call: the greatest of the changes taken.
    pub fn take_pending(&mut self) -> Placed {
        std::mem::take(&mut self.pending)
    }

    pub fn remove(&mut self, id: u64) {
        if let Some(s) = self.slot_of.remove(&id) {
            put(&mut self.bytes, s, [0.0, 0.0, 0.0, -1.0]);
            self.free.push(s);
            self.dirty.push(s);
        }
    }

    /// Copy the slots written since the last call into `out` (the GPU buffer's bytes, of
    /// the same capacity): work in proportion to the changes. Returns how many.
    pub fn flush_into(&mut self, out: &mut [u8]) -> usize {
        let n = self.dirty.len();
        for s in self.dirty.drain(..) {
            let o = s as usize * SLOT_BYTES;
            out[o..o + SLOT_BYTES].copy_from_slice(&self.bytes[o..o + SLOT_BYTES]);
        }
        n
    }

    /// Copy every slot (after the slots were rebuilt) and forget the pending writes.
    pub fn flush_all_into(&mut self, out: &mut [u8]) {
        out.copy_from_slice(&self.bytes);
        self.mark_clean();
    }

    /// Forget the pending writes (the buffer was made from `bytes` whole).
    pub fn mark_clean(&mut self) {
        self.dirty.clear();
    }

    pub fn len(&self) -> usize {
        self.slot_of.len()
    }
    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, place.in_set(WallSet::Derive));
}

/// Place the markers of the tickets that changed, where a map keeps marker slots.
pub fn place(
    mirror: Res<WallMirror>,
    mut changes: MessageReader<MirrorChanged>,
    slots: Option<ResMut<MarkerSlots>>,
) {
    let Some(mut slots) = slots else {
        changes.clear();
        return;
    };
    for MirrorChanged(change) in changes.read() {
        slots.take(change, &mirror.0.tickets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{TicketStatus, examples};

    #[test]
    fn slots_are_reused_and_closed_tickets_leave() {
        let proj = Projection::new(119.45, 32.1);
        let mut s = MarkerSlots::new(2, 0, proj);
        // The GPU buffer starts as a copy of the empty slots, as the map makes it.
        let mut gpu = s.bytes.clone();
        let mut a = examples::ticket();
        let mut b = examples::ticket();
        b.id = 2;
        let mut c = examples::ticket();
        c.id = 3;
        assert!(s.set(&a) && s.set(&b));
        assert!(!s.set(&c), "full");
        a.status = TicketStatus::Resolved;
        assert!(s.set(&a));
        assert!(s.set(&c), "a's slot was freed");
        assert_eq!(s.len(), 2);
        // Writes: a, b, a's removal, c (the refused c wrote nothing).
        assert_eq!(s.flush_into(&mut gpu), 4);
        assert_eq!(gpu, s.bytes);
        assert_eq!(s.flush_into(&mut gpu), 0);
        let slot = s.slot_of[&3] as usize;
        let w = f32::from_le_bytes(s.bytes[slot * 16 + 12..slot * 16 + 16].try_into().unwrap());
        assert_eq!(w, code(&c));
    }

    #[test]
    fn a_snapshot_is_placed_part_by_part_and_the_slots_grow_keeping_the_placed() {
        let proj = Projection::new(119.45, 32.1);
        let mut s = MarkerSlots::new(4, 0, proj);
        let tickets: domain::state::Tickets = (1..=3000u64)
            .map(|id| {
                let mut t = examples::ticket();
                t.id = id;
                t.lon = 119.0 + id as f64 * 1e-4;
                (id, Box::new(t))
            })
            .collect();
        let part = |first: bool, last: bool, ids: std::ops::RangeInclusive<u64>| Change::Snapshot {
            first,
            last,
            ids: ids.collect(),
        };
        assert_eq!(
            s.take(&part(true, false, 1..=1000), &tickets),
            Placed::Loading
        );
        let slot_of_7 = s.slot_of[&7];
        let bytes_of_7 = s.bytes[slot_of_7 as usize * 16..][..16].to_vec();
        assert_eq!(
            s.take(&part(false, true, 1001..=3000), &tickets),
            Placed::Whole
        );
        assert_eq!(s.len(), 3000);
        assert!(s.capacity >= 3000);
        // The map sees the greatest of the frame's changes, once.
        assert_eq!(s.take_pending(), Placed::Whole);
        assert_eq!(s.take_pending(), Placed::Nothing);
        // A ticket that moves keeps its slot; its bytes change.
        let slot_of_9 = s.slot_of[&9];
        let bytes_of_9 = s.bytes[slot_of_9 as usize * 16..][..16].to_vec();
        let mut moved = tickets[&9].as_ref().clone();
        moved.lon += 0.01;
        let mut after = tickets.clone();
        after.insert(9, Box::new(moved));
        let one = Change::Ticket {
            id: 9,
            before: None,
        };
        assert_eq!(s.take(&one, &after), Placed::Some);
        assert_eq!(s.take_pending(), Placed::Some);
        assert_eq!(s.slot_of[&9], slot_of_9);
        assert_ne!(s.bytes[slot_of_9 as usize * 16..][..16], bytes_of_9[..]);
        // Growing kept what was placed, and every ticket has a slot of its own.
        assert_eq!(s.slot_of[&7], slot_of_7);
        assert_eq!(s.bytes[slot_of_7 as usize * 16..][..16], bytes_of_7[..]);
        let distinct: std::collections::HashSet<u32> = s.slot_of.values().copied().collect();
        assert_eq!(distinct.len(), 3000);
        // The slots no ticket holds are empty markers.
        let empty = (0..s.capacity).filter(|i| !distinct.contains(i)).count();
        let codes_empty = (0..s.capacity as usize)
            .filter(|i| {
                f32::from_le_bytes(s.bytes[i * 16 + 12..i * 16 + 16].try_into().unwrap()) == -1.0
            })
            .count();
        assert_eq!(empty, codes_empty);
        // A new snapshot starts from empty slots.
        assert_eq!(s.take(&part(true, true, 1..=2), &tickets), Placed::Whole);
        assert_eq!(s.len(), 2);
    }
}
