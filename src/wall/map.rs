//! The grid map on the GPU: merged fill meshes per layer whose cell colours come from a
//! storage buffer (shaders/grid.wgsl), outline meshes, and the ticket markers
//! (shaders/markers.wgsl). Pan with the left mouse button, zoom with the wheel.

use std::sync::OnceLock;

use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::NoFrustumCulling;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use bevy::render::render_resource::AsBindGroup;
use bevy::render::storage::ShaderBuffer;
use bevy::shader::ShaderRef;
use bevy::sprite_render::{AlphaMode2d, Material2d, Material2dPlugin};
use bevy::window::PrimaryWindow;
use bevy_egui::EguiContexts;

use super::WallSet;
use super::drill::{DonutHits, Focus, child_at, donut_depth, shown_depth, within};
use super::layers::{self, Layer, Projection as GeoProjection};
use super::link::{MirrorChanged, WallMirror};
use super::markers::MarkerSlots;
use super::rollup::{Rating, RegionIndex, RollUps, depth, parent, rating};
use super::ui::Selection;
use crate::feed::Change;
use crate::protocol::now_ms;

static GRID_SHADER: OnceLock<Handle<Shader>> = OnceLock::new();
static MARKER_SHADER: OnceLock<Handle<Shader>> = OnceLock::new();

/// The loaded map layers and their projection.
#[derive(Resource)]
pub struct MapLayers {
    pub proj: GeoProjection,
    pub outline: Layer,
    pub districts: Layer,
    pub towns: Layer,
    pub villages: Layer,
    pub grids: Layer,
    pub micro_grids: Layer,
    /// For each grid, its micro-grids' indices.
    pub micro_of: Vec<Vec<u32>>,
    pub schematic: bool,
}

impl MapLayers {
    /// The layer at a depth: 1 districts, 2 towns, 3 villages, 4 grids, 5 micro-grids.
    pub fn layer(&self, depth: usize) -> Option<&Layer> {
        match depth {
            1 => Some(&self.districts),
            2 => Some(&self.towns),
            3 => Some(&self.villages),
            4 => Some(&self.grids),
            5 => Some(&self.micro_grids),
            _ => None,
        }
    }

    /// What the roll-ups need of the map: micro-grid shapes by grid, grid counts by region.
    pub fn region_index(&self) -> RegionIndex {
        let mut ix = RegionIndex {
            proj: Some(self.proj),
            ..Default::default()
        };
        for m in &self.micro_grids.cells {
            ix.micro
                .entry(m.parent.clone())
                .or_default()
                .push(super::rollup::MicroCell {
                    id: m.id.clone(),
                    center: m.center,
                    rings: m.polygons.iter().map(|p| p[0].clone()).collect(),
                });
        }
        for g in &self.grids.cells {
            for r in super::rollup::regions_of(&g.id) {
                *ix.grids_in.entry(r).or_default() += 1;
            }
        }
        ix
    }

    pub fn load(cfg: &super::config::MapConfig) -> anyhow::Result<MapLayers> {
        // The projection centre comes from the outline's first feature.
        let probe = layers::load(&cfg.outline, &GeoProjection::new(0.0, 0.0))?;
        let (mut lo, mut hi) = (Vec2::splat(f32::MAX), Vec2::splat(f32::MIN));
        for p in probe
            .cells
            .iter()
            .flat_map(|c| c.polygons.iter().flat_map(|p| p[0].iter()))
        {
            lo = lo.min(*p);
            hi = hi.max(*p);
        }
        // With lon0 = lat0 = 0 the probe's x is lon * 111.32 and y is lat * 110.57.
        let proj = GeoProjection::new(
            ((lo.x + hi.x) / 2.0 / 111.32) as f64,
            ((lo.y + hi.y) / 2.0 / 110.57) as f64,
        );
        let load = |p: &std::path::Path| layers::load(p, &proj);
        let grids = load(&cfg.grids)?;
        let micro_grids = load(&cfg.micro_grids)?;
        let mut micro_of = vec![vec![]; grids.cells.len()];
        for (i, m) in micro_grids.cells.iter().enumerate() {
            if let Some(&g) = grids.index.get(&m.parent) {
                micro_of[g as usize].push(i as u32);
            }
        }
        Ok(MapLayers {
            outline: load(&cfg.outline)?,
            districts: load(&cfg.districts)?,
            towns: load(&cfg.towns)?,
            villages: load(&cfg.villages)?,
            grids,
            micro_grids,
            micro_of,
            proj,
            schematic: cfg.schematic,
        })
    }
}

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
    pub slots: MarkerSlots,
}

