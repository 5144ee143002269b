// Runtime entry points for Playwright specs and the benchmark: each scenario runs in the page and returns plain
// numbers/strings so the spec can assert on them (page.evaluate only carries structured-cloneable data).
import { LanguageModel, GREEDY, hubFolderUrl, readTensor, type LanguageModelOptions } from '../../src/lib/runtime';
import { ortWasmPaths } from '../../src/lib/runtime/ort';
import { createPlaygroundEngine } from '../../src/lib/engine/playground';
import { CpuSaeBackend, cpuSaeLegacy } from '../../src/lib/engine/cpuSaeBackend';
import { fetchSae } from '../../src/lib/sae/remote';
import { layerHint } from '../../src/lib/ui/models';

interface Golden {
  prompts: { prompt: string; input_ids: number[]; residuals: Record<string, number[][]>; logits_last: number[]; greedy_64?: number[] }[];
}

const models = new Map<string, LanguageModel>();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function golden(base: string): Promise<Golden> {
  return (await fetch(`${base}golden.json`)).json();
}

/** Loads (and caches) a model; `key` distinguishes variants of one folder. */
async function load(base: string, options: LanguageModelOptions = {}, key = ''): Promise<LanguageModel> {
  const id = `${base}|${options.backend}|${options.onnxFile}|${key}|${JSON.stringify(options.layers)}|${options.clampSlots}`;
  if (!models.has(id)) models.set(id, await LanguageModel.load(base, options));
  return models.get(id)!;
}

async function unload(): Promise<void> {
  for (const m of models.values()) await m.dispose();
  models.clear();
}

/** Error name + message for a load that should fail; 'ok' if it loaded. */
async function loadError(base: string, options: LanguageModelOptions = {}): Promise<{ name: string; message: string }> {
  try {
    const m = await LanguageModel.load(base, options);
    await m.dispose();
    return { name: 'ok', message: '' };
  } catch (e) {
    return { name: (e as Error).name, message: (e as Error).message };
  }
}

/** Prefill logits of the instrumented graph (zero steering) vs the plain graph, and vs the golden logits. */
async function zeroSteerParity(base: string, backend: 'webgpu' | 'wasm') {
  const g = await golden(base);
  const plain = await load(base, { backend, onnxFile: 'onnx/model.onnx', layers: [] });
  const inst = await load(base, { backend, onnxFile: 'onnx/model.onnx' });
  let vsPlain = 0, vsGolden = 0;
  for (const p of g.prompts) {
    const a = await (await plain.decoder()).step({ ids: [p.input_ids] }, false);
    const b = await (await inst.decoder()).step({ ids: [p.input_ids] }, false);
    vsPlain = Math.max(vsPlain, maxAbsDiff(a.lastLogits, b.lastLogits));
    vsGolden = Math.max(vsGolden, maxAbsDiff(b.lastLogits, p.logits_last));
  }
  return { vsPlain, vsGolden, device: inst.device };
}

/** Max |captured − golden| per layer over the golden prompts; also checks the captures live on the GPU. */
async function residualsVsGolden(base: string, backend: 'webgpu' | 'wasm') {
  const g = await golden(base);
  const m = await load(base, { backend, onnxFile: 'onnx/model.onnx' });
  const layers = m.layers;
  const perLayer = layers.map(() => 0);
  let onGpu = true;
  for (const p of g.prompts) {
    const out = await (await m.decoder()).step({ ids: [p.input_ids], capture: layers }, false);
    for (const l of layers) {
      const t = out.captures.get(l)!;
      onGpu &&= t.location === 'gpu-buffer';
      perLayer[l] = Math.max(perLayer[l], maxAbsDiff(await readTensor(t), p.residuals[String(l)].flat()));
      t.dispose();
    }
  }
  return { perLayer, onGpu };
}

