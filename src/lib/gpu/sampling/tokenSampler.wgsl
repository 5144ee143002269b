// Next-token choice on the GPU, one workgroup per batch row, equal to runtime/sampling.ts `sampleToken` (the
// definition): penalties, then greedy argmax (ties → lowest id), or top-k, top-p and a draw walked in the order
// "logit descending, id ascending". Nothing but the chosen id leaves the GPU, and the row's history (seen flag and
// generated count per id) is updated here for the next step.
//
// Sorting is replaced by radix selection over the composite key (orderKey(logit), ~id), 8 digits of 8 bits, most
// significant first: a larger key is earlier in the CPU's order. One routine, `selectKept`, finds the first kept
// element whose inclusive prefix of weights reaches a target (or exceeds it, for the draw), where the weight is 1
// (top-k: the k-th element) or the element's probability mass exp((l − max) / T) (top-p cut, then the draw). Masses
// are fixed-point integers (2^40 = the max element's mass, summed in 64 bits as two u32): integer sums do not
// depend on the order threads add them in, so every bucket's mass is exactly the sum of its sub-buckets' and the
// selection is deterministic. The CPU sums float64 masses sequentially; the two can only choose differently when the
// draw falls within rounding distance of a cumulative boundary (the tests measure that).
override WG: u32 = 256u;
// Logits are IEEE half floats, two per u32 (unpack2x16float is exact); else float32.
override F16_LOGITS: bool = false;

struct Params {
  vocab: u32,
  greedy: u32,
  // Top-k count; 0 = off (the host also sends 0 when k ≥ vocab).
  topK: u32,
  topPOn: u32,
  // p · 2^32, floored.
  topP: u32,
  repetitionOn: u32,
  frequencyOn: u32,
  invTemperature: f32,
  // The penalties as float64 values split in two float32 (hi + lo), and 1 / repetition: the products and the
  // quotient are then rounded once to float32, as `applyPenalties` rounds its float64 results into a Float32Array.
  repetitionHi: f32,
  repetitionLo: f32,
  repetitionInv: f32,
  frequencyHi: f32,
  frequencyLo: f32,
}

const SEEN: u32 = 0x80000000u;
const COUNT: u32 = 0x7fffffffu;
const FIXED_ONE: f32 = 1099511627776.0; // 2^40
const TWO32: f32 = 4294967296.0;

@group(0) @binding(0) var<uniform> p: Params;
// The logits binding as u32 words (float32 bits, or two half floats).
@group(0) @binding(1) var<storage, read> logits: array<u32>;
// Per row: [draw (u · 2^32), active (0 = stopped: skip), element offset of the row's last position in `logits`].
@group(0) @binding(2) var<storage, read> rowState: array<u32>;
// [rows, vocab]: bit 31 = seen (prompt or output), bits 0..30 = times generated.
@group(0) @binding(3) var<storage, read_write> history: array<u32>;
// [rows, vocab] scratch: the penalised logits.
@group(0) @binding(4) var<storage, read_write> values: array<f32>;
// [rows, vocab] scratch: ids kept by top-k (compacted, in no particular order).
@group(0) @binding(5) var<storage, read_write> candidates: array<u32>;
// [rows]: the chosen id (untouched for stopped rows).
@group(0) @binding(6) var<storage, read_write> tokens: array<u32>;

var<workgroup> hCount: array<atomic<u32>, 256>;
var<workgroup> hLo: array<atomic<u32>, 256>;
var<workgroup> hHi: array<atomic<u32>, 256>;
var<workgroup> maxKey: atomic<u32>;
var<workgroup> minId: atomic<u32>;
var<workgroup> keptCount: atomic<u32>;
var<workgroup> totalLo: atomic<u32>;
var<workgroup> totalHi: atomic<u32>;
// Plain copies of values that steer control flow, read with workgroupUniformLoad.
var<workgroup> rowActive: u32;
var<workgroup> draw: u32;
var<workgroup> maxKeyPlain: u32;
var<workgroup> total: vec2<u32>;
var<workgroup> keptMass: vec2<u32>;
// Kept elements are those whose key is ≥ bound (lexicographic on (value key, index key)); (0, 0) keeps all.
var<workgroup> bound: vec2<u32>;
// selectKept's state: the key prefix fixed so far and its mask, the target left inside the current bucket, the
// weight of the kept elements before it; status 0 = searching, 1 = narrowed to one element, 2 = nothing reaches it.
var<workgroup> sPrefix: vec2<u32>;
var<workgroup> sMask: vec2<u32>;
var<workgroup> sRem: vec2<u32>;
var<workgroup> sAcc: vec2<u32>;
var<workgroup> sStatus: u32;
var<workgroup> selKey: vec2<u32>;

