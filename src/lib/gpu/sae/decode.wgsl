// Reconstruction x̂ = a·W_dec + b_dec for one W_dec chunk (latents [start, start + count)); the first chunk starts
// from b_dec, later ones accumulate. Only the token's non-zero latents are visited (their ids, ascending, from
// nonzeroLatents.wgsl), so the work per output element is L0, not d_sae; the sum runs in ascending latent order,
// as the reference's does.
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
@group(0) @binding(2) var<storage, read> list: array<u32>;
@group(0) @binding(3) var<storage, read> counts: array<u32>;
@group(0) @binding(4) var<storage, read> wDec: array<f32>;
@group(0) @binding(5) var<storage, read> bDec: array<f32>;
@group(0) @binding(6) var<storage, read_write> xHat: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let t = gid.y;
  if (i >= p.dIn) { return; }
  var acc = 0.0;
  if (p.accumulate != 0u) { acc = xHat[t * p.dIn + i]; } else { acc = bDec[i]; }
  let row = t * p.dSae;
  let n = counts[t];
  let end = p.start + p.count;
  for (var e = 0u; e < n; e++) {
    let j = list[row + e];
    if (j >= end) { break; }
    if (j >= p.start) { acc += acts[row + j] * wDec[(j - p.start) * p.dIn + i]; }
  }
  xHat[t * p.dIn + i] = acc;
}