/** Steer row 1 by v at `layer` in a (baseline, steered) batch; report how exactly the capture moved by v. */
async function steerByVector(base: string, backend: 'webgpu' | 'wasm', layer: number) {
  const g = await golden(base);
  const m = await load(base, { backend, onnxFile: 'onnx/model.onnx' });
  const d = m.config.hidden;
  const ids = g.prompts[0].input_ids;
  const T = ids.length;
  const v = Float32Array.from({ length: d }, (_, i) => Math.sin(i * 1.7 + layer));
  const dec = await m.decoder();
  const single = await dec.step({ ids: [ids], capture: [layer] }, false);
  const base0 = await readTensor(single.captures.get(layer)!);
  const vectors = new Float32Array(2 * d);
  vectors.set(v, d);
  const both = await dec.step({ ids: [ids, ids], capture: [layer], steer: new Map([[layer, { data: vectors }]]) }, false);
  const r = await readTensor(both.captures.get(layer)!);
  const moved = Float32Array.from({ length: T * d }, (_, i) => r[T * d + i] - base0[i]);
  const expected = Float32Array.from({ length: T * d }, (_, i) => v[i % d]);
  return {
    steerError: maxAbsDiff(moved, expected),
    baselineRowResidual: maxAbsDiff(r.subarray(0, T * d), base0),
    baselineRowLogits: maxAbsDiff(both.lastLogits.subarray(0, m.config.vocab), single.lastLogits),
  };
}

/** Greedy tokens with the KV cache (on the GPU on WebGPU) vs full recomputation vs golden. */
async function cacheVsRecompute(base: string, backend: 'webgpu' | 'wasm', n = 64) {
  const g = await golden(base);
  const p = g.prompts.find((x) => x.greedy_64) ?? g.prompts[0];
  const m = await load(base, { backend, onnxFile: 'onnx/model.onnx' });
  const common = { promptIds: p.input_ids, maxNewTokens: n, sampling: GREEDY, seed: 0, stopTokens: [] };
  const decoder = await m.decoder();
  const locations = new Set<string>();
  const cached = await m.generate({ ...common, onStep: () => void locations.add(decoder.cacheLocation) });
  const full = await m.generate({ ...common, useCache: false });
  return { cached: cached.rows[0].tokens, full: full.rows[0].tokens, golden: (p.greedy_64 ?? []).slice(0, n), cacheLocations: [...locations] };
}

/**
 * A published export layout (models/fixtures/exports/*), loaded the way the app loads a folder (no file named):
 * greedy ids with the KV cache and by full recomputation, the residual captured after every block against the
 * golden values of the tiny-llama weights it was derived from, and a steered step's move.
 */
async function exportGreedy(base: string, backend: 'webgpu' | 'wasm', n = 64) {
  const g = await golden(base);
  const p = g.prompts.find((x) => x.greedy_64) ?? g.prompts[0];
  const m = await LanguageModel.load(base, { backend });
  try {
    const common = { promptIds: p.input_ids, maxNewTokens: n, sampling: GREEDY, seed: 0, stopTokens: [] };
    const cached = await m.generate(common);
    const full = await m.generate({ ...common, useCache: false });
    const decoder = await m.decoder();
    let residual = 0;
    const out = await decoder.step({ ids: [p.input_ids], capture: m.layers }, false);
    for (const l of m.layers) {
      residual = Math.max(residual, maxAbsDiff(await readTensor(out.captures.get(l)!), p.residuals[String(l)].flat()));
      out.captures.get(l)!.dispose();
    }
    const logits = maxAbsDiff(out.lastLogits, p.logits_last);
    return { device: m.device, layout: decoder.layout, headDim: decoder.shape.headDim, cached: cached.rows[0].tokens, full: full.rows[0].tokens, golden: (p.greedy_64 ?? []).slice(0, n), residual, logits };
  } finally {
    await m.dispose();
  }
}

