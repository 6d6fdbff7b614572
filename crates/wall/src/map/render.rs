//! Drawing the map on the GPU: merged fill meshes per layer whose cell colours come from
//! a storage buffer (shaders/grid.wgsl), outline meshes at a few widths for zoom bands,
//! and the ticket markers (shaders/markers.wgsl). A change writes a few bytes into a
//! buffer and never rebuilds a mesh.

use std::sync::OnceLock;

use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::NoFrustumCulling;
use bevy::ecs::system::SystemParam;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::AsBindGroup;
use bevy::render::storage::ShaderBuffer;
use bevy::shader::ShaderRef;
use bevy::sprite_render::{AlphaMode2d, Material2d};

use crate::action::Selection;
use crate::clock::WallClock;
use crate::drill::{MAX_DEPTH, donut_depth, shown_depth};
use crate::layers::{self, Layer};
use crate::link::WallMirror;
use crate::markers::{MarkerSlots, Placed};
use crate::rollup::{Rating, RegionIndex, RollUps, rating};
use crate::theme::cell_color;
use crate::view::{Focus, MapLayers, MapView};
use protocol::within;

pub(super) static GRID_SHADER: OnceLock<Handle<Shader>> = OnceLock::new();
pub(super) static MARKER_SHADER: OnceLock<Handle<Shader>> = OnceLock::new();

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct CellMaterial {
    #[storage(0, read_only)]
    pub colors: Handle<ShaderBuffer>,
}

impl Material2d for CellMaterial {
    fn fragment_shader() -> ShaderRef {
        GRID_SHADER
            .get()
            .cloned()
            .map(ShaderRef::Handle)
            .unwrap_or_default()
    }
    fn alpha_mode(&self) -> AlphaMode2d {
        AlphaMode2d::Blend
    }
}

#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct MarkerMaterial {
    /// (now in s since the slots' base, radius px, selected slot or -1, 0)
    #[uniform(0)]
    pub params: Vec4,
    #[storage(1, read_only)]
    pub markers: Handle<ShaderBuffer>,
}

impl Material2d for MarkerMaterial {
    fn vertex_shader() -> ShaderRef {
        MARKER_SHADER
            .get()
            .cloned()
            .map(ShaderRef::Handle)
            .unwrap_or_default()
    }
    fn fragment_shader() -> ShaderRef {
        MARKER_SHADER
            .get()
            .cloned()
            .map(ShaderRef::Handle)
            .unwrap_or_default()
    }
    fn alpha_mode(&self) -> AlphaMode2d {
        AlphaMode2d::Blend
    }
}

/// Handles the map systems update.
#[derive(Resource)]
pub struct MapHandles {
    /// The fill colours of the district, town, village, grid and micro-grid layers.
    pub fills: Vec<Handle<ShaderBuffer>>,
    /// The focus and depth the fills were last coloured for.
    pub coloured_for: Option<(String, usize)>,
    pub marker_buffer: Handle<ShaderBuffer>,
    pub marker_material: Handle<MarkerMaterial>,
    pub marker_mesh: Entity,
}

#[derive(Component)]
pub struct ZoomBand {
    /// Visible while km-per-pixel is within [min, max).
    pub min: f32,
    pub max: f32,
}

/// Lines keep about the same width in pixels: each is built at a few widths, each shown
/// in its own band of zoom: (shown from, shown below, km per pixel it is built for).
pub const BANDS: [(f32, f32, f32); 4] = [
    (0.06, f32::MAX, 0.14),
    (0.02, 0.06, 0.04),
    (0.006, 0.02, 0.012),
    (0.0, 0.006, 0.003),
];

/// Cells outside the focus: dark, so the focus stands out.
const OUTSIDE: [f32; 4] = [0.03, 0.05, 0.08, 0.80];

/// The fill layer of one depth (1 districts … 5 micro-grids): shown when it holds the
/// focus's children.
#[derive(Component)]
pub struct FillDepth(pub usize);

/// Write an sRGB colour as the linear value the shader outputs.
pub fn write_color(bytes: &mut [u8], i: usize, c: [f32; 4]) {
    let l = Color::srgba(c[0], c[1], c[2], c[3]).to_linear();
    let c = [l.red, l.green, l.blue, c[3]];
    for (k, x) in c.iter().enumerate() {
        bytes[i * 16 + 4 * k..i * 16 + 4 * k + 4].copy_from_slice(&x.to_le_bytes());
    }
}

