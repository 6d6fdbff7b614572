//! Phones: a unit's or a grid worker's page, a client scoped to its unit's own tickets.
//! A city has ~15,000 of them, each with a few tickets: a delta reaches its phones through
//! an index (the unit a ticket is assigned to now, and the one it was assigned to until
//! this delta), never by testing every connection; a phone's snapshot is its own tickets,
//! built on the core in one small frame; a resume takes from the window only what
//! concerns its unit.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::*;
use tokio_tungstenite::tungstenite::Message;

/// A phone gets a heartbeat every this many beats, spread over them by client id: it needs
/// one to keep a mobile network's NAT open and to hear the log's epoch, not one a second.
/// At one a second, 5,000 phones' heartbeats went out in the walls' pass and took the
/// walls' p99 to 5.6x (BENCHMARKS.md, "Phones beside the walls").
pub(super) const PHONE_BEAT_EVERY: u64 = 15;

/// Tickets a phone's snapshot carries at most (the most recently changed): a unit with
/// more open tickets than this works from the console, not a phone.
const SNAPSHOT_TICKETS: usize = 500;

/// The index from units to their tickets and their connected phones.
#[derive(Default)]
pub(super) struct Phones {
    /// Connected phones by unit.
    by_unit: HashMap<String, Vec<u64>>,
    /// Each assigned live ticket's unit, and each unit's tickets.
    ticket_unit: HashMap<u64, String>,
    unit_tickets: HashMap<String, BTreeSet<u64>>,
    /// Client ids of every feed that is not a phone (walls, consoles): what a
    /// city-wide broadcast goes through.
    pub walls: HashSet<u64>,
    /// Each unit's last field position (from its actions' audit entries).
    seen: HashMap<String, (protocol::Position, i64)>,
    /// When the live set was last sent to the walls, and whether it changed since
    /// (a phone came or went, a unit's field position moved).
    sent_live: Option<std::time::Instant>,
    live_dirty: bool,
}

impl Phones {
    /// The index of the live tickets as they stand.
    pub fn of<'a>(tickets: impl Iterator<Item = &'a Ticket>) -> Phones {
        let mut p = Phones::default();
        for t in tickets {
            if let Some(u) = &t.unit {
                p.ticket_unit.insert(t.id, u.clone());
                p.unit_tickets.entry(u.clone()).or_default().insert(t.id);
            }
        }
        p
    }

    /// Take a delta in: the unit its ticket had until now, when that changed (the phones
    /// that must drop it).
    pub fn track(&mut self, event: &Event) -> Option<String> {
        let t = event.ticket()?;
        let now = t.unit.as_ref().filter(|_| !is_gone(t));
        let was = self.ticket_unit.get(&t.id).cloned();
        if let Some(a) = event.audit()
            && let Some(f) = &a.field
            && let Some(p) = f.pos
            && let Some(u) = a.unit.as_ref().or(t.unit.as_ref()).or(was.as_ref())
        {
            self.seen.insert(u.clone(), (p, f.at_ms));
            self.live_dirty = true;
        }
        if was.as_ref() == now {
            return None;
        }
        if let Some(w) = &was {
            self.ticket_unit.remove(&t.id);
            if let Some(set) = self.unit_tickets.get_mut(w) {
                set.remove(&t.id);
                if set.is_empty() {
                    self.unit_tickets.remove(w);
                }
            }
        }
        if let Some(u) = now {
            self.ticket_unit.insert(t.id, u.clone());
            self.unit_tickets.entry(u.clone()).or_default().insert(t.id);
        }
        was
    }

    /// The phones a delta goes to: its ticket's unit's, the unit it left's, or a unit
    /// record's own.
    pub fn recipients(&self, event: &Event, was: Option<&str>) -> Vec<u64> {
        let mut units: Vec<&str> = Vec::with_capacity(2);
        match event {
            Event::UnitStatus { unit } => units.push(&unit.id),
            e => {
                if let Some(u) = e.ticket().and_then(|t| t.unit.as_deref()) {
                    units.push(u);
                }
                if let Some(w) = was.filter(|w| !units.contains(w)) {
                    units.push(w);
                }
            }
        }
        units
            .into_iter()
            .filter_map(|u| self.by_unit.get(u))
            .flatten()
            .copied()
            .collect()
    }

    /// Whether a phone of `unit` is connected (to this node).
    pub fn connected(&self, unit: &str) -> bool {
        self.by_unit.contains_key(unit)
    }

    pub fn connect(&mut self, unit: &str, id: u64) {
        self.live_dirty = true;
        self.by_unit.entry(unit.to_string()).or_default().push(id);
    }

    pub fn disconnect(&mut self, unit: &str, id: u64) {
        self.live_dirty = true;
        if let Some(v) = self.by_unit.get_mut(unit) {
            v.retain(|x| *x != id);
            if v.is_empty() {
                self.by_unit.remove(unit);
            }
        }
    }

    /// The `live` frame for the walls, when the set of live units changed and the last
    /// was sent 5 s ago or more (or 60 s passed).
    pub fn live_frame(&mut self) -> Option<Utf8Bytes> {
        // Decided before anything is built: at 15,000 phones the set is 15,000 entries,
        // and building it every beat (as it was) showed in the walls' delivery.
        if let Some(at) = self.sent_live {
            let age = at.elapsed().as_secs();
            if age < 5 || (!self.live_dirty && age < 60) {
                return None;
            }
        }
        let mut units: Vec<protocol::LiveUnit> = self
            .by_unit
            .keys()
            .map(|u| {
                let seen = self.seen.get(u);
                protocol::LiveUnit {
                    unit: u.clone(),
                    pos: seen.map(|s| s.0),
                    at_ms: seen.map(|s| s.1),
                }
            })
            .collect();
        units.sort_by(|a, b| a.unit.cmp(&b.unit));
        let frame = serde_json::to_string(&ServerMsg::Live { units }).ok()?;
        self.sent_live = Some(std::time::Instant::now());
        self.live_dirty = false;
        Some(frame.into())
    }

    fn tickets_of(&self, unit: &str) -> impl Iterator<Item = u64> + '_ {
        self.unit_tickets.get(unit).into_iter().flatten().copied()
    }
}

