// SAE encode for a whole prompt: tiled matrix-matrix product X[T, dIn] · W_enc[dIn, chunk] with the bias and the
// activation fused into the store. A 16×16 workgroup computes a 64-token × 16-group tile; each thread 4 tokens ×
// one vec4<u32> column group (4 f32 or 8 packed f16 latents). K advances in tiles of 16 staged in workgroup memory.
override F16: bool = false;
// 0 ReLU, 1 JumpReLU
override ACT: u32 = 0;

const TM: u32 = 64u;
const TG: u32 = 16u;
const TK: u32 = 16u;

struct Params {
  tokens: u32,
  dIn: u32,
  groups: u32,
  count: u32,
  start: u32,
  dSae: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> threshold: array<f32>;
@group(0) @binding(5) var<storage, read_write> acts: array<f32>;

var<workgroup> xs: array<array<f32, TK>, TM>;
var<workgroup> ws: array<array<vec4<u32>, TG>, TK>;

fn activate(pre: f32, latent: u32) -> f32 {
  var a = max(pre, 0.0);
  if (ACT == 1u && !(pre > threshold[latent])) { a = 0.0; }
  return a;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let gBase = wid.x * TG;
  let tBase = wid.y * TM;
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  var b0 = vec4<f32>(0.0);
  var b1 = vec4<f32>(0.0);
  var b2 = vec4<f32>(0.0);
  var b3 = vec4<f32>(0.0);
  for (var kb = 0u; kb < p.dIn; kb += TK) {
    for (var e = li; e < TM * TK; e += 256u) {
      let r = e / TK;
      let c = e % TK;
      let t = tBase + r;
      let k = kb + c;
      var v = 0.0;
      if (t < p.tokens && k < p.dIn) { v = x[t * p.dIn + k]; }
      xs[r][c] = v;
    }
    {
      let r = li / TG;
      let c = li % TG;
      let k = kb + r;
      let g = gBase + c;
      var v = vec4<u32>(0u);
      if (k < p.dIn && g < p.groups) { v = w[k * p.groups + g]; }
      ws[r][c] = v;
    }
    workgroupBarrier();
    // Four tokens per thread, unrolled into named accumulators so they stay in registers.
    let row = lid.y * 4u;
    for (var kk = 0u; kk < TK; kk++) {
      let wv = ws[kk][lid.x];
      var w0: vec4<f32>;
      var w1 = vec4<f32>(0.0);
      if (F16) {
        w0 = vec4<f32>(unpack2x16float(wv.x), unpack2x16float(wv.y));
        w1 = vec4<f32>(unpack2x16float(wv.z), unpack2x16float(wv.w));
      } else {
        w0 = bitcast<vec4<f32>>(wv);
      }
      let x0 = xs[row][kk];
      let x1 = xs[row + 1u][kk];
      let x2 = xs[row + 2u][kk];
      let x3 = xs[row + 3u][kk];
      a0 += x0 * w0;
      a1 += x1 * w0;
      a2 += x2 * w0;
      a3 += x3 * w0;
      if (F16) {
        b0 += x0 * w1;
        b1 += x1 * w1;
        b2 += x2 * w1;
        b3 += x3 * w1;
      }
    }
    workgroupBarrier();
  }
  var acc0 = array<vec4<f32>, 4>(a0, a1, a2, a3);
  var acc1 = array<vec4<f32>, 4>(b0, b1, b2, b3);
  let lpt = select(4u, 8u, F16);
  let g = gBase + lid.x;
  for (var r = 0u; r < 4u; r++) {
    let t = tBase + lid.y * 4u + r;
    if (t >= p.tokens) { continue; }
    for (var l = 0u; l < lpt; l++) {
      let col = g * lpt + l;
      if (col >= p.count) { continue; }
      var v: f32;
      if (l < 4u) { v = acc0[r][l]; } else { v = acc1[r][l - 4u]; }
      let latent = p.start + col;
      acts[t * p.dSae + latent] = activate(v + bias[latent], latent);
    }
  }
}