/** An instruct model through the loader: the chat-rendered prompt ids, their special flags, and greedy ids from them. */
async function chatGreedy(base: string, backend: 'webgpu' | 'wasm', message: string, n = 16) {
  const m = await LanguageModel.load(base, { backend });
  try {
    const ids = m.encode(message, 'chat');
    const r = await m.generate({ promptIds: ids, maxNewTokens: n, sampling: GREEDY, seed: 0, stopTokens: [] });
    const texts = m.tokenizer.tokenTexts(ids);
    return { ids, special: texts.filter((t) => t.special).map((t) => t.text), greedy: r.rows[0].tokens, device: m.device };
  } finally {
    await m.dispose();
  }
}

/** Sampled text for a seed (temperature 1, top-k 40, top-p 0.95, penalties on). */
async function sampleText(base: string, backend: 'webgpu' | 'wasm', seed: number, rows = 1) {
  const m = await load(base, { backend, onnxFile: 'onnx/model.onnx' });
  const sampling = { temperature: 1, topK: 40, topP: 0.95, repetitionPenalty: 1.1, frequencyPenalty: 0.2 };
  const r = await m.generate({ promptIds: m.encode('hello world'), maxNewTokens: 32, sampling, seed, rows, stopTokens: [] });
  return r.rows.map((row) => m.tokenizer.decode(row.tokens));
}

/**
 * The same generations with tokens chosen on the CPU and on the GPU (`sampleOnGpu`), on WebGPU: greedy and seeded
 * sampling with penalties, one and two rows, EOS stopping on. Returns both token lists per setting and where each
 * run sampled.
 */
async function gpuSamplingParity(base: string, prompt: string, n: number, seeds: number[]) {
  const m = await load(base, { backend: 'webgpu', onnxFile: 'onnx/model.onnx' });
  const sampled = { temperature: 0.9, topK: 40, topP: 0.95, repetitionPenalty: 1.2, frequencyPenalty: 0.3 };
  const runs: { name: string; cpu: number[][]; gpu: number[][]; sampledOn: string[] }[] = [];
  const settings: [string, typeof GREEDY, number, number][] = [
    ['greedy', GREEDY, 0, 1],
    ['greedy with penalties, 2 rows', { ...GREEDY, repetitionPenalty: 1.3, frequencyPenalty: 0.5 }, 0, 2],
    ...seeds.map((seed): [string, typeof GREEDY, number, number] => [`sampled, seed ${seed}`, sampled, seed, 1 + (seed % 2)]),
    ['temperature only, seed 9', { ...GREEDY, temperature: 1.3 }, 9, 1],
  ];
  for (const [name, sampling, seed, rows] of settings) {
    const common = { promptIds: m.encode(prompt), maxNewTokens: n, sampling, seed, rows };
    const cpu = await m.generate({ ...common, sampleOnGpu: false });
    const gpu = await m.generate({ ...common, sampleOnGpu: true });
    runs.push({ name, cpu: cpu.rows.map((r) => r.tokens), gpu: gpu.rows.map((r) => r.tokens), sampledOn: [cpu.sampledOn, gpu.sampledOn] });
  }
  return { device: m.device, runs };
}

/** Destroys the GPU device under a loaded model and checks it recovers and still generates the same tokens. */
async function deviceLoss(base: string) {
  const m = await LanguageModel.load(base, { backend: 'webgpu', onnxFile: 'onnx/model.onnx' });
  const events: string[] = [];
  m.on((e) => events.push(e.type));
  const common = { promptIds: m.encode('hello world'), maxNewTokens: 16, sampling: GREEDY, seed: 0, stopTokens: [] };
  const before = (await m.generate(common)).rows[0].tokens;
  m.gpuDevice!.destroy();
  await new Promise((r) => setTimeout(r, 50));
  const after = (await m.generate(common)).rows[0].tokens;
  const backend = m.device.backend;
  const retainsGraph = m.retainsGraph;
  await m.dispose();
  return { before, after, events, backend, retainsGraph };
}

/**
 * The SAE layer's contract on WebGPU: captured residual buffers are readable by our own compute/copy passes on
 * `gpuDevice`, and a steering vector written into a GPUBuffer steers exactly like the same Float32Array.
 */
