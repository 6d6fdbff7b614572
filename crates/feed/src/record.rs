//! `yiping record`: a client that writes a gateway's feed to an append-only file, one
//! `RecordLine` (receipt time + message) per line: the snapshot's parts, then every delta
//! in order. Heartbeats and figures are left out: a replay makes its own. Each line is
//! flushed as it is written, so a recording cut short keeps everything before the cut.

use std::io::Write;
use std::path::Path;

use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use tokio::sync::watch;

use domain::time::now_us;
use protocol::{RecordLine, ServerMsg};

/// What a recording came to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorded {
    /// Lines written.
    pub lines: u64,
    /// The last sequence number recorded.
    pub last_seq: u64,
}

/// Why a recording stopped.
#[derive(thiserror::Error, Debug)]
pub enum RecordError {
    #[error("cannot open {path} to record into: {source}")]
    Open {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the gateway refused the recorder: {0}")]
    Refused(String),
    #[error("writing the recording: {0}")]
    Write(#[from] std::io::Error),
    #[error("a line does not encode: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the recorder's thread: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Record the feed of `url` into `out` (appended to) until `stop` turns true. `url` may
/// list several gateways of a cluster, comma-separated: the recorder is the feed client,
/// so on a lost connection it moves to the next and resumes there by (epoch, seq), and the
/// recording goes on without a gap or a repeat.
pub async fn record(
    url: &str,
    (token, ca): (&str, Option<&Path>),
    out: &Path,
    stop: watch::Receiver<bool>,
) -> Result<Recorded, RecordError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|source| RecordError::Open {
            path: out.to_path_buf(),
            source,
        })?;
    let mut cfg = super::FeedConfig::new(url, token);
    cfg.ca = ca.map(Path::to_path_buf);
    let feed = super::spawn(cfg)?;
    tokio::task::spawn_blocking(move || write_feed(feed, std::io::BufWriter::new(file), stop))
        .await?
}

fn write_feed(
    feed: super::FeedHandle,
    mut file: std::io::BufWriter<std::fs::File>,
    stop: watch::Receiver<bool>,
) -> Result<Recorded, RecordError> {
    let mut done = Recorded::default();
    while !*stop.borrow() {
        let msg = match feed.events.recv_timeout(Duration::from_millis(50)) {
            Ok(super::FeedEvent::Msg(m, _)) => m,
            Ok(super::FeedEvent::Status(_)) | Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match &msg {
            ServerMsg::Snapshot(s) => done.last_seq = s.seq,
            ServerMsg::Delta { seq, .. } => done.last_seq = *seq,
            ServerMsg::Error { code, message } => {
                return Err(RecordError::Refused(format!("{code}: {message}")));
            }
            _ => continue,
        }
        let line = serde_json::to_string(&RecordLine {
            at_us: now_us(),
            msg,
        })?;
        writeln!(file, "{line}")?;
        file.flush()?;
        done.lines += 1;
    }
    file.flush()?;
    Ok(done)
}
