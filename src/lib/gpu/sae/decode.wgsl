// Reconstruction x̂ = a·W_dec + b_dec for one W_dec chunk (latents [start, start + count)); the first chunk starts
// from b_dec, later ones accumulate. Activations are mostly zero, so zero latents skip their decoder row.
override WG: u32 = 64;

struct Params {
  tokens: u32,
  dIn: u32,
  dSae: u32,
  start: u32,
  count: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> acts: array<f32>;
@group(0) @binding(2) var<storage, read> wDec: array<f32>;
@group(0) @binding(3) var<storage, read> bDec: array<f32>;
@group(0) @binding(4) var<storage, read_write> xHat: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let t = gid.y;
  if (i >= p.dIn) { return; }
  var acc = 0.0;
  if (p.accumulate != 0u) { acc = xHat[t * p.dIn + i]; } else { acc = bDec[i]; }
  let row = t * p.dSae + p.start;
  for (var j = 0u; j < p.count; j++) {
    let a = acts[row + j];
    if (a != 0.0) { acc += a * wDec[j * p.dIn + i]; }
  }
  xHat[t * p.dIn + i] = acc;
}