async function sharedDevice(base: string) {
  const m = await load(base, { backend: 'webgpu', onnxFile: 'onnx/model.onnx' });
  const device = m.gpuDevice!;
  const d = m.config.hidden;
  const rows = 2;
  const vectors = new Float32Array(rows * d);
  for (let i = d; i < 2 * d; i++) vectors[i] = Math.cos(i);
  const steerBuffer = device.createBuffer({
    label: 'harness.steer',
    size: vectors.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  device.queue.writeBuffer(steerBuffer, 0, vectors);
  const common = { promptIds: m.encode('hello world'), maxNewTokens: 6, sampling: GREEDY, seed: 0, stopTokens: [], rows, capture: [1] };
  let copyError = 0;
  let validation = '';
  const fromGpu: number[][] = [];
  const fromCpu: number[][] = [];
  const gpuRun = await m.generate({
    ...common,
    steering: new Map([[1, { vectors: steerBuffer, positions: 'all' as const }]]),
    onStep: async (e) => {
      const c = e.captures.get(1)!;
      const bytes = c.dims.reduce((a, b) => a * b, 1) * 4;
      device.pushErrorScope('validation');
      const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(c.gpuBuffer!, 0, staging, 0, bytes);
      device.queue.submit([encoder.finish()]);
      const error = await device.popErrorScope();
      if (error) validation = error.message;
      await staging.mapAsync(GPUMapMode.READ);
      const copied = new Float32Array(staging.getMappedRange().slice(0));
      staging.destroy();
      const read = await c.read();
      copyError = Math.max(copyError, maxAbsDiff(copied, read));
      fromGpu.push([...read]);
    },
  });
  const cpuRun = await m.generate({
    ...common,
    steering: new Map([[1, { vectors, positions: 'all' as const }]]),
    onStep: async (e) => void fromCpu.push([...(await e.captures.get(1)!.read())]),
  });
  steerBuffer.destroy();
  const steerError = Math.max(...fromGpu.map((g, i) => maxAbsDiff(g, fromCpu[i])));
  return { copyError, validation, steerError, sameTokens: JSON.stringify(gpuRun.rows) === JSON.stringify(cpuRun.rows) };
}

/** The engine behind the worker protocol, against the same engine in this thread: same text, events, errors. */
async function workerRoundTrip(base: string, sae: string) {
  const [{ WorkerEngine }, { createPlaygroundEngine }] = await Promise.all([
    import('../../src/lib/worker/client'),
    import('../../src/lib/engine/playground'),
  ]);
  const request = {
    prompt: 'hello world',
    sampling: { maxNewTokens: 12, temperature: 0.8, topK: 20, topP: 0.9, repetitionPenalty: 1.1, frequencyPenalty: 0, seed: 5 },
    steering: { terms: [], positions: 'all' as const },
    withBaseline: false,
    monitor: [],
    topK: 0,
  };
  const worker = new WorkerEngine();
  const local = createPlaygroundEngine();
  const stages: string[] = [];
  const info = await worker.loadModel({ baseUrl: base, onnxFile: 'onnx/model.onnx' }, { backend: 'webgpu', onProgress: (p) => stages.push(p.stage) });
  await local.loadModel({ baseUrl: base, onnxFile: 'onnx/model.onnx' }, { backend: 'webgpu' });
  await worker.loadSae(sae);
  await local.loadSae(sae);
  const streamed: string[] = [];
  const viaWorker = await worker.generate(request, (e) => streamed.push(e.rows[0].text));
  const inThread = await local.generate(request);
  const overflow = await worker
    .generate({ ...request, prompt: 'hello world '.repeat(200) })
    .then(() => 'no error', (e: Error) => e.name);
  const long = worker.generate({ ...request, sampling: { ...request.sampling, maxNewTokens: 40 } });
  setTimeout(() => worker.cancel(), 50);
  const cancelled = (await long).rows[0].stopReason;
  const after = await worker.generate(request);
  await worker.dispose();
  await local.dispose();
  return {
    backend: info.device.backend,
    stages,
    workerText: viaWorker.rows[0].text,
    localText: inThread.rows[0].text,
    streamed: streamed.join(''),
    overflow,
    cancelled,
    afterText: after.rows[0].text,
  };
}

interface VoicesGolden {
  tokenizer: { text: string; ids: number[] }[];
  prompts: {
    text: string;
    ids: number[];
    residual: Record<string, Record<string, number[]>>;
    greedy: { unsteered: number[] };
    last_logits_first16?: number[];
  }[];
}

/** The recipe's golden file for a Voices-layout folder: tokenizer, residuals at every block, logits, greedy. */
async function voicesGolden(base: string, backend: 'webgpu' | 'wasm', onnxFile = 'onnx/model.onnx', greedy = true) {
  const g = (await (await fetch(`${base}golden.json`)).json()) as VoicesGolden;
  const m = await load(base, { backend, onnxFile });
  const plain = await load(base, { backend, onnxFile, layers: [] });
  const tokenizerMismatches = g.tokenizer.filter((t) => JSON.stringify(m.tokenizer.encode(t.text)) !== JSON.stringify(t.ids)).length;
  let residual = 0, residualScale = 0, logits = 0, zeroSteer = 0, greedyMismatches = 0;
  const dec = await m.decoder();
  for (const p of g.prompts) {
    const encoded = m.tokenizer.encode(p.text);
    if (JSON.stringify(encoded) !== JSON.stringify(p.ids)) greedyMismatches += 1000;
    const out = await dec.step({ ids: [p.ids], capture: m.layers }, false);
    const ref = await (await plain.decoder()).step({ ids: [p.ids] }, false);
    zeroSteer = Math.max(zeroSteer, maxAbsDiff(out.lastLogits, ref.lastLogits));
    if (p.last_logits_first16) logits = Math.max(logits, maxAbsDiff(out.lastLogits.subarray(0, 16), p.last_logits_first16));
    const d = m.config.hidden;
    for (const l of m.layers) {
      const r = await readTensor(out.captures.get(l)!);
      for (const [pos, vec] of Object.entries(p.residual[String(l)])) {
        residual = Math.max(residual, maxAbsDiff(r.subarray(Number(pos) * d, (Number(pos) + 1) * d), vec));
        residualScale = Math.max(residualScale, ...vec.map(Math.abs));
      }
      out.captures.get(l)!.dispose();
    }
    if (!greedy) continue;
    const gen = await m.generate({ promptIds: p.ids, maxNewTokens: p.greedy.unsteered.length, sampling: GREEDY, seed: 0, stopTokens: [] });
    if (JSON.stringify(gen.rows[0].tokens) !== JSON.stringify(p.greedy.unsteered)) greedyMismatches++;
  }
  return { tokenizerMismatches, residual, residualScale, logits, zeroSteer, greedyMismatches, layers: m.layers.length, device: m.device };
}

/** The in-graph clamp on one backend: the captured residual with two latents clamped on row 1. */
async function clampResidual(base: string, backend: 'webgpu' | 'wasm') {
  const m = await load(base, { backend, onnxFile: 'onnx/model.onnx', clampSlots: 2 });
  const d = m.config.hidden;
  const wave = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k) * 0.5);
  const clamp = { enc: wave(2 * d, 1.3), dec: wave(2 * d, 0.7), bias: Float32Array.of(0.1, -0.2), threshold: Float32Array.of(0, 0.05), target: Float32Array.of(0, 0, 3, 0), mask: Float32Array.of(0, 0, 1, 1) };
  const ids = m.encode('hello world');
  const dec = await m.decoder();
  const plain = await dec.step({ ids: [ids, ids], capture: [1] }, false);
  const out = await dec.step({ ids: [ids, ids], capture: [1], clamp: new Map([[1, clamp]]) }, false);
  const h = await readTensor(plain.captures.get(1)!);
  const c = await readTensor(out.captures.get(1)!);
  return { plain: [...h], clamped: [...c], rowLength: ids.length * d };
}

