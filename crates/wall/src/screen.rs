//! Care of the panels over a twelve-hour shift. A burn-in guard moves the static chrome
//! (the panels) by a few pixels along a slow Lissajous path, and the wall dims when
//! nobody has touched it and nothing new has come in for a while; any input, a new red or
//! orange warning or a new urgent ticket wakes it at once.

use std::time::{Duration, Instant};

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll};
use bevy::prelude::*;

use super::WallSet;
use super::config::ScreenConfig;
use super::link::{MirrorChanged, WallMirror};
use feed::Change;
use protocol::{Priority, WarningLevel, WarningStatus};

#[derive(Resource)]
pub struct ScreenCare {
    pub config: ScreenConfig,
    started: Instant,
    /// The last input or new alert.
    pub last_activity: Instant,
}

impl Default for ScreenCare {
    fn default() -> Self {
        ScreenCare::new(ScreenConfig::default(), Instant::now())
    }
}

impl ScreenCare {
    pub fn new(config: ScreenConfig, now: Instant) -> Self {
        ScreenCare {
            config,
            started: now,
            last_activity: now,
        }
    }

    /// The chrome's offset at `now`, in whole pixels (so text stays crisp).
    pub fn shift(&self, now: Instant) -> Vec2 {
        let c = &self.config;
        if c.shift_px <= 0.0 || c.shift_period_s <= 0.0 {
            return Vec2::ZERO;
        }
        let t = (now - self.started).as_secs_f32() / c.shift_period_s * std::f32::consts::TAU;
        (Vec2::new(t.sin(), (t * 1.37).sin()) * c.shift_px).round()
    }

    /// How dark the wall is at `now`: 0 while active, `dim` once idle.
    pub fn dimming(&self, now: Instant) -> f32 {
        let c = &self.config;
        let idle = c.dim_after_s > 0.0
            && now.duration_since(self.last_activity) >= Duration::from_secs_f32(c.dim_after_s);
        if idle { c.dim.clamp(0.0, 1.0) } else { 0.0 }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<ScreenCare>()
        .add_systems(Update, wake_on_parts.in_set(WallSet::Derive))
        .add_systems(Update, wake.in_set(WallSet::Derive))
        .add_systems(Update, pace_while_loading.in_set(WallSet::Derive));
}

/// Have each feed (the live one, a rewind's) wake the event loop when a snapshot part
/// comes, so that a wall paced at four frames a second takes it at once.
fn wake_on_parts(
    link: Option<Res<super::link::FeedLink>>,
    proxy: Option<Res<bevy::winit::EventLoopProxyWrapper>>,
) {
    let (Some(link), Some(proxy)) = (link, proxy) else {
        return;
    };
    if link.is_changed() {
        let proxy = (**proxy).clone();
        link.wake.set(move || {
            let _ = proxy.send_event(bevy::winit::WinitUserEvent::WakeUp);
        });
    }
}

/// A frame at least this long while the feed connects and the first snapshot loads.
pub const LOADING_FRAME: Duration = Duration::from_millis(250);

/// While the feed connects and the first snapshot loads there is nothing to animate:
/// four frames a second, so that the rendering (on a software renderer, both cores of
/// this machine) leaves the CPU to the feed and, in the demo, to the city starting up.
fn pace_while_loading(
    health: Res<super::link::FeedHealth>,
    winit: Option<ResMut<bevy::winit::WinitSettings>>,
) {
    let Some(mut winit) = winit else { return };
    // Paced only while waiting: with parts of a snapshot in the channel, frames run
    // back to back (at four a second a province's million tickets waited on the pace).
    let mode = if health.loading && health.backlog == 0 {
        bevy::winit::UpdateMode::reactive_low_power(LOADING_FRAME)
    } else {
        bevy::winit::UpdateMode::Continuous
    };
    if winit.focused_mode != mode {
        winit.focused_mode = mode;
        winit.unfocused_mode = mode;
    }
}

/// The input devices, each absent in a headless app.
type Input<'w> = (
    Option<Res<'w, ButtonInput<MouseButton>>>,
    Option<Res<'w, ButtonInput<KeyCode>>>,
    Option<Res<'w, AccumulatedMouseMotion>>,
    Option<Res<'w, AccumulatedMouseScroll>>,
);

/// Anything that should wake the wall: input, or a new alert in the feed.
pub fn wake(
    mut care: ResMut<ScreenCare>,
    mirror: Res<WallMirror>,
    mut changes: MessageReader<MirrorChanged>,
    input: Input<'_>,
) {
    let (buttons, keys, motion, scroll) = input;
    let touched = buttons.is_some_and(|b| b.get_just_pressed().next().is_some())
        || keys.is_some_and(|k| k.get_just_pressed().next().is_some())
        || motion.is_some_and(|m| m.delta != Vec2::ZERO)
        || scroll.is_some_and(|s| s.delta != Vec2::ZERO);
    let alert =
        changes.read().any(|MirrorChanged(c)| match c {
            Change::Ticket { id, before: None } => mirror
                .0
                .tickets
                .get(id)
                .is_some_and(|t| t.priority == Priority::Urgent),
            Change::Warning { id } => mirror.0.warnings.get(id).is_some_and(|w| {
                w.status == WarningStatus::Raised && w.level <= WarningLevel::Orange
            }),
            _ => false,
        });
    if touched || alert {
        care.last_activity = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shift_stays_small_and_whole_and_dimming_waits_for_idle() {
        let t0 = Instant::now();
        let care = ScreenCare::new(ScreenConfig::default(), t0);
        let mut seen = std::collections::HashSet::new();
        for s in (0..1200).step_by(7) {
            let v = care.shift(t0 + Duration::from_secs(s));
            assert!(v.x.abs() <= 4.0 && v.y.abs() <= 4.0);
            assert_eq!(v, v.round());
            seen.insert((v.x as i32, v.y as i32));
        }
        assert!(seen.len() > 10, "it moves: {} places", seen.len());
        assert_eq!(care.dimming(t0 + Duration::from_secs(60)), 0.0);
        assert_eq!(care.dimming(t0 + Duration::from_secs(901)), 0.45);
    }
}
