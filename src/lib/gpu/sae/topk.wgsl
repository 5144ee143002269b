// Per-row top-k on the GPU: a workgroup finds the k-th largest of its elements by radix select on the composite key
// (value, lower index first) with workgroup atomics — 4 byte-passes on the value, then 4 on the index among
// elements tied with the threshold — so exactly k elements are chosen, deterministically. The chosen ones are
// ranked (k² comparisons, cheap for the k a UI shows) and written sorted.
//
// One workgroup per row (segments = 1), or — when a few rows would leave a GPU idle — `segments` workgroups per row,
// each selecting the top k of its slice of `segWidth` elements (stage 1), followed by a second dispatch with
// `indirect` = 1 that selects the top k of the rows' segments · k candidates (stage 2), reading each candidate's
// index in the row from `inIndices`. The global top k is inside the union of the slices' top k, and ties break on the
// row index in both stages, so the two-stage result equals the one-workgroup result exactly. A slice with fewer
// than k elements pads its output with (−FLT_MAX, index 0xffffffff), ordered after every other value.
// With MASK (one workgroup per row only), unchosen entries are zeroed in place (TopK SAEs: the dense activation
// becomes the masked one the decoder needs); the two-stage path masks afterwards with `maskOutsideTopK` below.
//
// After each byte-pass's histogram, the bin where the count from bin 255 downward reaches `remaining` is found by
// `selectBin`, which this file does not define: the module is one of topkScanSubgroups.wgsl, topkScanShared.wgsl or
// topkScanSerial.wgsl followed by this file (TopKPass in passes.ts picks by the device's `subgroups` feature; WGSL
// has no preprocessor, and a module that says `enable subgroups;` does not compile on a device without it).
// Each part provides `scanInit(lid)`, called once, and `selectBin(lid, rem) -> BinChoice`, called in uniform control
// flow by every invocation, for which exactly one invocation returns `found`.
override MASK: bool = false;
// Threads per workgroup; the 256-bin histogram is cleared cooperatively, so any size works.
override WG: u32 = 256u;

