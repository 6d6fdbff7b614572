//! The wall's clock: the time every view counts against. Live, it is the machine's clock;
//! during a replay or a rewind it is the recorded clock the gateway sends (`replay`), so
//! countdowns, figures, the map's overdue colours and the markers' pulse all agree.

use bevy::prelude::*;

use super::WallSet;
use super::link::WallMirror;
use domain::time::now_ms;

#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    /// ms since the Unix epoch, as of this frame.
    pub now_ms: i64,
}

impl Default for WallClock {
    fn default() -> Self {
        WallClock { now_ms: now_ms() }
    }
}

impl WallClock {
    /// The clock for a mirror: the recorded one while it follows a replay.
    pub fn of(mirror: &feed::Mirror) -> WallClock {
        WallClock {
            now_ms: mirror
                .replay
                .map_or_else(now_ms, |(clock_ms, _, _)| clock_ms),
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
