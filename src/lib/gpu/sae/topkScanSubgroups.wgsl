// The bin selection of topk.wgsl with WebGPU subgroups: each invocation counts its block of bins, a subgroup
// exclusive sum orders the blocks within a subgroup, and the subgroups' totals, combined through workgroup memory,
// order the subgroups. Correct for any subgroup size (4–128) and any mapping of invocations to subgroups, partial
// subgroups included: scan positions are claimed per subgroup rather than derived from lid, and lanes are counted
// with subgroupExclusiveAdd(1) rather than read from subgroup_invocation_id / subgroup_size, so only invocations
// that are really in the subgroup take a position.
enable subgroups;

// Subgroups claim their first scan position and their index together, in one atomic: (lanes << 16) | 1.
var<workgroup> subgroupClaims: atomic<u32>;
var<workgroup> subgroupTotals: array<u32, WG>;
var<private> lane: u32;
var<private> lanes: u32;
var<private> subgroupIndex: u32;
var<private> scanPosition: u32;

fn scanInit(lid: u32) {
  if (lid == 0u) { atomicStore(&subgroupClaims, 0u); }
  workgroupBarrier();
  lanes = subgroupAdd(1u);
  lane = subgroupExclusiveAdd(1u);
  var claim = 0u;
  if (lane == 0u) { claim = atomicAdd(&subgroupClaims, (lanes << 16u) | 1u); }
  claim = subgroupAdd(claim);
  subgroupIndex = claim & 0xffffu;
  scanPosition = (claim >> 16u) + lane;
}

fn selectBin(lid: u32, rem: u32) -> BinChoice {
  let total = blockCount(scanPosition);
  let inSubgroup = subgroupExclusiveAdd(total);
  let subgroupTotal = subgroupAdd(total);
  if (lane == 0u) { subgroupTotals[subgroupIndex] = subgroupTotal; }
  workgroupBarrier();
  // The totals of the subgroups before this one, read a stride of `lanes` at a time and summed across the subgroup.
  var earlier = 0u;
  for (var s = lane; s < subgroupIndex; s += lanes) { earlier += subgroupTotals[s]; }
  return chooseInBlock(scanPosition, subgroupAdd(earlier) + inSubgroup, rem);
}