/// Where the camera is going (a fly-to), in world km and km per pixel.
#[derive(Resource, Default)]
pub struct CameraGoal(pub Option<(Vec2, f32)>);

/// The camera's view this frame, for labels and hit tests drawn by egui.
#[derive(Resource, Default, Clone, Copy)]
pub struct MapView {
    pub center: Vec2,
    /// km per logical pixel.
    pub scale: f32,
    /// The map's area on screen (logical pixels): top-left and size.
    pub origin: Vec2,
    pub size: Vec2,
}

impl MapView {
    pub fn to_screen(&self, w: Vec2) -> Vec2 {
        let d = (w - self.center) / self.scale;
        self.origin + Vec2::new(self.size.x / 2.0 + d.x, self.size.y / 2.0 - d.y)
    }
    pub fn to_world(&self, s: Vec2) -> Vec2 {
        let s = s - self.origin;
        let d = Vec2::new(s.x - self.size.x / 2.0, self.size.y / 2.0 - s.y);
        self.center + d * self.scale
    }
}

/// The screen area the panels leave to the map (logical pixels: min, max), set by the UI.
#[derive(Resource, Default, Clone, Copy)]
pub struct MapRect(pub Option<(Vec2, Vec2)>);

/// Fit the whole city into the map area once it is known.
#[derive(Resource, Default)]
pub struct FitPending(pub bool);

#[derive(Component)]
pub struct ZoomBand {
    /// Visible while km-per-pixel is within [min, max).
    pub min: f32,
    pub max: f32,
}

pub(super) fn plugin(app: &mut App) {
    {
        let mut shaders = app.world_mut().resource_mut::<Assets<Shader>>();
        let grid = shaders.add(Shader::from_wgsl(
            include_str!("../../shaders/grid.wgsl"),
            "shaders/grid.wgsl",
        ));
        let marker = shaders.add(Shader::from_wgsl(
            include_str!("../../shaders/markers.wgsl"),
            "shaders/markers.wgsl",
        ));
        let _ = GRID_SHADER.set(grid);
        let _ = MARKER_SHADER.set(marker);
    }
    app.add_plugins((
        Material2dPlugin::<CellMaterial>::default(),
        Material2dPlugin::<MarkerMaterial>::default(),
    ))
    .init_resource::<CameraGoal>()
    .init_resource::<MapView>()
    .init_resource::<MapRect>()
    .insert_resource(FitPending(true))
    .add_systems(Startup, setup)
    .add_systems(
        Update,
        (
            (
                recolor_cells,
                update_markers,
                marker_visibility,
                fly_to_focus,
            )
                .in_set(WallSet::Draw),
            (fit_viewport, camera_input, fly_camera, zoom_bands)
                .chain()
                .in_set(WallSet::Draw),
        ),
    );
}

/// The four-colour risk scale (红橙黄绿), dark enough for markers to stand out on it.
pub fn cell_color(r: Rating) -> [f32; 4] {
    match r {
        Rating::Red => [0.50, 0.10, 0.12, 0.95],
        Rating::Orange => [0.50, 0.27, 0.08, 0.93],
        Rating::Yellow => [0.40, 0.38, 0.10, 0.92],
        Rating::Green => [0.05, 0.16, 0.13, 0.92],
    }
}

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

#[allow(clippy::too_many_arguments)]
fn setup(
    mut commands: Commands,
    map: Res<MapLayers>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    mut cells: ResMut<Assets<CellMaterial>>,
    mut markers: ResMut<Assets<MarkerMaterial>>,
    mut colors: ResMut<Assets<ColorMaterial>>,
    mut goal: ResMut<CameraGoal>,
) {
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
    for d in 1..=super::drill::MAX_DEPTH {
        let Some(layer) = map.layer(d) else { continue };
        let colors = buffers.add(color_buffer(layer.cells.len(), cell_color(Rating::Green)));
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
        fills.push(colors);
    }
    // Outlines keep about the same width in pixels: each layer is built at a few widths,
    // each shown in its own band of zoom (km per pixel).
    const BANDS: [(f32, f32, f32); 4] = [
        (0.06, f32::MAX, 0.14),
        (0.02, 0.06, 0.04),
        (0.006, 0.02, 0.012),
        (0.0, 0.006, 0.003),
    ];
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
    let slots = MarkerSlots::new(16_384, now_ms());
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
        slots,
    });
    let _ = &mut goal;
}

