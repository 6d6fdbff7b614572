//! The wall's clock: the time every view counts against. Live, it is the machine's clock;
//! during a replay or a rewind it is the recorded clock the gateway sends (`replay`), so
//! countdowns, figures, the map's overdue colours and the markers' pulse all agree.

use bevy::prelude::*;

use super::WallSet;
use super::link::WallMirror;
use crate::domain::time::now_ms;

#[derive(Resource, Clone, Copy, Debug, PartialEq)]
pub struct WallClock {
    /// ms since the Unix epoch, as of this frame.
    pub now_ms: i64,
    /// The replay's speed while the feed is a replay.
    pub replay_speed: Option<f64>,
}

impl Default for WallClock {
    fn default() -> Self {
        WallClock {
            now_ms: now_ms(),
            replay_speed: None,
        }
    }
}

impl WallClock {
    /// The clock for a mirror: the recorded one while it follows a replay.
    pub fn of(mirror: &crate::feed::Mirror) -> WallClock {
        match mirror.replay {
            Some((clock_ms, speed, _)) => WallClock {
                now_ms: clock_ms,
                replay_speed: Some(speed),
            },
            None => WallClock {
                now_ms: now_ms(),
                replay_speed: None,
            },
        }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<WallClock>().add_systems(
        Update,
        tick.in_set(WallSet::Ingest).after(super::link::ingest),
    );
}

/// Set the clock once a frame, after the feed was drained.
fn tick(mirror: Res<WallMirror>, mut clock: ResMut<WallClock>) {
    clock.set_if_neq(WallClock::of(&mirror.0));
}