/// An archived ticket leaves every list.
fn is_gone(t: &Ticket) -> bool {
    t.status == protocol::TicketStatus::Archived
}

/// Does kept delta `k` concern `unit`'s phones?
fn concerns(k: &Kept, unit: &str) -> bool {
    match &k.event {
        Event::UnitStatus { unit: u } => u.id == unit,
        e => {
            e.ticket().and_then(|t| t.unit.as_deref()) == Some(unit)
                || k.was.as_deref() == Some(unit)
        }
    }
}

impl Core {
    /// A phone joined: its missed deltas from the window, or its own snapshot.
    pub(super) fn join_phone(
        &mut self,
        id: u64,
        (unit, credential, role): (String, String, domain::access::Role),
        resume: Option<Resume>,
        (outbox, kill): (mpsc::Sender<Utf8Bytes>, oneshot::Sender<&'static str>),
        ask: snapshot::Ask,
    ) {
        let m = &self.status.metrics;
        let resumed = resume.and_then(|r| self.phone_resume(&r, &unit));
        let frames = match resumed {
            Some(mut f) => {
                m.joins_resume.fetch_add(1, Ordering::Relaxed);
                // A heartbeat at once: a phone that missed nothing hears that it is live
                // now, not at its next heartbeat (`PHONE_BEAT_EVERY` beats away).
                f.extend(self.heartbeat_frame());
                f
            }
            None => {
                m.joins_snapshot.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = watch::channel(Some(self.phone_snapshot(&unit).into()));
                drop(tx);
                let _ = ask.reply.send(rx);
                vec![]
            }
        };
        for f in frames {
            if outbox.try_send(f).is_err() {
                let _ = kill.send("missed deltas larger than the outbox: raise limits.outbox");
                return;
            }
        }
        self.phones.connect(&unit, id);
        self.clients.insert(
            id,
            Client {
                region: String::new(),
                unit: Some(unit),
                credential,
                role,
                outbox,
                kill: Some(kill),
            },
        );
    }

    fn phone_resume(&self, r: &Resume, unit: &str) -> Option<Vec<Utf8Bytes>> {
        if r.epoch != self.store.epoch() || r.seq > self.fanned {
            return None;
        }
        if r.seq < self.fanned && self.window.front()?.seq > r.seq + 1 {
            return None;
        }
        let start = self.window.partition_point(|k| k.seq <= r.seq);
        Some(
            self.window
                .range(start..)
                .filter(|k| concerns(k, unit))
                .map(|k| k.frame.clone())
                .collect(),
        )
    }

    /// One JSON snapshot frame: the unit's own tickets and its record.
    fn phone_snapshot(&self, unit: &str) -> Vec<Message> {
        let store = &self.store;
        let mut tickets: Vec<Ticket> = self
            .phones
            .tickets_of(unit)
            .filter_map(|id| store.tickets().get(&id).map(|t| (**t).clone()))
            .collect();
        tickets.sort_by_key(|t| std::cmp::Reverse(t.updated_ms));
        tickets.truncate(SNAPSHOT_TICKETS);
        let msg = ServerMsg::Snapshot(Snapshot {
            epoch: store.epoch().to_string(),
            seq: self.fanned,
            part: 0,
            last: true,
            tickets,
            warnings: vec![],
            units: store.units().get(unit).into_iter().cloned().collect(),
            briefing: None,
            duty: None,
        });
        match serde_json::to_string(&msg) {
            Ok(s) => vec![Message::Text(s.into())],
            Err(e) => {
                tracing::error!("a phone's snapshot does not serialize: {e}");
                vec![]
            }
        }
    }

    /// Remove a client from the list and from the indexes.
    pub(super) fn drop_client(&mut self, id: u64) -> Option<Client> {
        let c = self.clients.remove(&id)?;
        match &c.unit {
            Some(u) => self.phones.disconnect(u, id),
            None => {
                self.phones.walls.remove(&id);
            }
        }
        Some(c)
    }
}
