// Persona monitor readings per token: the coefficient-weighted mean of a persona's latent activations, plus the
// projection of the raw residual on its unit persona vector (for vector personas). One thread per (token, persona).
override WG: u32 = 64;

struct Params {
  tokens: u32,
  personas: u32,
  dIn: u32,
  dSae: u32,
}

struct Persona {
  latentStart: u32,
  latentCount: u32,
  vectorIndex: i32,  // row of `vectors`, or -1
  latentScale: f32,  // 1 / Σ|c|
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> personas: array<Persona>;
@group(0) @binding(2) var<storage, read> latents: array<u32>;
@group(0) @binding(3) var<storage, read> coefs: array<f32>;
@group(0) @binding(4) var<storage, read> vectors: array<f32>;
@group(0) @binding(5) var<storage, read> acts: array<f32>;
@group(0) @binding(6) var<storage, read> raw: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  let t = gid.y;
  if (q >= p.personas) { return; }
  let persona = personas[q];
  var reading = 0.0;
  if (persona.vectorIndex >= 0) {
    let v = u32(persona.vectorIndex) * p.dIn;
    for (var i = 0u; i < p.dIn; i++) { reading += raw[t * p.dIn + i] * vectors[v + i]; }
  } else {
    for (var m = persona.latentStart; m < persona.latentStart + persona.latentCount; m++) {
      reading += coefs[m] * acts[t * p.dSae + latents[m]];
    }
    reading *= persona.latentScale;
  }
  out[t * p.personas + q] = reading;
}
