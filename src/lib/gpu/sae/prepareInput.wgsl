// Gathers residual rows from a (possibly ORT-owned) buffer and applies the SAE's input preprocessing:
// optional mean centring, then none / constant_norm_rescale / layer_norm / a constant scale. One workgroup per token.
override WG: u32 = 64;
override CENTER: bool = false;
// 0 none, 1 constant_norm_rescale, 2 layer_norm, 3 constant scale (folded expected_average_only_in)
override NORM: u32 = 0;

struct Params {
  tokens: u32,
  d: u32,
  srcOffset: u32,     // in floats
  srcRowStride: u32,  // floats between batch rows
  tokensPerRow: u32,  // positions gathered from each row
  inputScale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> raw: array<f32>;
@group(0) @binding(3) var<storage, read_write> xn: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn reduceSum(v: f32, lid: u32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lid = lid3.x;
  let t = wid.x;
  let r = t / p.tokensPerRow;
  let pos = t % p.tokensPerRow;
  let srcBase = p.srcOffset + r * p.srcRowStride + pos * p.d;
  let base = t * p.d;
  var s = 0.0;
  for (var i = lid; i < p.d; i += WG) {
    let v = src[srcBase + i];
    raw[base + i] = v;
    s += v;
  }
  var shift = 0.0;
  if (CENTER) { shift = reduceSum(s, lid) / f32(p.d); }
  if (NORM == 0u || NORM == 3u) {
    let scale = select(1.0, p.inputScale, NORM == 3u);
    for (var i = lid; i < p.d; i += WG) { xn[base + i] = (raw[base + i] - shift) * scale; }
    return;
  }
  var mu = 0.0;
  if (NORM == 2u) {
    var m = 0.0;
    for (var i = lid; i < p.d; i += WG) { m += raw[base + i] - shift; }
    mu = reduceSum(m, lid) / f32(p.d);
  }
  var q = 0.0;
  for (var i = lid; i < p.d; i += WG) {
    let v = raw[base + i] - shift - mu;
    q += v * v;
  }
  let sumSq = reduceSum(q, lid);
  var scale = 1.0;
  if (NORM == 1u) {
    scale = sqrt(f32(p.d)) / sqrt(sumSq);
  } else {
    // torch.std (unbiased), as SAELens's layer_norm uses it.
    scale = 1.0 / (sqrt(sumSq / f32(p.d - 1u)) + 1e-5);
  }
  for (var i = lid; i < p.d; i += WG) { xn[base + i] = (raw[base + i] - shift - mu) * scale; }
}
