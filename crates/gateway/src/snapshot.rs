//! Snapshots, built off the core task. At a join the core takes an O(1) copy of the
//! store's ticket rows (`Store::rows`, a persistent map) with the few warnings and units,
//! and a thread of its own cuts that copy into parts; the core goes straight back to its
//! batches. A join of the same scope and encoding while a build is still running (or of
//! the very same state) shares it and takes the deltas since its `seq` from the resume
//! window (10 walls joining at once at a province's million tickets: one build, not ten).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};
use tokio_tungstenite::tungstenite::Message;

use protocol::compact::{self, Encoding, PartHead};
use protocol::{Briefing, ServerMsg, Snapshot, Unit, Warning, within};
use store::Rows;

/// A snapshot's frames, once built (`None` until then).
pub type Frames = watch::Receiver<Option<Arc<[Message]>>>;

/// A client's way to its snapshot: how it wants it, and where the core says which build
/// is its own (dropped unanswered when it resumes instead).
pub struct Ask {
    pub encoding: Encoding,
    pub reply: oneshot::Sender<Frames>,
}

/// How long a build may serve later joins (which then resume from its `seq`).
pub const SHARE_FOR: Duration = Duration::from_secs(2);

/// What a snapshot is made from, as of `seq`.
pub struct View {
    pub epoch: String,
    pub seq: u64,
    pub rows: Rows,
    pub warnings: Vec<Warning>,
    pub units: Vec<Unit>,
    pub briefing: Option<Briefing>,
    /// The duty room as the scope sees it (`scope::duty`).
    pub duty: Option<Box<protocol::Duty>>,
    pub region: String,
    /// Tickets per part.
    pub part: usize,
}

/// A build started (or done), for sharing.
pub struct Built {
    pub epoch: String,
    pub seq: u64,
    pub at: Instant,
    pub frames: Frames,
}

/// Start building `view` in `encoding` on a thread of its own.
pub fn start(view: View, encoding: Encoding) -> Built {
    let (tx, rx) = watch::channel(None);
    let (epoch, seq) = (view.epoch.clone(), view.seq);
    let spawned = std::thread::Builder::new()
        .name("yiping-snapshot".into())
        .spawn(move || {
            lower_priority();
            let frames = build(&view, encoding);
            let _ = tx.send(Some(frames.into()));
        });
    if let Err(e) = spawned {
        tracing::error!("no thread for a snapshot: {e}");
    }
    Built {
        epoch,
        seq,
        at: Instant::now(),
        frames: rx,
    }
}

/// The builder (and the bulk sender, `bulk`) yields the CPU to the core and the
/// connections' writers: on two cores ten builds at once would otherwise take the core's
/// turn. SCHED_IDLE, this thread only: any other thread that wakes takes the CPU at
/// once, where at nice 10 it could wait out the bulk thread's slice (delivery p99 with
/// ten joins 2.5 → 6.8 ms in a quiet run at nice 10). Nice 10 stays as the fallback.
/// Threads the calling thread makes afterwards inherit both (`yiping-bench snapshot`'s joining
/// walls set their process so).
pub fn lower_priority() {
    // SAFETY: setpriority and sched_setscheduler on this thread's own id (Linux: a tid
    // names that thread alone); the param is a local the call only reads.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::pid_t;
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param);
    }
}

/// The parts of a snapshot of `v`.
pub fn build(v: &View, encoding: Encoding) -> Vec<Message> {
    let rows: Vec<&[u8]> = v
        .rows
        .values()
        .map(|r| &r[..])
        .filter(|r| v.region.is_empty() || compact::row_grid(r).is_ok_and(|g| within(g, &v.region)))
        .collect();
    let chunks: Vec<&[&[u8]]> = if rows.is_empty() {
        vec![&[]]
    } else {
        rows.chunks(v.part.max(1)).collect()
    };
    let n = chunks.len();
    let mut out = Vec::with_capacity(n);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let first = i == 0;
        let none: &[Warning] = &[];
        let head = PartHead {
            epoch: &v.epoch,
            seq: v.seq,
            part: i as u32,
            last: i + 1 == n,
            warnings: if first { &v.warnings } else { none },
            units: if first { &v.units } else { &[] },
            briefing: v.briefing.as_ref().filter(|_| first),
            duty: v.duty.as_deref().filter(|_| first),
        };
        match encoding {
            Encoding::Compact => {
                let bytes = compact::encode_part(&head, chunk.iter().copied());
                out.push(Message::Binary(bytes.into()));
            }
            Encoding::Json => {
                let tickets = chunk
                    .iter()
                    .filter_map(|r| {
                        // The rows are the store's own: a failure here is a bug, said loudly.
                        compact::row_ticket(r)
                            .map_err(|e| tracing::error!("a stored row does not decode: {e}"))
                            .ok()
                    })
                    .collect();
                let msg = ServerMsg::Snapshot(Snapshot {
                    epoch: v.epoch.clone(),
                    seq: v.seq,
                    part: head.part,
                    last: head.last,
                    tickets,
                    warnings: head.warnings.to_vec(),
                    units: head.units.to_vec(),
                    briefing: head.briefing.cloned(),
                    duty: head.duty.map(|d| Box::new(d.clone())),
                });
                match serde_json::to_string(&msg) {
                    Ok(s) => out.push(Message::Text(s.into())),
                    Err(e) => tracing::error!("snapshot part {i} does not serialize: {e}"),
                }
            }
        }
    }
    out
}
