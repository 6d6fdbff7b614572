//! Charts as a wall draws them.

use bevy_egui::egui;
use egui_plot::Plot;

/// A chart on a wall: nothing to drag, zoom or hover (a wall has no hand on it).
pub fn still_plot<'a>(id: impl egui::AsId) -> Plot<'a> {
    Plot::new(id)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_x(false)
        .show_y(false)
}
