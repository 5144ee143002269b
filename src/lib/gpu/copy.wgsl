// A plain buffer copy, 16 bytes per thread: the memory-bandwidth yardstick the SAE encode is benchmarked against.
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < arrayLength(&src)) { dst[i] = src[i]; }
}
