//! Playing a recording back into the gateway: the recorded snapshot seeds the store, then
//! each recorded delta's event is handed to the core at its recorded time (scaled by the
//! speed), where it is written and fanned out like a live change. What comes before
//! `from_ms` is applied at once. A line that does not decode stops the replay with its
//! line number; nothing after it is applied.

use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, watch};

use super::CoreMsg;
use crate::config::ReplaySource;
use crate::protocol::{RecordLine, ServerMsg};

/// Events due within this much real time of each other go to the core together.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

pub async fn run(
    src: ReplaySource,
    core: mpsc::Sender<CoreMsg>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let file = tokio::fs::File::open(&src.path)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the recording {}: {e}", src.path.display()))?;
    let mut lines = tokio::io::BufReader::new(file).lines();
    let speed = if src.speed > 0.0 { src.speed } else { 1.0 };
    let mut seeding = true;
    // (recorded ms of the first event played in time, the real instant it was played)
    let mut origin: Option<(i64, tokio::time::Instant)> = None;
    let mut batch: Vec<crate::protocol::Event> = Vec::new();
    let mut batch_at = 0i64;
    let mut n = 0usize;
    let result = loop {
        let line = match lines.next_line().await {
            Ok(Some(l)) => l,
            Ok(None) => break Ok(()),
            Err(e) => break Err(anyhow::anyhow!("reading the recording: {e}")),
        };
        n += 1;
        if line.trim().is_empty() {
            continue;
        }
        let rec: RecordLine = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                break Err(anyhow::anyhow!(
                    "{} line {n} is not a recording line ({e}); replay stopped there",
                    src.path.display()
                ));
            }
        };
        let at_ms = rec.at_us / 1000;
        match rec.msg {
            ServerMsg::Snapshot(s) if seeding => {
                seeding = !s.last;
                if core.send(CoreMsg::Seed(Box::new(s))).await.is_err() {
                    return Ok(());
                }
            }
            ServerMsg::Delta { event, .. } => {
                seeding = false;
                let late = src.from_ms.is_some_and(|f| at_ms < f);
                if !late {
                    let (rec0, real0) = *origin.get_or_insert((at_ms, tokio::time::Instant::now()));
                    let due = real0
                        + Duration::from_secs_f64(((at_ms - rec0).max(0) as f64 / 1000.0) / speed);
                    if due > tokio::time::Instant::now() + BATCH_WINDOW {
                        // Send what is due before sleeping until this one.
                        flush(&core, &mut batch, batch_at).await;
                        tokio::select! {
                            _ = tokio::time::sleep_until(due) => {}
                            _ = stop.changed() => return Ok(()),
                        }
                    }
                }
                batch.push(event);
                batch_at = at_ms;
                if batch.len() >= 256 {
                    flush(&core, &mut batch, batch_at).await;
                }
            }
            // Heartbeats, figures and later snapshots are not part of the record.
            _ => {}
        }
    };
    flush(&core, &mut batch, batch_at).await;
    let _ = core.send(CoreMsg::ReplayEnd).await;
    result
}

async fn flush(core: &mpsc::Sender<CoreMsg>, batch: &mut Vec<crate::protocol::Event>, at_ms: i64) {
    if batch.is_empty() {
        return;
    }
    let events = std::mem::take(batch);
    let _ = core.send(CoreMsg::Replayed { at_ms, events }).await;
}
