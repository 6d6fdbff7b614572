//! Rewind during a briefing: the wall switches its feed to a replay of its gateway's last
//! hours and back to live. The wall never starts a gateway itself (it reaches gateways
//! only over the wire): whoever opened it hands it a `RewindSource` that can — the demo,
//! or `yiping wall --gateway-db`, which replay the gateway's own database. Switching
//! drops the current feed connection and opens the other one, so the mirror starts again
//! from that side's snapshot: the replay never mixes with the live state. `act.rs` does
//! the switching on `UiAction::Rewind`.

use std::sync::Arc;

use bevy::prelude::*;

use feed::FeedConfig;

/// Starts and stops replays of the wall's gateway.
pub trait RewindSource: Send + Sync {
    /// Start a replay from `from_ms` at `speed`; returns the feed to watch it on.
    fn start(&self, from_ms: i64, speed: f64) -> Result<FeedConfig, crate::RewindError>;
    /// Stop the replay started last.
    fn stop(&self);
}

/// The wall can rewind: how, and how to get back to live.
#[derive(Resource, Clone)]
pub struct Rewind {
    pub source: Arc<dyn RewindSource>,
    pub live: FeedConfig,
    /// Rewound now, from this time.
    pub active: Option<i64>,
    /// The last failure, in words.
    pub error: Option<String>,
}

/// How fast a rewind plays the past.
pub const REWIND_SPEED: f64 = 30.0;
