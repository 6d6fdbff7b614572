//! `yiping record`: a client that writes a gateway's feed to an append-only file, one
//! `RecordLine` (receipt time + message) per line: the snapshot's parts, then every delta
//! in order. Heartbeats and figures are left out: a replay makes its own. Each line is
//! flushed as it is written, so a recording cut short keeps everything before the cut.

use std::io::Write;
use std::path::Path;

use futures_util::StreamExt;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::domain::time::now_us;
use crate::protocol::{RecordLine, ServerMsg};

/// What a recording came to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorded {
    /// Lines written.
    pub lines: u64,
    /// The last sequence number recorded.
    pub last_seq: u64,
}

/// Record the feed of `url` into `out` (appended to) until `stop` turns true or the
/// gateway closes the connection.
pub async fn record(
    url: &str,
    (token, ca): (&str, Option<&Path>),
    out: &Path,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Recorded> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|e| anyhow::anyhow!("cannot open {} to record into: {e}", out.display()))?;
    let mut file = std::io::BufWriter::new(file);
    let tls = ca
        .map(super::handshake::tls)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let mut ws = super::handshake::open(
        url,
        tls.as_ref(),
        &super::handshake::hello(token, None, None),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot record: {e}"))?;
    let mut done = Recorded::default();
    loop {
        let frame = tokio::select! {
            f = ws.next() => f,
            _ = stop.changed() => break,
        };
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(anyhow::anyhow!("the feed broke off: {e}")),
        };
        let msg: ServerMsg = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the gateway sent what this build cannot read: {e}"))?;
        match &msg {
            ServerMsg::Snapshot(s) => done.last_seq = s.seq,
            ServerMsg::Delta { seq, .. } => done.last_seq = *seq,
            ServerMsg::Error { code, message } => {
                anyhow::bail!("the gateway refused the recorder: {code}: {message}")
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