/**
 * The same q4 graph on one backend, instrumented as the playground instruments it: prefill logits of `prompt`, then
 * two batch rows (row 1 steered at layer `layer` by a fixed vector) generated greedily and sampled at each seed.
 * Plain arrays, so the spec compares the two backends.
 */
async function backendText(base: string, backend: 'webgpu' | 'wasm', prompt: string, seeds: number[], n: number, layer: number) {
  const m = await LanguageModel.load(base, { backend, onnxFile: 'onnx/model_q4.onnx', clampSlots: 4 });
  try {
    const ids = m.encode(prompt);
    const dec = await m.decoder();
    dec.reset();
    const first = await dec.step({ ids: [ids] }, false);
    const logits = [...first.lastLogits];
    dec.reset();
    const d = m.config.hidden;
    const steer = new Float32Array(2 * d);
    for (let i = 0; i < d; i++) steer[d + i] = Math.sin(i * 0.37) * 1.5;
    const steering = new Map([[layer, { vectors: steer, positions: 'all' as const }]]);
    const run = async (sampling: typeof GREEDY, seed: number) =>
      (await m.generate({ promptIds: ids, rows: 2, maxNewTokens: n, sampling, seed, stopTokens: [], steering })).rows.map((r) => r.tokens);
    const greedy = await run(GREEDY, 0);
    const sampled: number[][][] = [];
    for (const seed of seeds) sampled.push(await run({ ...GREEDY, temperature: 0.9, topP: 0.95 }, seed));
    return { device: m.device, logits, greedy, sampled };
  } finally {
    await m.dispose();
  }
}