fn color_buffer(n: usize, c: [f32; 4]) -> ShaderBuffer {
    let mut bytes = vec![0u8; n.max(1) * 16];
    for i in 0..n {
        write_color(&mut bytes, i, c);
    }
    ShaderBuffer::new(&bytes, RenderAssetUsages::default())
}

fn fill_mesh(tris: layers::Triangles) -> Mesh {
    let uv: Vec<[f32; 2]> = tris.cell.iter().map(|&c| [c as f32, 0.0]).collect();
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, tris.positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uv)
    .with_inserted_indices(Indices::U32(tris.indices))
}

fn line_mesh(layer: &Layer, width: f32, z: f32) -> Mesh {
    let (pos, idx) = layers::outline(layer, width, z);
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, pos)
    .with_inserted_indices(Indices::U32(idx))
}

/// A static mesh of `capacity` quads, each vertex tagged (slot, corner).
pub fn marker_mesh(capacity: u32) -> Mesh {
    let n = capacity as usize;
    let mut uv = Vec::with_capacity(n * 4);
    let mut idx = Vec::with_capacity(n * 6);
    for s in 0..capacity {
        for k in 0..4 {
            uv.push([s as f32, k as f32]);
        }
        let b = s * 4;
        idx.extend([b, b + 1, b + 2, b, b + 2, b + 3]);
    }
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, vec![[0.0f32, 0.0, 0.0]; n * 4])
    .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uv)
    .with_inserted_indices(Indices::U32(idx))
}

/// The assets the map is made of.
#[derive(SystemParam)]
pub(super) struct MapAssets<'w> {
    meshes: ResMut<'w, Assets<Mesh>>,
    buffers: ResMut<'w, Assets<ShaderBuffer>>,
    cells: ResMut<'w, Assets<CellMaterial>>,
    markers: ResMut<'w, Assets<MarkerMaterial>>,
    colors: ResMut<'w, Assets<ColorMaterial>>,
}

pub(super) fn setup(
    mut commands: Commands,
    map: Res<MapLayers>,
    clock: Res<WallClock>,
    mut assets: MapAssets,
) {
    let MapAssets {
        meshes,
        buffers,
        cells,
        markers,
        colors,
    } = &mut assets;
    // The city's land, under everything.
    let land = buffers.add(color_buffer(
        map.outline.cells.len(),
        [0.06, 0.09, 0.13, 1.0],
    ));
    commands.spawn((
        Mesh2d(meshes.add(fill_mesh(layers::fill(&map.outline, 0.0)))),
        MeshMaterial2d(cells.add(CellMaterial { colors: land })),
        // Blended 2D meshes are sorted by their entity's z, not their vertices'.
        Transform::from_xyz(0.0, 0.0, 0.0),
    ));
    let mut fills = vec![];
    for d in 1..=MAX_DEPTH {
        let Some(layer) = map.layer(d) else { continue };
        // A layer of no cells (a city without micro-grids) keeps a one-colour buffer and
        // no mesh: empty GPU buffers and meshes are what the renderer cannot take.
        let colors = buffers.add(color_buffer(
            layer.cells.len().max(1),
            cell_color(Rating::Green),
        ));
        fills.push(colors.clone());
        if layer.cells.is_empty() {
            continue;
        }
        commands.spawn((
            Mesh2d(meshes.add(fill_mesh(layers::fill(layer, 0.0)))),
            MeshMaterial2d(cells.add(CellMaterial {
                colors: colors.clone(),
            })),
            Transform::from_xyz(0.0, 0.0, 1.0),
            FillDepth(d),
            if d == 1 {
                Visibility::Inherited
            } else {
                Visibility::Hidden
            },
        ));
    }
    // Outlines keep about the same width in pixels (`BANDS`).
    let outlines = [
        (
            &map.micro_grids,
            0.8,
            2.0,
            Color::srgba(0.5, 0.8, 0.9, 0.25),
            0.012,
        ),
        (
            &map.grids,
            0.8,
            2.1,
            Color::srgba(0.45, 0.75, 0.85, 0.35),
            0.05,
        ),
        (
            &map.villages,
            1.0,
            2.2,
            Color::srgba(0.5, 0.8, 0.95, 0.45),
            0.09,
        ),
        (
            &map.towns,
            1.4,
            2.3,
            Color::srgba(0.55, 0.85, 1.0, 0.7),
            f32::MAX,
        ),
        (
            &map.districts,
            2.4,
            2.4,
            Color::srgb(0.45, 0.85, 1.0),
            f32::MAX,
        ),
        (&map.outline, 3.0, 2.5, Color::srgb(0.3, 0.9, 1.0), f32::MAX),
    ];
    for (layer, px, z, c, shown_below) in outlines {
        if layer.cells.is_empty() {
            continue;
        }
        let material = colors.add(ColorMaterial::from(c));
        for (min, max, at) in BANDS {
            if min >= shown_below {
                continue;
            }
            commands.spawn((
                Mesh2d(meshes.add(line_mesh(layer, px * at, 0.0))),
                MeshMaterial2d(material.clone()),
                Transform::from_xyz(0.0, 0.0, z),
                ZoomBand {
                    min,
                    max: max.min(shown_below),
                },
            ));
        }
    }
    let slots = MarkerSlots::new(16_384, clock.now_ms, map.proj);
    let marker_buffer = buffers.add(ShaderBuffer::new(
        &slots.bytes,
        RenderAssetUsages::default(),
    ));
    let marker_material = markers.add(MarkerMaterial {
        params: Vec4::new(0.0, 4.0, -1.0, 0.0),
        markers: marker_buffer.clone(),
    });
    let marker_mesh = commands
        .spawn((
            Mesh2d(meshes.add(marker_mesh(slots.capacity))),
            MeshMaterial2d(marker_material.clone()),
            Transform::from_xyz(0.0, 0.0, 5.0),
            NoFrustumCulling,
        ))
        .id();
    commands.insert_resource(MapHandles {
        fills,
        coloured_for: None,
        marker_buffer,
        marker_material,
        marker_mesh,
    });
    commands.insert_resource(slots);
}

