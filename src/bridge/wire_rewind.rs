//! Rewind over the wire: the wall asks its own gateway (any node of a cluster) to replay
//! the gateway's log on a connection of its own (`rewind` in the hello). Nothing of the
//! gateway's needs to be on the wall's machine.

use crate::feed::FeedConfig;
use crate::protocol::RewindAsk;
use crate::wall::RewindError;

pub struct WireRewind {
    live: FeedConfig,
}

impl WireRewind {
    /// Rewinds from the gateways of the live feed `live`, with its token, region and CA.
    pub fn new(live: FeedConfig) -> Self {
        WireRewind { live }
    }
}

impl crate::wall::rewind::RewindSource for WireRewind {
    fn start(&self, from_ms: i64, speed: f64) -> Result<FeedConfig, RewindError> {
        let mut cfg = self.live.clone();
        cfg.rewind = Some(RewindAsk { from_ms, speed });
        Ok(cfg)
    }

    /// The gateway ends the replay when the wall's rewind feed closes.
    fn stop(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wall::rewind::RewindSource;

    #[test]
    fn a_rewind_is_the_live_feed_asking_for_the_past() {
        let mut live = FeedConfig::new("ws://a:7400,ws://b:7400", "t");
        live.region = Some("321102".into());
        let r = WireRewind::new(live).start(1_000, 30.0).unwrap();
        assert_eq!(r.url, "ws://a:7400,ws://b:7400");
        assert_eq!(r.region.as_deref(), Some("321102"));
        assert_eq!(
            r.rewind,
            Some(RewindAsk {
                from_ms: 1_000,
                speed: 30.0
            })
        );
    }
}
