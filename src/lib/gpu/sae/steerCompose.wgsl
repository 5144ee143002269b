// Steering composition written straight into the buffer fed to the model's steering input:
// out[row] = Σ c_m·W_dec[latent_m] + Σ c_r·v_r. Runs once per W_dec chunk: the first run writes the raw-vector part
// plus the chunk's latents, later runs add their own latents. Each batch row has its own list of terms.
override WG: u32 = 64;

struct Params {
  rows: u32,
  dIn: u32,
  outOffset: u32,     // in floats
  outRowStride: u32,  // floats between rows of the destination
  start: u32,         // first latent of this W_dec chunk
  count: u32,
  accumulate: u32,
}

// Per row: latent terms [latentStart, latentStart + latentCount), vector terms likewise.
struct RowTerms {
  latentStart: u32,
  latentCount: u32,
  vectorStart: u32,
  vectorCount: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rowTerms: array<RowTerms>;
@group(0) @binding(2) var<storage, read> latents: array<u32>;
@group(0) @binding(3) var<storage, read> latentCoefs: array<f32>;
@group(0) @binding(4) var<storage, read> vectors: array<f32>;
@group(0) @binding(5) var<storage, read> vectorCoefs: array<f32>;
@group(0) @binding(6) var<storage, read> wDec: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let row = gid.y;
  if (i >= p.dIn) { return; }
  let terms = rowTerms[row];
  let o = p.outOffset + row * p.outRowStride + i;
  var acc = 0.0;
  if (p.accumulate != 0u) {
    acc = out[o];
  } else {
    for (var r = terms.vectorStart; r < terms.vectorStart + terms.vectorCount; r++) {
      acc += vectorCoefs[r] * vectors[r * p.dIn + i];
    }
  }
  for (var m = terms.latentStart; m < terms.latentStart + terms.latentCount; m++) {
    let latent = latents[m];
    if (latent >= p.start && latent < p.start + p.count) {
      acc += latentCoefs[m] * wDec[(latent - p.start) * p.dIn + i];
    }
  }
  out[o] = acc;
}