/** `auto` with a forced race: what each backend measured, what was kept, and a greedy continuation on it. */
async function raceAtLoad(base: string, prompt: string, n: number) {
  const m = await LanguageModel.load(base, { backend: 'auto', race: true, clampSlots: 4 });
  try {
    const ids = m.encode(prompt);
    const gen = await m.generate({ promptIds: ids, maxNewTokens: n, sampling: GREEDY, seed: 0, stopTokens: [] });
    return { device: m.device, race: m.backendRace, tokens: gen.rows[0].tokens, retainsGraph: m.retainsGraph };
  } finally {
    await m.dispose();
  }
}

/** What `auto` decides for this browser's adapter, without a race: the device and the adapter's own description. */
async function autoChoice(base: string) {
  const adapter = await navigator.gpu?.requestAdapter();
  const info = adapter?.info;
  const m = await LanguageModel.load(base, { backend: 'auto' });
  try {
    return { device: m.device, retainsGraph: m.retainsGraph, adapter: info ? { vendor: info.vendor, architecture: info.architecture, isFallbackAdapter: info.isFallbackAdapter } : null };
  } finally {
    await m.dispose();
  }
}

interface BenchOptions {
  onnxFile: string;
  prompt: string;
  newTokens: number;
  /** Layer to capture each step (-1 = plain: nothing instrumented). */
  captureLayer: number;
  runs: number;
  deviceOwner?: 'app' | 'ort';
  /** Default 'webgpu'. */
  backend?: 'webgpu' | 'wasm';
  /** Engine: choose tokens on the GPU (GenerationOptions.sampleOnGpu). */
  sampleOnGpu?: boolean;
  /** SAE folder for the 'interp' subject. */
  saeUrl?: string;
  /**
   * 'interp' as it ran before issue 13's CPU work: the CPU SAE's full sorts and unconditional decode
   * (`cpuSaeLegacy`), and the graph with clamp slots (a first generation that clamps reopens it with them).
   */
  before?: boolean;
}

interface BenchRun {
  prefillMs: number;
  decodeTps: number;
  tokens: number;
  /** The generated token ids (greedy), where the subject reports them. */
  ids?: number[];
}

/** A loaded configuration the benchmark can run repeatedly, so configurations can be interleaved. */
interface BenchSubject {
  run(newTokens: number): Promise<BenchRun>;
  release(): Promise<void>;
  device?: string;
  promptTokens?: number;
}

const subjects = new Map<number, BenchSubject>();
let nextSubject = 1;

