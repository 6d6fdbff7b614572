//! WAL checkpoints on a thread of their own. By default SQLite runs a checkpoint inside
//! the commit that takes the WAL past 1,000 pages: it copies those pages into the main
//! file and fsyncs it, and the gateway's core waits for that commit. Here the writer's
//! own checkpoints only start at `BACKSTOP` pages, and this thread runs a passive
//! checkpoint (it waits for no reader or writer) every `EVERY`. Measured honestly: on
//! this VM the commits over 10 ms at 1,000 tickets a second were a handful per ~4,000
//! either way (A/B: 1 and 27 without the thread, 3 and 3 with; `yiping-bench snapshot`,
//! BENCHMARKS.md "A province"), the host's own stalls being larger than this effect.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the thread checkpoints: about 1,000 WAL pages at 1,000 tickets a second.
const EVERY: Duration = Duration::from_millis(500);

/// The writer's own checkpoints (pages of WAL): reached only if this thread falls
/// behind, so the WAL never grows without end.
pub const BACKSTOP: u32 = 20_000;

pub struct Checkpointer {
    stop: Option<mpsc::SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Checkpoint the database at `path` (already in WAL mode) until dropped; `None`
    /// (said in the log) if no connection or thread could be had: the writer then keeps
    /// SQLite's own checkpoints.
    pub fn start(path: &Path) -> Option<Checkpointer> {
        let conn = Connection::open(path)
            .map_err(|e| tracing::warn!("no checkpoint connection, the writer checkpoints: {e}"))
            .ok()?;
        let (stop, stopped) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("yiping-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    // A failure (a full disk) is said and tried again next time.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!("WAL checkpoint: {e}");
                    }
                }
            })
            .map_err(|e| tracing::warn!("no checkpoint thread, the writer checkpoints: {e}"))
            .ok()?;
        Some(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
