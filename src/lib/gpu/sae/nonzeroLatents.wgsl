// Per token row, the latents whose activation is non-zero, in ascending index order: list[t·dSae + n] for
// n < counts[t] (the rest of the row's list is left as it was). decode.wgsl then reads only these latents' decoder
// rows, instead of every invocation reading all d_sae activations of its token. One workgroup per row: each
// invocation counts a contiguous block of the row, a Hillis–Steele scan in workgroup memory (⌈log2 WG⌉ rounds) gives
// each block its first slot, and each invocation writes its block's ids. A NaN counts as non-zero, −0 as zero,
// as in the reference (`saeReference.nonzeroLatents`).
override WG: u32 = 256;

struct Params {
  tokens: u32,
  dSae: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> acts: array<f32>;
@group(0) @binding(2) var<storage, read_write> list: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<u32>;

var<workgroup> sums: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.x;
  let row = t * p.dSae;
  let span = (p.dSae + WG - 1u) / WG;
  let begin = min(lid * span, p.dSae);
  let end = min(begin + span, p.dSae);
  var n = 0u;
  for (var j = begin; j < end; j++) {
    if (acts[row + j] != 0.0) { n++; }
  }
  var inclusive = n;
  sums[lid] = inclusive;
  workgroupBarrier();
  for (var offset = 1u; offset < WG; offset *= 2u) {
    if (lid >= offset) { inclusive += sums[lid - offset]; }
    workgroupBarrier();
    sums[lid] = inclusive;
    workgroupBarrier();
  }
  var slot = row + inclusive - n;
  for (var j = begin; j < end; j++) {
    if (acts[row + j] != 0.0) {
      list[slot] = j;
      slot++;
    }
  }
  if (lid == WG - 1u) { counts[t] = inclusive; }
}
