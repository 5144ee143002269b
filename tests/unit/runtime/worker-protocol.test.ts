// The worker protocol end to end over a MessageChannel: the page-side WorkerEngine talks to serveEngine() around
// a scripted engine; progress and token callbacks arrive in order, typed errors keep their name, arrays move.
import { MessageChannel } from 'node:worker_threads';
import { expect, test } from 'vitest';
import type { PlaygroundEngine, Progress, TokenEvent } from '../../../src/lib/engine/api';
import { WorkerEngine } from '../../../src/lib/worker/client';
import { serveEngine } from '../../../src/lib/worker/server';
import { transferables, type EngineNotice, type NoticeSource, type Port } from '../../../src/lib/worker/protocol';

class ContextOverflowError extends Error {
  override name = 'ContextOverflowError';
}

function scriptedEngine(log: string[]): PlaygroundEngine & NoticeSource {
  let cancelled = false;
  let notify: ((n: EngineNotice) => void) | undefined;
  return {
    onNotice(listener) {
      notify = listener;
    },
    async loadModel(source, options) {
      options?.onProgress?.({ stage: 'download', message: 'model', loaded: 5, total: 10 });
      options?.onProgress?.({ stage: 'ready', message: 'ok' });
      return { name: source.baseUrl, modelType: 'gpt2', nLayer: 2, dModel: 4, vocabSize: 9, contextLength: 8, device: { backend: options?.backend === 'wasm' ? 'wasm' : 'webgpu' } };
    },
    async loadSae() {
      throw new Error('no sae');
    },
    async personas() {
      notify?.({ kind: 'device-lost', message: 'GPU lost' });
      return [];
    },
    async definePersona(p) {
      log.push(`define ${p.id} ${p.vector?.length}`);
    },
    async removePersona(id) {
      log.push(`remove ${id}`);
    },
    async analyse(prompt) {
      if (prompt.length > 8) throw new ContextOverflowError(`prompt of ${prompt.length} > 8`);
      return { tokens: [{ id: 1, text: prompt }], top: { k: 1, indices: Int32Array.of(3), values: Float32Array.of(0.5) }, reconstructionError: Float32Array.of(0.1), monitor: {}, backend: 'wasm' };
    },
    async generate(request, onToken) {
      cancelled = false;
      for (let step = 0; step < request.sampling.maxNewTokens; step++) {
        await new Promise((r) => setTimeout(r, 5));
        if (cancelled) return { rows: [{ tokens: [], text: '', stopReason: 'cancelled' }], decodeTokensPerSecond: 0 };
        onToken?.({ step, rows: [{ id: step, text: `t${step}`, monitor: {}, topValues: Float32Array.of(step) }] });
      }
      return { rows: [{ tokens: [], text: 'done', stopReason: 'length' }], decodeTokensPerSecond: 1 };
    },
    cancel() {
      cancelled = true;
      log.push('cancel');
    },
    async dispose() {
      log.push('dispose');
    },
  };
}

function connect(log: string[]) {
  const channel = new MessageChannel();
  const engine = scriptedEngine(log);
  serveEngine(channel.port2 as unknown as Port, async () => engine);
  const client = new WorkerEngine(channel.port1 as unknown as Port);
  return { client, close: () => (channel.port1.close(), channel.port2.close()) };
}

const request = (maxNewTokens: number) => ({
  prompt: 'hi',
  sampling: { maxNewTokens, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 1 },
  steering: { terms: [], positions: 'all' as const },
  withBaseline: false,
  monitor: [],
  topK: 0,
});

test('calls, progress, tokens, typed errors and cancel cross the worker boundary', async () => {
  const log: string[] = [];
  const { client, close } = connect(log);
  const progress: Progress[] = [];
  const info = await client.loadModel({ baseUrl: 'models/x/' }, { backend: 'wasm', onProgress: (p) => progress.push(p) });
  expect(info.device.backend).toBe('wasm');
  expect(progress.map((p) => p.stage)).toEqual(['download', 'ready']);
  const analysis = await client.analyse('abc', 1);
  expect(analysis.top.indices).toBeInstanceOf(Int32Array);
  expect([...analysis.top.indices]).toEqual([3]);
  const error = await client.analyse('much too long', 1).catch((e) => e);
  expect(error.name).toBe('ContextOverflowError');
  expect(error.message).toMatch(/13 > 8/);
  await expect(client.loadSae('x')).rejects.toThrow('no sae');
  const notices: EngineNotice[] = [];
  client.onNotice((n) => notices.push(n));
  await client.personas();
  await new Promise((r) => setTimeout(r, 10));
  expect(notices).toEqual([{ kind: 'device-lost', message: 'GPU lost' }]);
  const tokens: TokenEvent[] = [];
  const result = await client.generate(request(3), (e) => tokens.push(e));
  expect(tokens.map((t) => t.rows[0].text)).toEqual(['t0', 't1', 't2']);
  expect(tokens[2].rows[0].topValues).toBeInstanceOf(Float32Array);
  expect(result.rows[0].text).toBe('done');
  const pending = client.generate(request(1000));
  await new Promise((r) => setTimeout(r, 30));
  client.cancel();
  expect((await pending).rows[0].stopReason).toBe('cancelled');
  await client.definePersona({ id: 'p', name: 'P', layer: 0, latents: [], vector: new Float32Array(4), defaultUse: 'vector', strength: { min: 0, max: 1, recommended: 1 }, source: 'user' });
  await client.dispose();
  expect(log).toEqual(['cancel', 'define p 4', 'dispose']);
  close();
});

test('transferables collects whole typed-array buffers once', () => {
  const a = new Float32Array(4);
  const view = new Float32Array(new ArrayBuffer(64), 16, 2);
  expect(transferables({ a, b: [a, view], c: 'x' })).toEqual([a.buffer]);
});

test('a worker that cannot start fails every call with a clear error instead of leaving the page loading', async () => {
  const target = new EventTarget();
  const sent: unknown[] = [];
  const port = {
    onmessage: null,
    postMessage: (m: unknown) => void sent.push(m),
    addEventListener: target.addEventListener.bind(target) as Worker['addEventListener'],
  };
  const engine = new WorkerEngine(port as unknown as Port);
  const waiting = engine.loadModel({ baseUrl: 'models/voices/' });
  expect(sent).toHaveLength(1);
  // What a module worker whose script 404s fires: a plain Event, not an ErrorEvent.
  target.dispatchEvent(new Event('error'));
  await expect(waiting).rejects.toMatchObject({ name: 'EngineWorkerError', message: expect.stringMatching(/could not start/) });
  await expect(engine.analyse('hi', 4)).rejects.toMatchObject({ name: 'EngineWorkerError' });
  expect(sent).toHaveLength(1);
});
