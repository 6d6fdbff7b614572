//! Bulk sends: a snapshot's frames go out from a thread of their own at a lower priority,
//! so that on a busy machine the core and the live deltas to every other client come
//! first. Ten walls joining at once at a province's million tickets put 1.5 GB through
//! the sockets in 3-4 s; sent from the gateway's own workers, that copying took their
//! turns from the watchers' deltas (`yiping-bench snapshot`, BENCHMARKS.md "A province").

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

/// The bulk runtime: one worker at SCHED_IDLE (`lower_priority`); `None` if it could not
/// be made: bulk work then runs where it is asked for.
fn runtime() -> Option<&'static Runtime> {
    static BULK: OnceLock<Option<Runtime>> = OnceLock::new();
    BULK.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("yiping-bulk")
            .on_thread_start(super::lower_priority)
            .enable_all()
            .build()
            .map_err(|e| tracing::warn!("no bulk thread, snapshots go from the workers: {e}"))
            .ok()
    })
    .as_ref()
}

/// Run `work` on the bulk thread. It runs to its end even if what awaits it is dropped:
/// give it a way to stop (the snapshot sender stops when its connection's writer is gone).
pub async fn run<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    match runtime() {
        Some(rt) => rt.spawn(work).await,
        None => tokio::spawn(work).await,
    }
}
