// The bin selection of topk.wgsl as it was before the parallel ones: invocation 0 walks the bins from 255 downward
// while the others wait. Kept as the baseline the benchmark compares the parallel selections against (up to 256
// dependent workgroup-memory loads per byte-pass, where the others take one to a few loads and a scan).

fn scanInit(lid: u32) {}

fn selectBin(lid: u32, rem: u32) -> BinChoice {
  var choice = BinChoice(false, 0u, 0u);
  if (lid == 0u) {
    var cum = 0u;
    for (var d = i32(BINS) - 1i; d >= 0i; d--) {
      let c = atomicLoad(&hist[u32(d)]);
      if (cum + c >= rem) {
        choice = BinChoice(true, u32(d), cum);
        break;
      }
      cum += c;
    }
  }
  return choice;
}