/** Order-preserving map of f32 to u32 (larger float → larger key); −0 maps to +0's key (the CPU compares them equal). */
fn orderKey(v: f32) -> u32 {
  var b = bitcast<u32>(v);
  if (b == 0x80000000u) { b = 0u; }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn keyValue(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

fn isFinite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

fn readLogit(element: u32) -> f32 {
  if (F16_LOGITS) {
    return unpack2x16float(logits[element >> 1u])[element & 1u];
  }
  return bitcast<f32>(logits[element]);
}

// Veltkamp split and Dekker's product: a · b = r.x + r.y exactly (no FMA needed).
fn split(a: f32) -> vec2<f32> {
  let c = 4097.0 * a;
  let hi = c - (c - a);
  return vec2<f32>(hi, a - hi);
}

fn twoProduct(a: f32, b: f32) -> vec2<f32> {
  let r = a * b;
  let x = split(a);
  let y = split(b);
  return vec2<f32>(r, ((x.x * y.x - r) + x.x * y.y + x.y * y.x) + x.y * y.y);
}

/** l / P if l > 0, else l · P, for the float64 penalty P = hi + lo, rounded once to float32. */
fn repetition(l: f32) -> f32 {
  if (!isFinite(l)) { return l; }
  if (l > 0.0) {
    let q = l * p.repetitionInv;
    let qp = twoProduct(q, p.repetitionHi);
    let residual = ((l - qp.x) - qp.y) - q * p.repetitionLo;
    return q + residual * p.repetitionInv;
  }
  let lp = twoProduct(l, p.repetitionHi);
  return lp.x + (lp.y + l * p.repetitionLo);
}

/** l − F · count for the float64 penalty F = hi + lo, rounded once to float32. */
fn frequency(l: f32, count: u32) -> f32 {
  if (!isFinite(l)) { return l; }
  let c = f32(count);
  let d = twoProduct(p.frequencyHi, c);
  let dLo = d.y + p.frequencyLo * c;
  let s = l - d.x;
  let b = s - l;
  let err = (l - (s - b)) + (-d.x - b);
  return s + (err - dLo);
}

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

fn sub64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}

fn ge64(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.y > b.y || (a.y == b.y && a.x >= b.x);
}

fn gt64(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.y > b.y || (a.y == b.y && a.x > b.x);
}

/** Full 64-bit product of two u32, as (lo, hi). */
fn mul32(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

/** floor(a · f / 2^32): a 64-bit mass times a fraction f / 2^32. */
fn scale64(a: vec2<u32>, f: u32) -> vec2<u32> {
  return add64(mul32(a.y, f), vec2<u32>(mul32(a.x, f).y, 0u));
}

/** exp((v − max) / T) in units of 2^−40, floored, as (lo, hi). */
fn fixedMass(v: f32, maxValue: f32) -> vec2<u32> {
  let x = exp((v - maxValue) * p.invTemperature) * FIXED_ONE;
  let hi = floor(x * (1.0 / TWO32));
  return vec2<u32>(u32(x - hi * TWO32), u32(hi));
}

fn histAdd(d: u32, w: vec2<u32>) {
  if (w.x != 0u) {
    let old = atomicAdd(&hLo[d], w.x);
    if (old + w.x < old) { atomicAdd(&hHi[d], 1u); }
  }
  if (w.y != 0u) { atomicAdd(&hHi[d], w.y); }
}

fn kept(key: vec2<u32>, b: vec2<u32>) -> bool {
  return key.x > b.x || (key.x == b.x && key.y >= b.y);
}

fn elementId(rowBase: u32, j: u32, indirect: bool) -> u32 {
  if (indirect) { return candidates[rowBase + j]; }
  return j;
}

/**
 * The first kept element, in the CPU's order, whose inclusive prefix of weights is ≥ goal (> goal when
 * `strict`): its key lands in `selKey` and the weight of the kept elements before it in `sAcc`. The n elements are
 * ids 0..n−1, or candidates[0..n−1] when `indirect`. Returns false when no element reaches the goal.
 */
fn selectKept(lid: u32, rowBase: u32, n: u32, indirect: bool, weighted: bool, strict: bool, goal: vec2<u32>, maxValue: f32) -> bool {
  if (lid == 0u) {
    sPrefix = vec2<u32>(0u);
    sMask = vec2<u32>(0u);
    sRem = goal;
    sAcc = vec2<u32>(0u);
    sStatus = 0u;
  }
  workgroupBarrier();
  for (var level = 0u; level < 8u; level++) {
    for (var b = lid; b < 256u; b += WG) {
      atomicStore(&hCount[b], 0u);
      atomicStore(&hLo[b], 0u);
      atomicStore(&hHi[b], 0u);
    }
    workgroupBarrier();
    let pre = sPrefix;
    let msk = sMask;
    let bnd = bound;
    let shift = 24u - 8u * (level % 4u);
    for (var j = lid; j < n; j += WG) {
      let id = elementId(rowBase, j, indirect);
      let v = values[rowBase + id];
      let key = vec2<u32>(orderKey(v), ~id);
      if (!kept(key, bnd) || any((key & msk) != pre)) { continue; }
      let digit = (select(key.y, key.x, level < 4u) >> shift) & 255u;
      atomicAdd(&hCount[digit], 1u);
      if (weighted) { histAdd(digit, fixedMass(v, maxValue)); }
    }
    workgroupBarrier();
    if (lid == 0u) {
      var cum = vec2<u32>(0u);
      var chosen = false;
      for (var d = 255i; d >= 0i; d--) {
        let c = atomicLoad(&hCount[u32(d)]);
        if (c == 0u) { continue; }
        var w = vec2<u32>(c, 0u);
        if (weighted) { w = vec2<u32>(atomicLoad(&hLo[u32(d)]), atomicLoad(&hHi[u32(d)])); }
        let upto = add64(cum, w);
        if ((strict && gt64(upto, sRem)) || (!strict && ge64(upto, sRem))) {
          if (level < 4u) {
            sPrefix.x |= u32(d) << shift;
            sMask.x |= 255u << shift;
          } else {
            sPrefix.y |= u32(d) << shift;
            sMask.y |= 255u << shift;
          }
          sRem = sub64(sRem, cum);
          sAcc = add64(sAcc, cum);
          if (c == 1u) { sStatus = 1u; }
          chosen = true;
          break;
        }
        cum = upto;
      }
      if (!chosen) { sStatus = 2u; }
    }
    if (workgroupUniformLoad(&sStatus) != 0u) { break; }
  }
  let status = workgroupUniformLoad(&sStatus);
  if (status == 2u) { return false; }
  if (status == 1u) {
    // One element matches the prefix found so far: look it up.
    let pre = sPrefix;
    let msk = sMask;
    let bnd = bound;
    for (var j = lid; j < n; j += WG) {
      let id = elementId(rowBase, j, indirect);
      let key = vec2<u32>(orderKey(values[rowBase + id]), ~id);
      if (kept(key, bnd) && all((key & msk) == pre)) { selKey = key; }
    }
  } else if (lid == 0u) {
    selKey = sPrefix;
  }
  workgroupBarrier();
  return true;
}

fn finish(row: u32, rowBase: u32, token: u32) {
  tokens[row] = token;
  let h = history[rowBase + token];
  history[rowBase + token] = ((h & COUNT) + 1u) | SEEN;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.x;
  let vocab = p.vocab;
  let rowBase = row * vocab;
  if (lid == 0u) {
    rowActive = rowState[3u * row + 1u];
    draw = rowState[3u * row];
    atomicStore(&maxKey, 0u);
    atomicStore(&minId, 0xffffffffu);
    atomicStore(&keptCount, 0u);
    atomicStore(&totalLo, 0u);
    atomicStore(&totalHi, 0u);
    bound = vec2<u32>(0u);
  }
  if (workgroupUniformLoad(&rowActive) == 0u) { return; }
  let first = rowState[3u * row + 2u];
  let penalised = p.repetitionOn != 0u || p.frequencyOn != 0u;
  for (var id = lid; id < vocab; id += WG) {
    var l = readLogit(first + id);
    if (penalised) {
      let h = history[rowBase + id];
      if (p.repetitionOn != 0u && (h & SEEN) != 0u) { l = repetition(l); }
      if (p.frequencyOn != 0u && (h & COUNT) != 0u) { l = frequency(l, h & COUNT); }
    }
    values[rowBase + id] = l;
    atomicMax(&maxKey, orderKey(l));
  }
  storageBarrier();
  workgroupBarrier();
  if (lid == 0u) { maxKeyPlain = atomicLoad(&maxKey); }
  let top = workgroupUniformLoad(&maxKeyPlain);

  if (p.greedy != 0u) {
    for (var id = lid; id < vocab; id += WG) {
      if (orderKey(values[rowBase + id]) == top) { atomicMin(&minId, id); }
    }
    workgroupBarrier();
    if (lid == 0u) { finish(row, rowBase, atomicLoad(&minId)); }
    return;
  }

  let maxValue = keyValue(top);
  let topK = select(vocab, p.topK, p.topK > 0u && p.topK < vocab);
  if (!isFinite(maxValue)) {
    // ±Infinity at the top makes every probability NaN on the CPU, whose walk then ends on the last kept element.
    selectKept(lid, rowBase, vocab, false, false, false, vec2<u32>(topK, 0u), maxValue);
    if (lid == 0u) { finish(row, rowBase, ~selKey.y); }
    return;
  }
  var n = vocab;
  var indirect = false;
  if (topK < vocab) {
    selectKept(lid, rowBase, vocab, false, false, false, vec2<u32>(topK, 0u), maxValue);
    if (lid == 0u) { bound = selKey; }
    workgroupBarrier();
    let bnd = bound;
    for (var id = lid; id < vocab; id += WG) {
      if (kept(vec2<u32>(orderKey(values[rowBase + id]), ~id), bnd)) { candidates[rowBase + atomicAdd(&keptCount, 1u)] = id; }
    }
    storageBarrier();
    workgroupBarrier();
    n = topK;
    indirect = true;
  }

  var sum = vec2<u32>(0u);
  for (var j = lid; j < n; j += WG) {
    sum = add64(sum, fixedMass(values[rowBase + elementId(rowBase, j, indirect)], maxValue));
  }
  if (sum.x != 0u) {
    let old = atomicAdd(&totalLo, sum.x);
    if (old + sum.x < old) { atomicAdd(&totalHi, 1u); }
  }
  if (sum.y != 0u) { atomicAdd(&totalHi, sum.y); }
  workgroupBarrier();
  if (lid == 0u) {
    total = vec2<u32>(atomicLoad(&totalLo), atomicLoad(&totalHi));
    keptMass = total;
  }
  let totalMass = workgroupUniformLoad(&total);

  if (p.topPOn != 0u) {
    if (selectKept(lid, rowBase, n, indirect, true, false, scale64(totalMass, p.topP), maxValue)) {
      if (lid == 0u) {
        bound = selKey;
        keptMass = add64(sAcc, fixedMass(keyValue(selKey.x), maxValue));
      }
    }
  }
  let mass = workgroupUniformLoad(&keptMass);
  let u = workgroupUniformLoad(&draw);
  if (selectKept(lid, rowBase, n, indirect, true, true, scale64(mass, u), maxValue)) {
    if (lid == 0u) { finish(row, rowBase, ~selKey.y); }
    return;
  }
  // Unreachable with exact integer masses (the target is below the kept mass). The CPU's fallback, for safety: the
  // last kept element — the bound when top-k or top-p set one, else the last of all n.
  let last = workgroupUniformLoad(&bound);
  if (any(last != vec2<u32>(0u))) {
    if (lid == 0u) { finish(row, rowBase, ~last.y); }
    return;
  }
  selectKept(lid, rowBase, n, indirect, false, false, vec2<u32>(n, 0u), maxValue);
  if (lid == 0u) { finish(row, rowBase, ~selKey.y); }
}
