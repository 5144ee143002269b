// Sums the split-K partials of encodeToken, adds the (b_dec-folded) encoder bias and applies the activation.
override WG: u32 = 64;
// 0 ReLU (standard, and TopK before its selection), 1 JumpReLU
override ACT: u32 = 0;

struct Params {
  tokens: u32,
  count: u32,     // real latents in this chunk
  colsPad: u32,
  splits: u32,
  start: u32,     // first latent of this chunk
  dSae: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> threshold: array<f32>;
@group(0) @binding(4) var<storage, read_write> acts: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let t = gid.y;
  if (col >= p.count) { return; }
  var pre = bias[p.start + col];
  for (var s = 0u; s < p.splits; s++) { pre += partial[(s * p.tokens + t) * p.colsPad + col]; }
  var a = max(pre, 0.0);
  if (ACT == 1u && !(pre > threshold[p.start + col])) { a = 0.0; }
  acts[t * p.dSae + p.start + col] = a;
}
