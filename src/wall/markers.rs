//! Marker slots: one fixed slot per open ticket in a storage buffer of vec4s
//! (x, y, deadline s, code). A ticket change rewrites its own 16 bytes; nothing else.

use super::layers::Projection;
use crate::protocol::Ticket;

/// Bytes per slot: one vec4<f32>.
pub const SLOT_BYTES: usize = 16;

#[derive(Default)]
pub struct MarkerSlots {
    /// foldhash: a province's snapshot places a million markers at once.
    pub slot_of: crate::domain::state::IdMap<u32>,
    free: Vec<u32>,
    pub capacity: u32,
    /// The buffer contents, as the shader reads them.
    pub bytes: Vec<u8>,
    /// Time origin of the deadlines, ms since the epoch.
    pub base_ms: i64,
    /// Slots written since the last `flush_into`.
    dirty: Vec<u32>,
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
    pub fn new(capacity: u32, base_ms: i64) -> Self {
        let mut s = MarkerSlots {
            capacity,
            base_ms,
            bytes: vec![0; capacity as usize * SLOT_BYTES],
            free: (0..capacity).rev().collect(),
            slot_of: Default::default(),
            dirty: vec![],
        };
        for i in 0..capacity {
            put(&mut s.bytes, i, [0.0, 0.0, 0.0, -1.0]);
        }
        s
    }

    /// Put, move or remove a ticket's marker. Returns false when the slots are full (the
    /// caller grows them).
    pub fn set(&mut self, t: &Ticket, proj: &Projection) -> bool {
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
        let p = proj.to_world(t.lon, t.lat);
        let deadline = (t.deadline_ms - self.base_ms) as f32 / 1000.0;
        put(&mut self.bytes, slot, [p.x, p.y, deadline, code(t)]);
        self.dirty.push(slot);
        true
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{TicketStatus, examples};

    #[test]
    fn slots_are_reused_and_closed_tickets_leave() {
        let proj = Projection::new(119.45, 32.1);
        let mut s = MarkerSlots::new(2, 0);
        // The GPU buffer starts as a copy of the empty slots, as the map makes it.
        let mut gpu = s.bytes.clone();
        let mut a = examples::ticket();
        let mut b = examples::ticket();
        b.id = 2;
        let mut c = examples::ticket();
        c.id = 3;
        assert!(s.set(&a, &proj) && s.set(&b, &proj));
        assert!(!s.set(&c, &proj), "full");
        a.status = TicketStatus::Resolved;
        assert!(s.set(&a, &proj));
        assert!(s.set(&c, &proj), "a's slot was freed");
        assert_eq!(s.len(), 2);
        // Writes: a, b, a's removal, c (the refused c wrote nothing).
        assert_eq!(s.flush_into(&mut gpu), 4);
        assert_eq!(gpu, s.bytes);
        assert_eq!(s.flush_into(&mut gpu), 0);
        let slot = s.slot_of[&3] as usize;
        let w = f32::from_le_bytes(s.bytes[slot * 16 + 12..slot * 16 + 16].try_into().unwrap());
        assert_eq!(w, code(&c));
    }
}
