//! Rewind on a database file: each rewind is a replay of a gateway's own event log on a
//! gateway of its own, read-only on that file, watched over loopback like any feed.

use crate::wall::RewindError;
use std::path::PathBuf;

use crate::gateway::config::{GatewayConfig, ReplaySource};

/// Rewinds for a wall: replays of a gateway's own database, each on a gateway of its
/// own (a fresh temporary database, a loopback port, a viewer token made for it).
pub struct DbRewind {
    db: PathBuf,
    rt: tokio::runtime::Handle,
    running: std::sync::Mutex<Option<(crate::gateway::GatewayHandle, PathBuf)>>,
}

impl DbRewind {
    pub fn new(db: PathBuf, rt: tokio::runtime::Handle) -> Self {
        DbRewind {
            db,
            rt,
            running: std::sync::Mutex::new(None),
        }
    }
}

impl crate::wall::rewind::RewindSource for DbRewind {
    fn start(&self, from_ms: i64, speed: f64) -> Result<crate::feed::FeedConfig, RewindError> {
        self.stop();
        let why = |e: &dyn std::fmt::Display| RewindError(e.to_string());
        let (dir, token) = crate::gateway::config::replay_workspace().map_err(|e| why(&e))?;
        let cfg = GatewayConfig::for_replay(
            ReplaySource {
                path: self.db.clone(),
                speed,
                from_ms: Some(from_ms),
                postgres: None,
            },
            dir.join("rewind.sqlite"),
            token.clone(),
        );
        let g = self
            .rt
            .block_on(crate::gateway::start(cfg))
            .map_err(|e| why(&e))?;
        let url = format!("ws://{}", g.ws_addr);
        if let Ok(mut r) = self.running.lock() {
            *r = Some((g, dir));
        }
        Ok(crate::feed::FeedConfig::new(url, token))
    }

    fn stop(&self) {
        let old = self.running.lock().ok().and_then(|mut r| r.take());
        if let Some((g, dir)) = old {
            self.rt.block_on(g.shutdown());
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
