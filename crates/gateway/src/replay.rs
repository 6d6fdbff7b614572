//! Playing a recording back into the gateway: the recorded snapshot seeds the store, then
//! each recorded delta's event is handed to the core at its recorded time (scaled by the
//! speed), where it is written and fanned out like a live change. What comes before
//! `from_ms` is applied at once. A line that does not decode stops the replay with its
//! line number; nothing after it is applied.

use crate::GatewayError;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, watch};

use super::CoreMsg;
use super::config::ReplaySource;
use protocol::{RecordLine, ServerMsg};

/// Events due within this much real time of each other go to the core together.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

pub async fn run(
    src: ReplaySource,
    core: mpsc::Sender<CoreMsg>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    let mut source = match &src.postgres {
        Some(url) => {
            let url = url.clone();
            let reader =
                tokio::task::spawn_blocking(move || store::LogReader::postgres(&url)).await??;
            Source::paged(reader)
        }
        None => Source::open(&src.path).await?,
    };
    let speed = if src.speed > 0.0 { src.speed } else { 1.0 };
    let mut seeding = true;
    // (recorded ms of the first event played in time, the real instant it was played)
    let mut origin: Option<(i64, tokio::time::Instant)> = None;
    let mut batch: Vec<protocol::Event> = Vec::new();
    let mut batch_at = 0i64;
    let mut n = 0usize;
    let result = loop {
        n += 1;
        let rec = match source.next().await {
            Ok(Some(r)) => r,
            Ok(None) => break Ok(()),
            Err(e) => {
                break Err(GatewayError::Replay(format!(
                    "{} item {n}: {e}; replay stopped there",
                    src.path.display()
                )));
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

async fn flush(core: &mpsc::Sender<CoreMsg>, batch: &mut Vec<protocol::Event>, at_ms: i64) {
    if batch.is_empty() {
        return;
    }
    let events = std::mem::take(batch);
    let _ = core.send(CoreMsg::Replayed { at_ms, events }).await;
}

/// Where recorded messages come from: a recording (JSON lines), or a gateway's own
/// database (its event log: a rewind of that gateway's history), read a page at a time.
enum Source {
    Lines(tokio::io::Lines<tokio::io::BufReader<tokio::fs::File>>),
    Log {
        /// `None` while a page is being read (off the runtime, on a blocking thread).
        reader: Option<store::LogReader>,
        page: std::vec::IntoIter<store::StoredDelta>,
        /// The last seq read.
        after: u64,
    },
}

impl Source {
    async fn open(path: &std::path::Path) -> Result<Source, GatewayError> {
        let mut head = [0u8; 16];
        let is_db = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok()
            && &head == b"SQLite format 3\0";
        if is_db {
            return Ok(Source::paged(store::LogReader::sqlite(path)?));
        }
        let file = tokio::fs::File::open(path).await.map_err(|e| {
            GatewayError::Replay(format!("cannot open the recording {}: {e}", path.display()))
        })?;
        Ok(Source::Lines(tokio::io::BufReader::new(file).lines()))
    }

    fn paged(reader: store::LogReader) -> Source {
        Source::Log {
            reader: Some(reader),
            page: Vec::new().into_iter(),
            after: 0,
        }
    }

    /// The next recorded message; `Ok(None)` at the end.
    async fn next(&mut self) -> Result<Option<RecordLine>, GatewayError> {
        match self {
            Source::Lines(lines) => loop {
                let Some(line) = lines.next_line().await? else {
                    return Ok(None);
                };
                if line.trim().is_empty() {
                    continue;
                }
                return serde_json::from_str(&line)
                    .map(Some)
                    .map_err(|e| GatewayError::Replay(format!("not a recording line ({e})")));
            },
            Source::Log {
                reader,
                page,
                after,
            } => {
                let next = match page.next() {
                    Some(d) => Some(d),
                    None => {
                        let Some(r) = reader.take() else {
                            return Ok(None);
                        };
                        let from = *after;
                        let (r, rows) = tokio::task::spawn_blocking(move || {
                            let rows = r.page(from);
                            (r, rows)
                        })
                        .await
                        .map_err(|e| GatewayError::Replay(format!("the log's reader: {e}")))?;
                        *reader = Some(r);
                        *page = rows?.into_iter();
                        page.next()
                    }
                };
                let Some(d) = next else {
                    return Ok(None);
                };
                *after = d.seq;
                {
                    let msg: ServerMsg = serde_json::from_str(&d.frame).map_err(|e| {
                        GatewayError::Replay(format!("event {} does not decode ({e})", d.seq))
                    })?;
                    Ok(Some(RecordLine {
                        at_us: d.ts_us,
                        msg,
                    }))
                }
            }
        }
    }
}
