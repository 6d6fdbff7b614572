//! The map's camera: it renders only in the area the panels leave, fits the city (or the
//! focus) into it, flies smoothly to a goal, and pans and zooms under the mouse.

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::EguiContexts;

use crate::MapCamera;
use crate::drill::bounds;
use crate::view::{CameraGoal, FitPending, Focus, Framed, MapLayers, MapRect, MapView};

/// Render the map only in the area the panels leave, and fit the city into it once.
pub(super) fn fit_viewport(
    rect: Res<MapRect>,
    map: Res<MapLayers>,
    mut fit: ResMut<FitPending>,
    (focus, mut goal, mut framed): (Res<Focus>, ResMut<CameraGoal>, ResMut<Framed>),
    window: Single<&Window, With<PrimaryWindow>>,
    mut cam: Single<&mut Camera, With<MapCamera>>,
) {
    let Some((min, max)) = rect.0 else { return };
    let sf = window.scale_factor();
    let pos = (min * sf).as_uvec2();
    let size = ((max - min) * sf).max(Vec2::ONE).as_uvec2();
    let phys = UVec2::new(window.physical_width(), window.physical_height());
    if pos.x + size.x > phys.x || pos.y + size.y > phys.y {
        return;
    }
    let vp = bevy::camera::Viewport {
        physical_position: pos,
        physical_size: size,
        ..default()
    };
    let before = cam.viewport.as_ref().map(|v| v.physical_size);
    if cam
        .viewport
        .as_ref()
        .map(|v| (v.physical_position, v.physical_size))
        != Some((pos, size))
    {
        cam.viewport = Some(vp);
    }
    if fit.0 {
        framed.0 = bounds(&map, &focus.0);
        fit.0 = false;
    }
    // The one place a framed box becomes the camera's goal: when something was framed (a
    // focus, a briefing's area, a ticket's surroundings) or the area changed size (a
    // briefing took the wall or gave it back), fitted to the area as it is now (whoever
    // framed it may have run before a briefing's layout changed the area).
    if (framed.is_changed() || before.is_some_and(|b| b != size))
        && let Some((lo, hi)) = framed.0
    {
        goal.0 = Some(fit_goal(lo, hi, max - min));
    }
}

/// Where the camera goes to show the world box (lo, hi) in a map area of `area` pixels,
/// with a band at the top left free for the breadcrumb.
pub fn fit_goal(lo: Vec2, hi: Vec2, area: Vec2) -> (Vec2, f32) {
    // The breadcrumb sits from 96 px down, below the red banner's band.
    const TOP: f32 = 210.0;
    let area = Vec2::new(area.x, (area.y - TOP).max(area.y * 0.5)).max(Vec2::ONE);
    let scale = (((hi.x - lo.x) / area.x).max((hi.y - lo.y) / area.y) * 1.06).max(0.0008);
    // The camera sits higher by half the band, so the box lands below it.
    ((lo + hi) / 2.0 + Vec2::new(0.0, TOP / 2.0 * scale), scale)
}

/// Frame the focus when it changes (`fit_viewport` flies there).
pub(super) fn fly_to_focus(focus: Res<Focus>, map: Res<MapLayers>, mut framed: ResMut<Framed>) {
    // A frame set this frame (a briefing's area, a ticket's surroundings) wins.
    if !focus.is_changed() || focus.is_added() || (framed.is_changed() && !framed.is_added()) {
        return;
    }
    if let Some(b) = bounds(&map, &focus.0) {
        framed.0 = Some(b);
    }
}

pub(super) fn fly_camera(
    time: Res<Time>,
    mut goal: ResMut<CameraGoal>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut cam: Single<(&mut Transform, &mut Projection), With<MapCamera>>,
    mut view: ResMut<MapView>,
    rect: Res<MapRect>,
) {
    let (ref mut tf, ref mut proj) = *cam;
    let Projection::Orthographic(o) = proj.as_mut() else {
        return;
    };
    if let Some((to, scale)) = goal.0 {
        let k = 1.0 - (-6.0 * time.delta_secs()).exp();
        let at = tf.translation.truncate().lerp(to, k);
        tf.translation.x = at.x;
        tf.translation.y = at.y;
        o.scale = o.scale + (scale - o.scale) * k;
        if at.distance(to) < 0.01 && (o.scale - scale).abs() < scale * 0.01 {
            goal.0 = None;
        }
    }
    let (origin, size) = match rect.0 {
        Some((min, max)) => (min, max - min),
        None => (Vec2::ZERO, Vec2::new(window.width(), window.height())),
    };
    *view = MapView {
        center: tf.translation.truncate(),
        scale: o.scale,
        origin,
        size,
    };
}

/// The mouse: buttons, motion and wheel this frame.
type Mouse<'w> = (
    Res<'w, ButtonInput<MouseButton>>,
    Res<'w, AccumulatedMouseMotion>,
    Res<'w, AccumulatedMouseScroll>,
);

/// Pan with the left button, zoom with the wheel about the cursor. Any of it stops a
/// fly-to. Not while the pointer is over a panel.
pub(super) fn pan_and_zoom(
    mut egui: EguiContexts,
    (buttons, motion, scroll): Mouse,
    window: Single<&Window, With<PrimaryWindow>>,
    mut cam: Single<(&mut Transform, &mut Projection), With<MapCamera>>,
    mut goal: ResMut<CameraGoal>,
    view: Res<MapView>,
) {
    if pointer_on_panels(&mut egui) {
        return;
    }
    let (ref mut tf, ref mut proj) = *cam;
    let Projection::Orthographic(o) = proj.as_mut() else {
        return;
    };
    if buttons.pressed(MouseButton::Left) && motion.delta != Vec2::ZERO {
        goal.0 = None;
        tf.translation.x -= motion.delta.x * o.scale;
        tf.translation.y += motion.delta.y * o.scale;
    }
    let lines = match scroll.unit {
        MouseScrollUnit::Line => scroll.delta.y,
        MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
    };
    if lines != 0.0 {
        goal.0 = None;
        let before = o.scale;
        let after = (before * 0.85f32.powf(lines)).clamp(0.0005, 0.3);
        // Keep the point under the cursor where it is.
        if let Some(c) = window.cursor_position() {
            let mid = view.origin + view.size / 2.0;
            let off = Vec2::new(c.x - mid.x, mid.y - c.y);
            let shift = off * (before - after);
            tf.translation.x += shift.x;
            tf.translation.y += shift.y;
        }
        o.scale = after;
    }
}

/// The pointer is on a panel (or egui holds it): the map leaves the input alone.
pub(super) fn pointer_on_panels(egui: &mut EguiContexts) -> bool {
    egui.ctx_mut()
        .is_ok_and(|ctx| ctx.egui_wants_pointer_input() || ctx.is_pointer_over_egui())
}
