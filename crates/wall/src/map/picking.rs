//! What a click on the map means: the nearest open ticket's marker within 12 px (when
//! markers show) selects it; else a status donut, or the region under the cursor, drills
//! one level down; the right button or Esc goes one level up. Only `UiAction`s come out.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::EguiContexts;

use super::camera::pointer_on_panels;
use crate::action::UiAction;
use crate::drill::{child_at, donut_depth};
use crate::link::WallMirror;
use crate::rollup::{depth, parent};
use crate::view::{DonutHits, Focus, MapLayers, MapView};
use protocol::within;

/// Where the left button went down, to tell a click from a drag.
#[derive(Default)]
pub(super) struct Press(Option<Vec2>);

/// What a click can hit.
#[derive(bevy::ecs::system::SystemParam)]
pub(super) struct Targets<'w> {
    mirror: Res<'w, WallMirror>,
    map: Res<'w, MapLayers>,
    view: Res<'w, MapView>,
    focus: Res<'w, Focus>,
    donuts: Res<'w, DonutHits>,
}

pub(super) fn pick(
    mut press: Local<Press>,
    at: Targets,
    mut actions: MessageWriter<UiAction>,
    mut egui: EguiContexts,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    window: Single<&Window, With<PrimaryWindow>>,
) {
    let focus = &at.focus.0;
    let up_one = || UiAction::Focus(parent(focus).unwrap_or("").to_string());
    if keys.just_pressed(KeyCode::Escape) && depth(focus) > 0 {
        actions.write(up_one());
    }
    if pointer_on_panels(&mut egui) {
        return;
    }
    if buttons.just_pressed(MouseButton::Left) {
        press.0 = window.cursor_position();
    }
    if buttons.just_released(MouseButton::Left)
        && let (Some(down), Some(up)) = (press.0.take(), window.cursor_position())
        && down.distance(up) < 4.0
    {
        // A click, not a drag: the nearest open ticket within 12 px when markers show;
        // else a donut; else one level down into the region under the cursor.
        let world = at.view.to_world(up);
        let reach = 12.0 * at.view.scale;
        let markers = donut_depth(at.view.scale, focus).is_none();
        let hit = at
            .mirror
            .0
            .tickets
            .values()
            .filter(|t| markers && t.status.is_open() && within(&t.grid, focus))
            .map(|t| (t.id, at.map.proj.to_world(t.lon, t.lat).distance(world)))
            .filter(|(_, d)| *d < reach)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((id, _)) = hit {
            actions.write(UiAction::Select(id));
        } else if let Some((_, _, r)) = at.donuts.0.iter().find(|(c, r, _)| c.distance(up) <= *r) {
            actions.write(UiAction::Focus(r.clone()));
        } else if let Some(child) = child_at(&at.map, focus, world) {
            actions.write(UiAction::Focus(child));
        }
    }
    if buttons.just_released(MouseButton::Right) && depth(focus) > 0 {
        actions.write(up_one());
    }
}
