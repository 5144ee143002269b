// After a two-stage top-k (topk.wgsl with segments > 1): zero every element of a row that is not among its top k,
// in place — the TopK SAE's masked activation. The row's k-th pair (value, index), the last of its sorted output, is
// the threshold: an element stays when it is ordered at or before it (larger value first, then lower index), which
// is exactly the chosen set.
override WG: u32 = 256u;

struct Params {
  rows: u32,
  width: u32,
  k: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> values: array<f32>;
@group(0) @binding(2) var<storage, read> topIndices: array<i32>;
@group(0) @binding(3) var<storage, read> topValues: array<f32>;

fn orderKey(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let row = gid.y;
  if (j >= p.width || row >= p.rows) { return; }
  let last = row * p.k + p.k - 1u;
  let tk = orderKey(topValues[last]);
  let tj = u32(topIndices[last]);
  let vk = orderKey(values[row * p.width + j]);
  if (!(vk > tk || (vk == tk && j <= tj))) { values[row * p.width + j] = 0.0; }
}