/** Our engine, greedy; `captureLayer` ≥ 0 instruments that layer and fetches its residual (on the GPU) each step. */
async function engineSubject(base: string, o: BenchOptions): Promise<BenchSubject> {
  const layers = o.captureLayer >= 0 ? [o.captureLayer] : [];
  const m = await LanguageModel.load(base, { backend: o.backend ?? 'webgpu', onnxFile: o.onnxFile, layers, deviceOwner: o.deviceOwner });
  const promptIds = m.encode(o.prompt);
  const run = async (n: number) => {
    const r = await m.generate({ promptIds, sampling: GREEDY, seed: 0, stopTokens: [], capture: layers, maxNewTokens: n, sampleOnGpu: o.sampleOnGpu });
    return { prefillMs: r.prefillMs, decodeTps: r.decodeTokensPerSecond, tokens: r.rows[0].tokens.length, ids: r.rows[0].tokens };
  };
  return {
    run,
    release: () => m.dispose(),
    device: `${m.device.backend} (${m.device.adapter ?? m.device.fallbackReason})`,
    promptTokens: promptIds.length,
  };
}

/** transformers.js generate() on the same folder, ONNX file, ORT build and device kind; greedy, fixed length. */
async function transformersSubject(base: string, o: BenchOptions & { dtype: string }): Promise<BenchSubject> {
  const t = await import('@huggingface/transformers');
  const root = new URL(base, location.href);
  const parts = root.pathname.replace(/\/$/, '').split('/');
  const id = parts.pop()!;
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  t.env.useBrowserCache = false;
  t.env.localModelPath = `${parts.join('/')}/`;
  // Same ORT package as ours (package.json overrides dedupe it); its build is the Asyncify one (onnxruntime-web/webgpu):
  // point it at our own copy of that .wasm, never a CDN.
  (t.env.backends.onnx as { wasm: { wasmPaths: unknown } }).wasm.wasmPaths = ortWasmPaths('asyncify');
  const tokenizer = await t.AutoTokenizer.from_pretrained(id);
  const model = await t.AutoModelForCausalLM.from_pretrained(id, { device: o.backend ?? 'webgpu', dtype: o.dtype as 'q4' });
  const inputs = tokenizer(o.prompt);
  const run = async (n: number) => {
    const stamps: number[] = [];
    const streamer = { put: () => void stamps.push(performance.now()), end: () => {} };
    const t0 = performance.now();
    const out = (await model.generate({ ...inputs, max_new_tokens: n, min_new_tokens: n, do_sample: false, streamer } as never)) as { data: BigInt64Array };
    const end = performance.now();
    const ids = Array.from(out.data.slice(out.data.length - n), Number);
    // put() is called once for the prompt, then once per new token.
    const gen = stamps.slice(stamps.length - n);
    return { prefillMs: gen[0] - t0, decodeTps: ((n - 1) * 1000) / (end - gen[0]), tokens: n, ids };
  };
  return { run, release: () => (model as unknown as { dispose(): Promise<void> }).dispose() };
}

/**
 * The playground engine with interpretability on, as the app runs it: instrumented at the SAE's layer only, greedy,
 * per-token SAE top-8, the first persona preset steering at its recommended strength and monitored. No baseline row.
 */
