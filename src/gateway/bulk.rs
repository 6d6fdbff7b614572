//! Bulk sends: a snapshot's frames go out from a thread of their own at a lower priority,
//! so that on a busy machine the core and the live deltas to every other client come
//! first. Ten walls joining at once at a province's million tickets put 1.5 GB through
//! the sockets in 3-4 s; sent from the gateway's own workers, that copying took their
//! turns from the watchers' deltas (`yiping bench-snapshot`, BENCHMARKS.md "A province").

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// The bulk runtime: one worker at nice 10 (`None` if it could not be made: bulk work
/// then runs where it is asked for).
fn runtime() -> Option<&'static Runtime> {
    static BULK: OnceLock<Option<Runtime>> = OnceLock::new();
    BULK.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("yiping-bulk")
            .on_thread_start(super::snapshot::lower_priority)
            .enable_all()
            .build()
            .map_err(|e| tracing::warn!("no bulk thread, snapshots go from the workers: {e}"))
            .ok()
    })
    .as_ref()
}

/// Run `work` on the bulk thread; dropping what this returns (a client cut off while its
/// snapshot goes out) stops the work there too.
pub async fn run<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let task = match runtime() {
        Some(rt) => rt.spawn(work),
        None => tokio::spawn(work),
    };
    Aborting(task).await_result().await
}

/// A task aborted when dropped before it ends.
struct Aborting<T>(JoinHandle<T>);

impl<T> Aborting<T> {
    async fn await_result(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
