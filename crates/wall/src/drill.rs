//! The drill-down: city → district → town → village → grid → micro-grid. A click on the
//! map goes one level down into the region under it, a breadcrumb (or the right button,
//! or Esc) goes back up; the map colours the children of the focus by their four-colour
//! rating and, zoomed out, merges the ticket markers into one status donut per region.
//! Here: which level shows at which zoom, and which region is where. The focus itself is
//! view state (`view::Focus`), changed only through `UiAction::Focus`.

use bevy::prelude::*;

use super::layers::Layer;
use super::rollup::{depth, inside};
use super::view::MapLayers;
use protocol::within;

/// The deepest level the map has: micro-grids.
pub const MAX_DEPTH: usize = 5;

/// The level whose regions the map colours: the focus's children, or finer ones when the
/// view is zoomed in far enough to tell them apart (km per pixel).
pub fn shown_depth(focus: &str, scale: f32) -> usize {
    let by_zoom = if scale >= 0.03 {
        1
    } else if scale >= 0.012 {
        2
    } else if scale >= 0.005 {
        3
    } else if scale >= 0.002 {
        4
    } else {
        5
    };
    (depth(focus) + 1).max(by_zoom).min(MAX_DEPTH)
}

/// Inside a polygon with holes: in the exterior ring and in none of the others.
fn in_polygon(p: Vec2, rings: &[Vec<Vec2>]) -> bool {
    rings.first().is_some_and(|r| inside(p, r)) && !rings[1..].iter().any(|r| inside(p, r))
}

/// The child of `focus` under the world point `at`, if any.
pub fn child_at(map: &MapLayers, focus: &str, at: Vec2) -> Option<String> {
    let d = depth(focus) + 1;
    let layer = map.layer(d)?;
    layer
        .cells
        .iter()
        .filter(|c| within(&c.id, focus))
        .find(|c| c.polygons.iter().any(|p| in_polygon(at, p)))
        .map(|c| c.id.clone())
}

/// A region's bounds in world km.
pub fn bounds(map: &MapLayers, region: &str) -> Option<(Vec2, Vec2)> {
    let layer: &Layer = if region.is_empty() {
        &map.outline
    } else {
        map.layer(depth(region))?
    };
    let cells: Vec<_> = if region.is_empty() {
        layer.cells.iter().collect()
    } else {
        vec![&layer.cells[*layer.index.get(region)? as usize]]
    };
    let (mut lo, mut hi) = (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN));
    for p in cells
        .iter()
        .flat_map(|c| c.polygons.iter().flat_map(|p| p[0].iter()))
    {
        lo = lo.min(*p);
        hi = hi.max(*p);
    }
    (lo.x <= hi.x).then_some((lo, hi))
}

/// The level whose donuts stand for the markers at this zoom, or `None` when zoomed in
/// far enough for the markers themselves.
pub fn donut_depth(scale: f32, focus: &str) -> Option<usize> {
    let by_zoom = if scale >= 0.1 {
        1
    } else if scale >= 0.03 {
        2
    } else if scale >= 0.012 {
        3
    } else {
        return None;
    };
    let d = by_zoom.max(depth(focus) + 1);
    (d <= 3).then_some(d)
}
