//! The wall's palette, in one place: text and state colours, warning levels, the
//! four-colour rating (红橙黄绿) and the ticket-status colours the markers and donuts share.
//! Dark background, saturated signals: read at 5 m, over twelve hours.

use bevy_egui::egui::Color32;

use super::rollup::Rating;
use protocol::WarningLevel;

pub const RED: Color32 = Color32::from_rgb(255, 80, 80);
pub const AMBER: Color32 = Color32::from_rgb(255, 190, 60);
pub const GREEN: Color32 = Color32::from_rgb(90, 220, 140);
pub const CYAN: Color32 = Color32::from_rgb(120, 210, 255);
/// Secondary text.
pub const DIM: Color32 = Color32::from_rgb(150, 165, 185);
/// Panels: a touch translucent over the map.
pub const BG: Color32 = Color32::from_rgba_premultiplied(8, 14, 24, 235);
/// Boards drawn over the map (briefing, tour): opaque.
pub const BOARD: Color32 = Color32::from_rgb(8, 14, 24);
/// Bars of charts.
pub const BAR: Color32 = Color32::from_rgb(80, 170, 255);

/// The ticket-status colours, in the roll-ups' bucket order: awaiting dispatch, assigned,
/// in progress, overdue. The markers' shader uses the same (shaders/markers.wgsl).
pub const STATUS: [Color32; 4] = [
    Color32::from_rgb(237, 245, 255),
    Color32::from_rgb(90, 176, 255),
    Color32::from_rgb(70, 224, 176),
    Color32::from_rgb(255, 80, 80),
];

pub fn level_color(l: WarningLevel) -> Color32 {
    match l {
        WarningLevel::Red => RED,
        WarningLevel::Orange => Color32::from_rgb(255, 140, 50),
        WarningLevel::Yellow => Color32::from_rgb(240, 210, 60),
        WarningLevel::Blue => Color32::from_rgb(80, 150, 255),
    }
}

/// A rating as text and legend colour.
pub fn rating_color(r: Rating) -> Color32 {
    match r {
        Rating::Red => Color32::from_rgb(255, 80, 80),
        Rating::Orange => Color32::from_rgb(255, 150, 50),
        Rating::Yellow => Color32::from_rgb(235, 205, 60),
        Rating::Green => Color32::from_rgb(80, 200, 130),
    }
}

/// A rating as the map's cell fill (sRGB + alpha): dark enough for markers to stand out.
pub fn cell_color(r: Rating) -> [f32; 4] {
    match r {
        Rating::Red => [0.50, 0.10, 0.12, 0.95],
        Rating::Orange => [0.50, 0.27, 0.08, 0.93],
        Rating::Yellow => [0.40, 0.38, 0.10, 0.92],
        Rating::Green => [0.05, 0.16, 0.13, 0.92],
    }
}
