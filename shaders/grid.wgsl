// Grid cells: one merged mesh per layer; each vertex carries its cell's index in uv.x and
// the colour comes from a storage buffer indexed by it, so a recolour writes only the
// changed cells' entries and never rebuilds a mesh.
// colour.a >= 2.0 marks a flashing cell (a new red warning): alpha = a - 2, pulsing.
#import bevy_sprite::mesh2d_vertex_output::VertexOutput
#import bevy_sprite::mesh2d_view_bindings::globals

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<storage, read> colors: array<vec4<f32>>;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let i = u32(in.uv.x + 0.5);
    var c = colors[i];
    if c.a >= 2.0 {
        let pulse = 0.5 + 0.5 * sin(globals.time * 6.0);
        c = vec4<f32>(mix(c.rgb, vec3<f32>(1.0, 0.95, 0.9), pulse * 0.6), c.a - 2.0);
    }
    return c;
}
