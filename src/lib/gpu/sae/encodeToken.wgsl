// SAE encode for a few tokens (decode time): a memory-bound matrix-vector product. Each thread owns one vec4<u32>
// column group of W_enc (4 f32 latents, or 8 f16 latents packed in pairs); x is staged in workgroup memory; the
// K dimension is split across workgroups (y) for parallelism, and partial sums go to `partial` for the finalize pass.
override WG: u32 = 64;
override F16: bool = false;
override K_TILE: u32 = 256;

struct Params {
  tokens: u32,
  dIn: u32,
  groups: u32,     // vec4<u32> column groups per W_enc row in this chunk
  colsPad: u32,    // groups * latents per group
  kPerSplit: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

var<workgroup> xs: array<f32, K_TILE>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lid = lid3.x;
  let g = wid.x * WG + lid;
  let split = wid.y;
  let t = wid.z;
  let k0 = split * p.kPerSplit;
  let k1 = min(k0 + p.kPerSplit, p.dIn);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  for (var kb = k0; kb < k1; kb += K_TILE) {
    let n = min(K_TILE, k1 - kb);
    for (var i = lid; i < n; i += WG) { xs[i] = x[t * p.dIn + kb + i]; }
    workgroupBarrier();
    if (g < p.groups) {
      for (var i = 0u; i < n; i++) {
        let wv = w[(kb + i) * p.groups + g];
        let xv = xs[i];
        if (F16) {
          acc0 += xv * vec4<f32>(unpack2x16float(wv.x), unpack2x16float(wv.y));
          acc1 += xv * vec4<f32>(unpack2x16float(wv.z), unpack2x16float(wv.w));
        } else {
          acc0 += xv * bitcast<vec4<f32>>(wv);
        }
      }
    }
    workgroupBarrier();
  }
  if (g < p.groups) {
    let lpt = select(4u, 8u, F16);
    let base = (split * p.tokens + t) * p.colsPad + g * lpt;
    for (var l = 0u; l < 4u; l++) { partial[base + l] = acc0[l]; }
    if (F16) {
      for (var l = 0u; l < 4u; l++) { partial[base + 4u + l] = acc1[l]; }
    }
  }
}
