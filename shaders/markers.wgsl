// Ticket markers: one static mesh of quads, one quad per slot; each vertex carries only its
// slot (uv.x) and corner (uv.y). Where and how a marker is drawn comes from a storage
// buffer of one vec4 per slot (x, y, deadline in s, code), so a ticket change writes 16
// bytes and never rebuilds a mesh. Markers keep their size in pixels at any zoom; overdue
// ones turn red against `params.x` (now) and urgent ones pulse, all here in the shader.
//   code = status + 8 * priority + 32 * supervised; code < 0: empty slot.
//   params = (now in s, radius in px, selected slot or -1, unused)
#import bevy_sprite::mesh2d_functions as mesh_functions
#import bevy_sprite::mesh2d_view_bindings::{view, globals}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> params: vec4<f32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<storage, read> markers: array<vec4<f32>>;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) position: vec3<f32>,
    @location(2) uv: vec2<f32>,
};

struct Out {
    @builtin(position) position: vec4<f32>,
    @location(0) corner: vec2<f32>,
    @location(1) color: vec4<f32>,
    @location(2) pulse: f32,
};

fn status_color(status: u32) -> vec3<f32> {
    switch status {
        case 0u: { return vec3<f32>(0.93, 0.96, 1.0); }   // received: white, waits for dispatch
        case 1u, 2u: { return vec3<f32>(0.35, 0.69, 1.0); } // assigned / accepted: blue
        case 3u: { return vec3<f32>(0.27, 0.88, 0.69); }  // in progress: green
        case 4u: { return vec3<f32>(0.78, 0.64, 1.0); }   // returned: violet
        default: { return vec3<f32>(0.6, 0.6, 0.6); }
    }
}

@vertex
fn vertex(v: Vertex) -> Out {
    var out: Out;
    let slot = u32(v.uv.x + 0.5);
    let m = markers[slot];
    if m.w < 0.0 {
        out.position = vec4<f32>(4.0, 4.0, 0.0, 1.0);
        return out;
    }
    let code = u32(m.w + 0.5);
    let status = code % 8u;
    let priority = (code / 8u) % 4u;
    let k = u32(v.uv.y + 0.5);
    var corner = vec2<f32>(-1.0, -1.0);
    if k == 1u { corner = vec2<f32>(1.0, -1.0); }
    if k == 2u { corner = vec2<f32>(1.0, 1.0); }
    if k == 3u { corner = vec2<f32>(-1.0, 1.0); }
    let world_from_local = mesh_functions::get_world_from_local(v.instance_index);
    var clip = mesh_functions::mesh2d_position_local_to_clip(world_from_local, vec4<f32>(m.x, m.y, 0.0, 1.0));
    var r = params.y;
    var pulse = -1.0;
    if priority == 0u {
        pulse = 0.5 + 0.5 * sin(globals.time * 5.0);
        r = r * (1.8 + 0.9 * pulse);
    }
    if f32(slot) == params.z {
        r = r * 2.2;
    }
    clip.x += corner.x * r * 2.0 / view.viewport.z * clip.w;
    clip.y += corner.y * r * 2.0 / view.viewport.w * clip.w;
    out.position = clip;
    out.corner = corner;
    var c = status_color(status);
    if params.x > m.z {
        c = vec3<f32>(1.0, 0.23, 0.23); // overdue
    }
    out.color = vec4<f32>(c, 1.0);
    out.pulse = pulse;
    return out;
}

@fragment
fn fragment(in: Out) -> @location(0) vec4<f32> {
    let d = length(in.corner);
    if d > 1.0 {
        discard;
    }
    if in.pulse >= 0.0 {
        // Urgent: a solid core and a halo ring that breathes.
        if d < 0.42 {
            let rim = smoothstep(0.32, 0.42, d);
            return vec4<f32>(mix(in.color.rgb, vec3<f32>(0.05, 0.05, 0.08), rim * 0.7), 1.0);
        }
        let ring = smoothstep(0.6, 0.78, d) * (1.0 - smoothstep(0.88, 1.0, d));
        return vec4<f32>(in.color.rgb, ring * (0.3 + 0.7 * (1.0 - in.pulse)));
    }
    // A dark rim keeps markers legible on any cell colour.
    let rim = smoothstep(0.62, 0.8, d);
    let c = mix(in.color.rgb, vec3<f32>(0.02, 0.03, 0.05), rim * 0.85);
    return vec4<f32>(c, 1.0 - smoothstep(0.9, 1.0, d));
}