async function interpSubject(base: string, o: BenchOptions): Promise<BenchSubject> {
  const engine = createPlaygroundEngine();
  const hook = new URL(o.saeUrl!, location.href).pathname.replace(/\/$/, '').split('/').pop()!;
  const info = await engine.loadModel({ baseUrl: base, onnxFile: o.onnxFile }, { backend: o.backend ?? 'webgpu', layers: layerHint(hook) });
  cpuSaeLegacy.enabled = !!o.before;
  try {
    await engine.loadSae(o.saeUrl!);
  } finally {
    cpuSaeLegacy.enabled = false;
  }
  const persona = (await engine.personas())[0];
  const generate = (n: number, clamp = false) =>
    engine.generate({
      prompt: o.prompt,
      sampling: { maxNewTokens: n, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 0 },
      steering: {
        positions: 'all',
        terms: [
          ...(persona ? [{ kind: 'persona' as const, personaId: persona.id, strength: persona.strength.recommended }] : []),
          ...(clamp ? [{ kind: 'latent' as const, latent: 0, coefficient: 0, method: 'clamp' as const }] : []),
        ],
      },
      withBaseline: false,
      monitor: persona ? [persona.id] : [],
      topK: 8,
    });
  // The old graph: clamp slots present (fed zeros) on every later run.
  if (o.before) await generate(2, true);
  const run = async (n: number) => {
    const r = await generate(n);
    return { prefillMs: NaN, decodeTps: r.decodeTokensPerSecond, tokens: r.rows[0].tokens.length };
  };
  return { run, release: () => engine.dispose(), device: `${info.device.backend} (${info.device.adapter ?? info.device.fallbackReason})` };
}

/**
 * Milliseconds per one-token CPU SAE analysis as generation asks for it (top-8, no reconstruction, one latent
 * monitor), now and before (`cpuSaeLegacy`), interleaved in blocks of 10 over `rows` (real residuals, [n, dIn]); medians of the blocks' means.
 */
async function cpuSaeTokenMs(saeUrl: string, rows: number[][], calls: number): Promise<{ now: number; before: number; dIn: number; dSae: number }> {
  const weights = await fetchSae(saeUrl);
  const make = (legacy: boolean) => {
    cpuSaeLegacy.enabled = legacy;
    const b = new CpuSaeBackend(weights);
    cpuSaeLegacy.enabled = false;
    b.setMonitors([{ id: 'm', latents: [{ latent: 0, coefficient: 1 }, { latent: 1, coefficient: 1 }] }]);
    return b;
  };
  const backends = { now: make(false), before: make(true) };
  const dIn = weights.config.dIn;
  const times: Record<'now' | 'before', number[]> = { now: [], before: [] };
  const select = { offset: 0, rowStride: dIn, tokensPerRow: 1, tokens: 1 };
  const inputs = rows.map((r) => ({ read: async () => Float32Array.from(r) }));
  // Blocks of 10 calls: a non-isolated page's clock ticks in 0.1 ms.
  for (let i = 0; i < calls; i += 10)
    for (const key of ['now', 'before'] as const) {
      const t0 = performance.now();
      for (let j = i; j < i + 10; j++) await backends[key].analyse(inputs[j % inputs.length], select, 8, { reconstruction: false });
      times[key].push((performance.now() - t0) / 10);
    }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { now: median(times.now), before: median(times.before), dIn, dSae: weights.config.dSae };
}

async function benchOpen(kind: 'engine' | 'transformers' | 'interp', base: string, o: BenchOptions & { dtype: string }) {
  const subject =
    kind === 'engine' ? await engineSubject(base, o) : kind === 'interp' ? await interpSubject(base, o) : await transformersSubject(base, o);
  await subject.run(8); // warm-up: shader compilation and first-run allocations
  const id = nextSubject++;
  subjects.set(id, subject);
  return { id, device: subject.device, promptTokens: subject.promptTokens };
}

async function benchRun(id: number, newTokens: number): Promise<BenchRun> {
  return subjects.get(id)!.run(newTokens);
}

async function benchClose(id: number): Promise<void> {
  await subjects.get(id)?.release();
  subjects.delete(id);
}

window.harness ??= {};
window.harness.runtime = {
  hubFolderUrl,
  gpuSamplingParity,
  benchOpen,
  benchRun,
  cpuSaeTokenMs,
  benchClose,
  LanguageModel,
  load,
  unload,
  loadError,
  zeroSteerParity,
  residualsVsGolden,
  steerByVector,
  cacheVsRecompute,
  exportGreedy,
  chatGreedy,
  sampleText,
  deviceLoss,
  sharedDevice,
  workerRoundTrip,
  voicesGolden,
  clampResidual,
  backendText,
  raceAtLoad,
  autoChoice,
};