struct Params {
  rows: u32,
  width: u32,     // elements per row of `values` (stage 2: segments · k candidates)
  k: u32,
  segWidth: u32,  // elements per workgroup's slice (= width with one workgroup per row)
  segments: u32,  // workgroups per row
  indirect: u32,  // 1: element j's index in the row is inIndices[row · width + j]
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> outIndices: array<i32>;
@group(0) @binding(3) var<storage, read_write> outValues: array<f32>;
@group(0) @binding(4) var<storage, read_write> chosen: array<u32>;
@group(0) @binding(5) var<storage, read> inIndices: array<u32>;

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> prefix: u32;
var<workgroup> mask: u32;
var<workgroup> remaining: u32;
var<workgroup> valueThreshold: u32;
var<workgroup> written: atomic<u32>;
// Set when every element tied with the value threshold is taken: the index passes can be skipped.
var<workgroup> allTiesTaken: u32;

/** The bin d with suffix(d + 1) < rem ≤ suffix(d), where suffix(d) counts bins d..255; `above` is suffix(d + 1). */
struct BinChoice {
  found: bool,
  bin: u32,
  above: u32,
}

// The parallel selections give the invocation at scan position `pos` (a permutation of 0..WG−1) a block of BINS_PER
// bins counted from bin 255 downward, so that a prefix sum over scan positions is a suffix sum over bins.
const BINS: u32 = 256u;
override BINS_PER: u32 = (BINS + WG - 1u) / WG;

/** Histogram count of the bins in `pos`'s block. */
fn blockCount(pos: u32) -> u32 {
  var total = 0u;
  for (var b = pos * BINS_PER; b < min(BINS, (pos + 1u) * BINS_PER); b++) { total += atomicLoad(&hist[BINS - 1u - b]); }
  return total;
}

/** The bin of `pos`'s block where the count reaches `rem`, given `above`, the count of the bins above the block. */
fn chooseInBlock(pos: u32, above: u32, rem: u32) -> BinChoice {
  var choice = BinChoice(false, 0u, 0u);
  var cum = above;
  for (var b = pos * BINS_PER; b < min(BINS, (pos + 1u) * BINS_PER); b++) {
    let d = BINS - 1u - b;
    let c = atomicLoad(&hist[d]);
    if (cum < rem && cum + c >= rem) { choice = BinChoice(true, d, cum); }
    cum += c;
  }
  return choice;
}

/** Order-preserving map of f32 to u32 (larger float → larger key). */
fn orderKey(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn indexKey(j: u32) -> u32 { return ~j; }

/** Index in its row of the element at `base + j` (`segStart + j`, or the candidate's recorded index in stage 2). */
fn rowIndex(base: u32, segStart: u32, j: u32) -> u32 {
  if (p.indirect != 0u) { return inIndices[base + j]; }
  return segStart + j;
}

/** 1 when (vk, j) is ordered before (vk2, j2): larger value first, then lower index. */
fn before(vk: u32, j: u32, vk2: u32, j2: u32) -> bool {
  return vk > vk2 || (vk == vk2 && j < j2);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.x / p.segments;
  let seg = wid.x % p.segments;
  let segStart = seg * p.segWidth;
  let n = min(p.segWidth, p.width - segStart);
  let base = row * p.width + segStart;
  let kk = min(p.k, n);
  let outBase = wid.x * p.k;
  if (lid == 0u) {
    prefix = 0u;
    mask = 0u;
    remaining = kk;
    allTiesTaken = 0u;
    atomicStore(&written, 0u);
  }
  scanInit(lid);
  workgroupBarrier();
  for (var step = 0u; step < 8u; step++) {
    if (workgroupUniformLoad(&allTiesTaken) != 0u) { break; }
    let shift = 24u - 8u * (step % 4u);
    for (var b = lid; b < 256u; b += WG) { atomicStore(&hist[b], 0u); }
    workgroupBarrier();
    // Read before the histogram's barrier: the invocation that finds the bin writes them after it.
    let pre = prefix;
    let msk = mask;
    let thr = valueThreshold;
    let rem = remaining;
    for (var j = lid; j < n; j += WG) {
      let vk = orderKey(values[base + j]);
      if (step < 4u) {
        if ((vk & msk) == pre) { atomicAdd(&hist[(vk >> shift) & 255u], 1u); }
      } else {
        let ik = indexKey(rowIndex(base, segStart, j));
        if (vk == thr && (ik & msk) == pre) { atomicAdd(&hist[(ik >> shift) & 255u], 1u); }
      }
    }
    workgroupBarrier();
    let choice = selectBin(lid, rem);
    if (choice.found) {
      let left = rem - choice.above;
      remaining = left;
      if (step == 3u) {
        valueThreshold = pre | (choice.bin << shift);
        if (atomicLoad(&hist[choice.bin]) == left) { allTiesTaken = 1u; }
        // Index threshold 0 takes every tie (indexKey(j) >= 0 always holds).
        prefix = 0u;
        mask = 0u;
      } else {
        prefix = pre | (choice.bin << shift);
        mask = msk | (255u << shift);
      }
    }
    workgroupBarrier();
  }
  let thr = valueThreshold;
  let indexThr = prefix;
  for (var j = lid; j < n; j += WG) {
    let v = values[base + j];
    let vk = orderKey(v);
    let take = vk > thr || (vk == thr && indexKey(rowIndex(base, segStart, j)) >= indexThr);
    if (take) {
      let slot = atomicAdd(&written, 1u);
      chosen[outBase + slot] = j;
    } else if (MASK) {
      values[base + j] = 0.0;
    }
  }
  storageBarrier();
  workgroupBarrier();
  for (var m = lid; m < kk; m += WG) {
    let j = chosen[outBase + m];
    let v = values[base + j];
    let vk = orderKey(v);
    let idx = rowIndex(base, segStart, j);
    var rank = 0u;
    for (var q = 0u; q < kk; q++) {
      let j2 = chosen[outBase + q];
      let idx2 = rowIndex(base, segStart, j2);
      if (before(orderKey(values[base + j2]), idx2, vk, idx)) { rank++; }
    }
    outIndices[outBase + rank] = i32(idx);
    outValues[outBase + rank] = v;
  }
  for (var m = kk + lid; m < p.k; m += WG) {
    outIndices[outBase + m] = -1;
    outValues[outBase + m] = bitcast<f32>(0xff7fffffu); // −FLT_MAX
  }
}

// After the two-stage top-k (segments > 1), with MASK wanted: zero every element of a row that is not among its top
// k, in place — the TopK SAE's masked activation. Dispatch (⌈width / WG⌉, rows) with the merge's outputs bound as
// outIndices/outValues and p.{rows, width, k} of the row. The row's k-th pair (value, index), the last of its sorted
// output, is the threshold: an element stays when it is ordered at or before it, which is exactly the chosen set.
@compute @workgroup_size(WG)
fn maskOutsideTopK(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let row = gid.y;
  if (j >= p.width || row >= p.rows) { return; }
  let last = row * p.k + p.k - 1u;
  let tk = orderKey(outValues[last]);
  let tj = u32(outIndices[last]);
  let vk = orderKey(values[row * p.width + j]);
  if (!(before(vk, j, tk, tj) || (vk == tk && j == tj))) { values[row * p.width + j] = 0.0; }
}