/// Write the colours of the cells of the layer at `depth` whose roll-up changed (all of
/// them when `full`, after a snapshot or a new focus) into its colour buffer's bytes: the
/// rating inside the focus, dark outside. Work in proportion to the regions changed.
/// Returns how many cells were written.
pub fn recolor(
    layer: &Layer,
    focus: &str,
    rolls: &mut RollUps,
    index: &RegionIndex,
    bytes: &mut [u8],
    full: bool,
) -> usize {
    let colour = |id: &str| {
        if within(id, focus) {
            let r = rolls.get(id);
            let mut c = cell_color(rating(&r, index.grids_in(id)));
            // An unacknowledged red warning flashes its cells (grid.wgsl: alpha >= 2).
            if r.alarm {
                c[3] += 2.0;
            }
            c
        } else {
            OUTSIDE
        }
    };
    let mut n = 0;
    if full || rolls.all_dirty {
        for (i, c) in layer.cells.iter().enumerate() {
            write_color(bytes, i, colour(&c.id));
        }
        n = layer.cells.len();
    } else {
        for id in &rolls.dirty {
            if let Some(&i) = layer.index.get(id) {
                write_color(bytes, i as usize, colour(id));
                n += 1;
            }
        }
    }
    rolls.dirty.clear();
    rolls.all_dirty = false;
    n
}

/// What the colouring reads of the map and the view.
#[derive(SystemParam)]
pub(super) struct MapRead<'w> {
    map: Res<'w, MapLayers>,
    focus: Res<'w, Focus>,
    index: Res<'w, RegionIndex>,
    view: Res<'w, MapView>,
}

pub(super) fn recolor_cells(
    at: MapRead,
    handles: Option<ResMut<MapHandles>>,
    mut rolls: ResMut<RollUps>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    mut fills: Query<(&FillDepth, &mut Visibility)>,
) {
    let MapRead {
        map,
        focus,
        index,
        view,
    } = at;
    let Some(mut h) = handles else { return };
    let shown = shown_depth(&focus.0, view.scale);
    let refocused = h
        .coloured_for
        .as_ref()
        .is_none_or(|(f, d)| f != &focus.0 || *d != shown);
    if refocused {
        for (d, mut v) in &mut fills {
            v.set_if_neq(if d.0 == shown {
                Visibility::Inherited
            } else {
                Visibility::Hidden
            });
        }
        h.coloured_for = Some((focus.0.clone(), shown));
    }
    if !refocused && rolls.dirty.is_empty() && !rolls.all_dirty {
        return;
    }
    let (Some(layer), Some(handle)) = (map.layer(shown), h.fills.get(shown - 1)) else {
        return;
    };
    if let Some(mut b) = buffers.get_mut(handle)
        && let Some(bytes) = b.data.as_mut()
    {
        recolor(layer, &focus.0, &mut rolls, &index, bytes, refocused);
    }
}

