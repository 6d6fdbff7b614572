//! A local copy of the gateway's live state, built only from feed messages. Events
//! change it through `domain::apply`, as they change the gateway's own store.

use std::ops::{Deref, DerefMut};

use domain::{self, Change, State};
use protocol::{KpiFigures, ServerMsg};

/// The live state (`State`, reached through `Deref`) and where in the gateway's log it is.
#[derive(Default)]
pub struct Mirror {
    pub state: State,
    pub epoch: String,
    /// The last sequence number applied.
    pub seq: u64,
    /// Gateway stamp of the last delta or heartbeat.
    pub last_ts_us: i64,
    /// A snapshot is being received (parts so far are applied, the rest are coming).
    pub loading: bool,
    /// The gateway's latest figures for this scope (it sends them once a second).
    pub kpis: Option<KpiFigures>,
    /// Set when the gateway is replaying a recording: (recorded clock ms, speed, ended).
    pub replay: Option<(i64, f64, bool)>,
    /// The units with a phone page open, as the gateway last said (`live` frames).
    pub live: Vec<protocol::LiveUnit>,
}

impl Deref for Mirror {
    type Target = State;
    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for Mirror {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

impl Mirror {
    /// Apply a message the caller gives away: a snapshot part's records move into the
    /// state (a million tickets are not copied on their way in).
    pub fn take(&mut self, msg: ServerMsg) -> Change {
        let ServerMsg::Snapshot(s) = msg else {
            return self.apply(&msg);
        };
        let first = s.part == 0;
        if first {
            self.state.clear();
            self.epoch = s.epoch;
            self.state.briefing = s.briefing;
            self.state.duty = s.duty.map(|d| *d).unwrap_or_default();
            // A new feed (a rewind, or back to live): its gateway sends its own
            // figures and replay clock within a second.
            self.replay = None;
            self.kpis = None;
        }
        self.seq = s.seq;
        self.loading = !s.last;
        let st = &mut self.state;
        let ids = s.tickets.iter().map(|t| t.id).collect();
        st.tickets.reserve(s.tickets.len());
        st.tickets
            .extend(s.tickets.into_iter().map(|t| (t.id, Box::new(t))));
        st.warnings
            .extend(s.warnings.into_iter().map(|w| (w.id, w)));
        st.units
            .extend(s.units.into_iter().map(|u| (u.id.clone(), u)));
        Change::Snapshot {
            first,
            last: s.last,
            ids,
        }
    }

    pub fn apply(&mut self, msg: &ServerMsg) -> Change {
        match msg {
            ServerMsg::Snapshot(s) => self.take(ServerMsg::Snapshot(s.clone())),
            ServerMsg::Delta {
                epoch,
                seq,
                ts_us,
                event,
            } => {
                if epoch != &self.epoch || *seq <= self.seq {
                    // Another log's or an old delta: the client resubscribes on epoch
                    // change, so this only guards against misuse.
                    return Change::None;
                }
                self.seq = *seq;
                self.last_ts_us = *ts_us;
                domain::apply(&mut self.state, event)
            }
            ServerMsg::Heartbeat { ts_us, .. } => {
                self.last_ts_us = *ts_us;
                Change::None
            }
            ServerMsg::Replay {
                clock_ms,
                speed,
                done,
            } => {
                self.replay = Some((*clock_ms, *speed, *done));
                Change::None
            }
            ServerMsg::Kpis { figures, .. } => {
                self.kpis = Some((**figures).clone());
                Change::None
            }
            ServerMsg::Live { units } => {
                self.live = units.clone();
                Change::None
            }
            _ => Change::None,
        }
    }
}