/// Render the map only in the area the panels leave, and fit the city into it once.
fn fit_viewport(
    rect: Res<MapRect>,
    map: Res<MapLayers>,
    mut fit: ResMut<FitPending>,
    focus: Res<Focus>,
    mut goal: ResMut<CameraGoal>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut cam: Single<&mut Camera, With<super::MapCamera>>,
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
    if cam
        .viewport
        .as_ref()
        .map(|v| (v.physical_position, v.physical_size))
        != Some((pos, size))
    {
        cam.viewport = Some(vp);
    }
    if fit.0
        && let Some((lo, hi)) = super::drill::bounds(&map, &focus.0)
    {
        goal.0 = Some(fit_goal(lo, hi, max - min));
        fit.0 = false;
    }
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

#[allow(clippy::too_many_arguments)]
fn recolor_cells(
    map: Res<MapLayers>,
    focus: Res<Focus>,
    index: Res<RegionIndex>,
    handles: Option<ResMut<MapHandles>>,
    mut rolls: ResMut<RollUps>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    view: Res<MapView>,
    mut fills: Query<(&FillDepth, &mut Visibility)>,
) {
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
fn marker_visibility(
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

/// Where the camera goes to show the world box (lo, hi) in a map area of `area` pixels,
/// with a band at the top left free for the breadcrumb.
fn fit_goal(lo: Vec2, hi: Vec2, area: Vec2) -> (Vec2, f32) {
    // The breadcrumb sits from 96 px down, below the red banner's band.
    const TOP: f32 = 210.0;
    let area = Vec2::new(area.x, (area.y - TOP).max(area.y * 0.5)).max(Vec2::ONE);
    let scale = (((hi.x - lo.x) / area.x).max((hi.y - lo.y) / area.y) * 1.06).max(0.0008);
    // The camera sits higher by half the band, so the box lands below it.
    ((lo + hi) / 2.0 + Vec2::new(0.0, TOP / 2.0 * scale), scale)
}

/// Fly to the focus when it changes.
fn fly_to_focus(
    focus: Res<Focus>,
    map: Res<MapLayers>,
    view: Res<MapView>,
    mut goal: ResMut<CameraGoal>,
) {
    if !focus.is_changed() || focus.is_added() {
        return;
    }
    if let Some((lo, hi)) = super::drill::bounds(&map, &focus.0) {
        goal.0 = Some(fit_goal(lo, hi, view.size));
    }
}

/// Move markers for the tickets that changed; grow the slots when they run out.
#[allow(clippy::too_many_arguments)]
pub fn update_markers(
    map: Res<MapLayers>,
    mirror: Res<WallMirror>,
    handles: Option<ResMut<MapHandles>>,
    selection: Res<Selection>,
    mut changes: MessageReader<MirrorChanged>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
    mut materials: ResMut<Assets<MarkerMaterial>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut q: Query<&mut Mesh2d>,
) {
    let Some(mut h) = handles else { return };
    let mut touched = false;
    // The slots were rebuilt (a snapshot, or grown): the whole buffer is new.
    let mut rebuilt = false;
    let mut full = false;
    for MirrorChanged(change) in changes.read() {
        match change {
            Change::Snapshot { last: true } => {
                let need = (mirror.0.tickets.len() as u32 * 5 / 4)
                    .max(16_384)
                    .next_power_of_two();
                let mut slots = MarkerSlots::new(need.max(h.slots.capacity), h.slots.base_ms);
                for t in mirror.0.tickets.values() {
                    full |= !slots.set(t, &map.proj);
                }
                h.slots = slots;
                touched = true;
                rebuilt = true;
            }
            Change::Ticket { id, .. } => {
                match mirror.0.tickets.get(id) {
                    Some(t) => full |= !h.slots.set(t, &map.proj),
                    None => h.slots.remove(*id),
                }
                touched = true;
            }
            _ => {}
        }
    }
    if full {
        // Out of slots: double them and place every live ticket again.
        let mut slots = MarkerSlots::new(h.slots.capacity * 2, h.slots.base_ms);
        for t in mirror.0.tickets.values() {
            slots.set(t, &map.proj);
        }
        h.slots = slots;
        rebuilt = true;
    }
    let grown = {
        let cap = h.slots.capacity;
        match buffers.get(&h.marker_buffer) {
            Some(b) => b.data.as_ref().map(|d| d.len()) != Some(cap as usize * 16),
            None => false,
        }
    };
    if grown {
        let new_mesh = meshes.add(marker_mesh(h.slots.capacity));
        if let Ok(mut m) = q.get_mut(h.marker_mesh) {
            m.0 = new_mesh;
        }
    }
    if (touched || grown)
        && let Some(mut b) = buffers.get_mut(&h.marker_buffer)
    {
        if grown {
            *b = ShaderBuffer::new(&h.slots.bytes, RenderAssetUsages::default());
            h.slots.mark_clean();
        } else if let Some(d) = b.data.as_mut() {
            if rebuilt {
                h.slots.flush_all_into(d);
            } else {
                h.slots.flush_into(d);
            }
        }
    }
    let now_s = (now_ms() - h.slots.base_ms) as f32 / 1000.0;
    let sel = selection
        .ticket
        .and_then(|id| h.slots.slot_of.get(&id))
        .map(|s| *s as f32)
        .unwrap_or(-1.0);
    if let Some(mut m) = materials.get_mut(&h.marker_material) {
        m.params = Vec4::new(now_s, 4.0, sel, 0.0);
    }
}

/// Where the left button went down, to tell a click from a drag.
#[derive(Default)]
struct Press(Option<Vec2>);

#[allow(clippy::too_many_arguments)]
fn camera_input(
    mut press: Local<Press>,
    mirror: Res<WallMirror>,
    map: Res<MapLayers>,
    mut actions: MessageWriter<super::dispatch::UiAction>,
    mut egui: EguiContexts,
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut cam: Single<(&mut Transform, &mut Projection), With<super::MapCamera>>,
    mut goal: ResMut<CameraGoal>,
    view: Res<MapView>,
    (focus, donuts, keys): (Res<Focus>, Res<DonutHits>, Res<ButtonInput<KeyCode>>),
) {
    use super::dispatch::UiAction;
    let up_one = || UiAction::Focus(parent(&focus.0).unwrap_or("").to_string());
    if keys.just_pressed(KeyCode::Escape) && depth(&focus.0) > 0 {
        actions.write(up_one());
    }
    if let Ok(ctx) = egui.ctx_mut()
        && (ctx.egui_wants_pointer_input() || ctx.is_pointer_over_egui())
    {
        return;
    }
    let (ref mut tf, ref mut proj) = *cam;
    let Projection::Orthographic(o) = proj.as_mut() else {
        return;
    };
    if buttons.just_pressed(MouseButton::Left) {
        press.0 = window.cursor_position();
    }
    if buttons.just_released(MouseButton::Left)
        && let (Some(down), Some(up)) = (press.0.take(), window.cursor_position())
        && down.distance(up) < 4.0
    {
        // A click, not a drag: the nearest open ticket within 12 px when markers show;
        // else a donut; else one level down into the region under the cursor.
        let at = view.to_world(up);
        let reach = 12.0 * o.scale;
        let markers = donut_depth(view.scale, &focus.0).is_none();
        let hit = mirror
            .0
            .tickets
            .values()
            .filter(|t| markers && t.status.is_open() && within(&t.grid, &focus.0))
            .map(|t| (t.id, map.proj.to_world(t.lon, t.lat).distance(at)))
            .filter(|(_, d)| *d < reach)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((id, _)) = hit {
            actions.write(UiAction::Select(id));
        } else if let Some((_, _, r)) = donuts.0.iter().find(|(c, r, _)| c.distance(up) <= *r) {
            actions.write(UiAction::Focus(r.clone()));
        } else if let Some(child) = child_at(&map, &focus.0, at) {
            actions.write(UiAction::Focus(child));
        }
    }
    if buttons.just_released(MouseButton::Right) && depth(&focus.0) > 0 {
        actions.write(up_one());
    }
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

fn fly_camera(
    time: Res<Time>,
    mut goal: ResMut<CameraGoal>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut cam: Single<(&mut Transform, &mut Projection), With<super::MapCamera>>,
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

fn zoom_bands(view: Res<MapView>, mut q: Query<(&ZoomBand, &mut Visibility)>) {
    for (band, mut vis) in &mut q {
        let want = if view.scale >= band.min && view.scale < band.max {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        vis.set_if_neq(want);
    }
}
