// Relative reconstruction error |x − x̂| / |x| per token, one workgroup per token.
override WG: u32 = 64;

struct Params {
  tokens: u32,
  dIn: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> xHat: array<f32>;
@group(0) @binding(3) var<storage, read_write> err: array<f32>;

var<workgroup> num: array<f32, WG>;
var<workgroup> den: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.x;
  var a = 0.0;
  var b = 0.0;
  for (var i = lid; i < p.dIn; i += WG) {
    let v = x[t * p.dIn + i];
    let d = v - xHat[t * p.dIn + i];
    a += d * d;
    b += v * v;
  }
  num[lid] = a;
  den[lid] = b;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      num[lid] += num[lid + s];
      den[lid] += den[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) { err[t] = select(0.0, sqrt(num[0] / den[0]), den[0] > 0.0); }
}
