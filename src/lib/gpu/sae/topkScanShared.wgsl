// The bin selection of topk.wgsl for devices without the `subgroups` feature: each invocation counts its block of
// bins, a Hillis–Steele scan in workgroup memory (⌈log2 WG⌉ rounds, any WG) gives the count above each block, and
// the invocation whose block holds the bin where the count reaches `rem` reports it. Scan position = lid.

var<workgroup> scanTotals: array<u32, WG>;

fn scanInit(lid: u32) {}

fn selectBin(lid: u32, rem: u32) -> BinChoice {
  let total = blockCount(lid);
  var inclusive = total;
  scanTotals[lid] = inclusive;
  workgroupBarrier();
  for (var offset = 1u; offset < WG; offset *= 2u) {
    if (lid >= offset) { inclusive += scanTotals[lid - offset]; }
    workgroupBarrier();
    scanTotals[lid] = inclusive;
    workgroupBarrier();
  }
  return chooseInBlock(lid, inclusive - total, rem);
}