/// Markers stand for themselves only when zoomed in past the donuts.
pub(super) fn marker_visibility(
    view: Res<MapView>,
    focus: Res<Focus>,
    handles: Option<Res<MapHandles>>,
    mut q: Query<&mut Visibility, Without<FillDepth>>,
) {
    let Some(h) = handles else { return };
    if let Ok(mut v) = q.get_mut(h.marker_mesh) {
        v.set_if_neq(if donut_depth(view.scale, &focus.0).is_some() {
            Visibility::Hidden
        } else {
            Visibility::Inherited
        });
    }
}

/// The assets the markers write.
#[derive(SystemParam)]
pub(super) struct MarkerAssets<'w> {
    buffers: ResMut<'w, Assets<ShaderBuffer>>,
    materials: ResMut<'w, Assets<MarkerMaterial>>,
    meshes: ResMut<'w, Assets<Mesh>>,
}

/// What the markers read: whether a snapshot is coming in, the clock, the selection.
#[derive(SystemParam)]
pub(super) struct MarkerRead<'w> {
    mirror: Res<'w, WallMirror>,
    clock: Res<'w, WallClock>,
    selection: Res<'w, Selection>,
}

/// The markers placed this frame (`markers::place`, in the derive step) to the GPU: the
/// slots written, or all of them after a snapshot or a growth.
pub(super) fn update_markers(
    at: MarkerRead,
    handles: Option<Res<MapHandles>>,
    slots: Option<ResMut<MarkerSlots>>,
    mut assets: MarkerAssets,
    mut q: Query<&mut Mesh2d>,
) {
    let MarkerRead {
        mirror,
        clock,
        selection,
    } = at;
    let MarkerAssets {
        buffers,
        materials,
        meshes,
    } = &mut assets;
    let (Some(h), Some(mut slots)) = (handles, slots) else {
        return;
    };
    let placed = slots.take_pending();
    let rebuilt = placed == Placed::Whole;
    let touched = matches!(placed, Placed::Some | Placed::Whole);
    // While a snapshot comes in the GPU buffer waits for its last part.
    let waiting = mirror.0.loading && !rebuilt;
    let grown = !waiting && {
        let cap = slots.capacity;
        match buffers.get(&h.marker_buffer) {
            Some(b) => b.data.as_ref().map(|d| d.len()) != Some(cap as usize * 16),
            None => false,
        }
    };
    if grown {
        let new_mesh = meshes.add(marker_mesh(slots.capacity));
        if let Ok(mut m) = q.get_mut(h.marker_mesh) {
            m.0 = new_mesh;
        }
    }
    if !waiting
        && (touched || grown)
        && let Some(mut b) = buffers.get_mut(&h.marker_buffer)
    {
        if grown {
            *b = ShaderBuffer::new(&slots.bytes, RenderAssetUsages::default());
            slots.mark_clean();
        } else if let Some(d) = b.data.as_mut() {
            if rebuilt {
                slots.flush_all_into(d);
            } else {
                slots.flush_into(d);
            }
        }
    }
    // The pulse and the overdue colour count against the wall's clock (a replay's own).
    let now_s = (clock.now_ms - slots.base_ms) as f32 / 1000.0;
    let sel = selection
        .ticket
        .and_then(|id| slots.slot_of.get(&id))
        .map(|s| *s as f32)
        .unwrap_or(-1.0);
    if let Some(mut m) = materials.get_mut(&h.marker_material) {
        m.params = Vec4::new(now_s, 4.0, sel, 0.0);
    }
}

pub(super) fn zoom_bands(view: Res<MapView>, mut q: Query<(&ZoomBand, &mut Visibility)>) {
    for (band, mut vis) in &mut q {
        let want = if view.scale >= band.min && view.scale < band.max {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        vis.set_if_neq(want);
    }
}
