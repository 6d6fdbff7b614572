//! Who gets a socket: the gateway's budget of open files, and the gates that keep
//! connections that have not (yet) proved anything from eating it.
//!
//! Measured on the first wave's gateway: 1,100 idle TCP connections under a 1,024 open-file
//! limit locked every wall and `/healthz` out ("accept: Too many open files" ~20/s), and
//! connections that never finished the upgrade stayed open for good. So: at start the soft
//! limit is raised to the hard one; the budget (the limit less a reserve for the database,
//! the listeners and the process) is split between authenticated clients and two gates of
//! fixed size, one for WebSocket connections before their hello is accepted and one for
//! HTTP connections. A gate that is full makes room by closing its oldest entry: an honest
//! client says hello (or sends its request) within milliseconds, so the oldest entry is the
//! one most likely to be idle, and a flood can never keep a new connection out for long.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Open files kept aside for the database, its journal, the listeners, logs and the
/// runtime.
pub const RESERVE_FILES: u64 = 64;

/// Raise the open-file soft limit to the hard limit; returns the soft limit in force.
pub fn raise_open_files() -> u64 {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct handed to them.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return 1024;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim.rlim_cur = lim.rlim_max;
                }
            }
        }
        lim.rlim_cur
    }
    #[cfg(not(unix))]
    {
        1024
    }
}

/// How the open files are shared out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// WebSocket connections still before an accepted hello.
    pub unauthenticated: usize,
    /// HTTP connections.
    pub http: usize,
    /// Clients that said hello and were accepted.
    pub clients: usize,
}

impl Budget {
    /// Share `open_files` out: each gate gets what it asks, up to an eighth of the budget;
    /// clients the rest, up to what they ask.
    pub fn new(
        open_files: u64,
        want_unauthenticated: usize,
        want_http: usize,
        want_clients: usize,
    ) -> Budget {
        let budget = open_files.saturating_sub(RESERVE_FILES) as usize;
        let unauthenticated = want_unauthenticated.min(budget / 8).max(1);
        let http = want_http.min(budget / 8).max(1);
        let clients = want_clients
            .min(budget.saturating_sub(unauthenticated + http))
            .max(1);
        Budget {
            unauthenticated,
            http,
            clients,
        }
    }
}

/// A gate of fixed size; when full, the oldest entry is told to leave.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Mutex<GateInner>>,
}

struct GateInner {
    cap: usize,
    next: u64,
    /// Oldest first: an entry's id and the sender that tells it to leave.
    entries: VecDeque<(u64, oneshot::Sender<()>)>,
    evicted: u64,
}

/// A place in a gate. Dropping it leaves the gate; `evicted` resolves when the gate
/// needed the place for a newer connection.
pub struct Pass {
    id: u64,
    gate: Gate,
    pub evicted: oneshot::Receiver<()>,
}

impl Gate {
    pub fn new(cap: usize) -> Gate {
        Gate {
            inner: Arc::new(Mutex::new(GateInner {
                cap: cap.max(1),
                next: 0,
                entries: VecDeque::new(),
                evicted: 0,
            })),
        }
    }

    /// Take a place, telling the oldest entry to leave if the gate is full.
    pub fn enter(&self) -> Pass {
        let (tx, rx) = oneshot::channel();
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while g.entries.len() >= g.cap {
            if let Some((_, oldest)) = g.entries.pop_front() {
                let _ = oldest.send(());
                g.evicted += 1;
            }
        }
        g.next += 1;
        let id = g.next;
        g.entries.push_back((id, tx));
        Pass {
            id,
            gate: self.clone(),
            evicted: rx,
        }
    }

    /// Entries now.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.entries.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries told to leave so far.
    pub fn evicted(&self) -> u64 {
        self.inner.lock().map(|g| g.evicted).unwrap_or(0)
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        if let Ok(mut g) = self.gate.inner.lock()
            && let Some(i) = g.entries.iter().position(|(id, _)| *id == self.id)
        {
            g.entries.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_gate_closes_its_oldest_entry_and_a_pass_dropped_leaves() {
        let g = Gate::new(2);
        let mut a = g.enter();
        let mut b = g.enter();
        assert_eq!(g.len(), 2);
        let mut c = g.enter();
        assert!(a.evicted.try_recv().is_ok(), "the oldest is told to leave");
        assert!(b.evicted.try_recv().is_err());
        assert_eq!((g.len(), g.evicted()), (2, 1));
        drop(b);
        assert_eq!(g.len(), 1);
        let _d = g.enter();
        assert!(
            c.evicted.try_recv().is_err(),
            "room was free: nobody leaves"
        );
        drop(a);
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn the_budget_keeps_a_reserve_and_the_gates_small() {
        let b = Budget::new(1024, 256, 256, 1000);
        assert_eq!((b.unauthenticated, b.http), (120, 120));
        assert_eq!(b.clients, 1024 - 64 - 240);
        let big = Budget::new(1 << 20, 256, 256, 1000);
        assert_eq!(
            big,
            Budget {
                unauthenticated: 256,
                http: 256,
                clients: 1000
            }
        );
    }
}
