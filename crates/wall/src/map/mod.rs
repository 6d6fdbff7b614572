//! The grid map: `render` draws it on the GPU (fills coloured by the roll-ups, outlines,
//! ticket markers), `camera` frames and moves it, `picking` turns clicks into
//! `UiAction`s. What the rest of the wall knows of the map is in `view.rs`.

mod camera;
pub use camera::fit_goal;
mod picking;
pub mod render;

use bevy::prelude::*;
use bevy::sprite_render::Material2dPlugin;

use super::WallSet;
use super::view::{CameraGoal, FitPending, MapRect, MapView};

pub(crate) fn plugin(app: &mut App) {
    {
        let mut shaders = app.world_mut().resource_mut::<Assets<Shader>>();
        let grid = shaders.add(Shader::from_wgsl(
            include_str!("../../../../shaders/grid.wgsl"),
            "shaders/grid.wgsl",
        ));
        let marker = shaders.add(Shader::from_wgsl(
            include_str!("../../../../shaders/markers.wgsl"),
            "shaders/markers.wgsl",
        ));
        let _ = render::GRID_SHADER.set(grid);
        let _ = render::MARKER_SHADER.set(marker);
    }
    app.add_plugins((
        Material2dPlugin::<render::CellMaterial>::default(),
        Material2dPlugin::<render::MarkerMaterial>::default(),
    ))
    .init_resource::<CameraGoal>()
    .init_resource::<super::view::Framed>()
    .init_resource::<MapView>()
    .init_resource::<MapRect>()
    .insert_resource(FitPending(true))
    .add_systems(Startup, render::setup)
    .add_systems(
        Update,
        (
            (
                render::recolor_cells,
                render::update_markers,
                render::marker_visibility,
                camera::fly_to_focus,
            )
                .in_set(WallSet::Draw),
            (
                camera::fit_viewport,
                picking::pick,
                camera::pan_and_zoom,
                camera::fly_camera,
                render::zoom_bands,
            )
                .chain()
                .in_set(WallSet::Draw),
        ),
    );
}
