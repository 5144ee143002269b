// Loading from another origin (CORS) and with weights in an external `.onnx_data` file, as large exports ship:
// the graph names the file, the loader fetches it with progress, and the result equals the golden continuation.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { ModelProtoSchema, StringStringEntryProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import { HARNESS_PATH } from '../../harness/location.mjs';

const DIR = 'models/fixtures/tiny-gpt2';

/** Moves every initializer above 256 bytes into one external data file. */
function splitExternal(bytes: Uint8Array) {
  const model = fromBinary(ModelProtoSchema, bytes);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of model.graph!.initializer) {
    if (t.rawData.byteLength <= 256) continue;
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    t.externalData = [entry('location', 'model.onnx_data'), entry('offset', String(offset)), entry('length', String(t.rawData.byteLength))];
    t.dataLocation = TensorProto_DataLocation.EXTERNAL;
    chunks.push(t.rawData);
    offset += t.rawData.byteLength;
    t.rawData = new Uint8Array(0);
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  return { graph: toBinary(ModelProtoSchema, model), data };
}

test('a model folder on another origin with external data loads and matches golden greedy tokens', async ({ page }) => {
  const { graph, data } = splitExternal(new Uint8Array(readFileSync(`${DIR}/onnx/model.onnx`)));
  expect(graph.byteLength).toBeLessThan(data.byteLength);
  const files: Record<string, Uint8Array> = {
    'onnx/model.onnx': graph,
    'onnx/model.onnx_data': data,
    'config.json': readFileSync(`${DIR}/config.json`),
    'tokenizer.json': readFileSync(`${DIR}/tokenizer.json`),
    'tokenizer_config.json': readFileSync(`${DIR}/tokenizer_config.json`),
    'golden.json': readFileSync(`${DIR}/golden.json`),
  };
  const requested: string[] = [];
  await page.route('https://models.example.org/**', async (route) => {
    const name = new URL(route.request().url()).pathname.replace('/tiny/', '');
    requested.push(name);
    const body = files[name];
    await route.fulfill({
      status: body ? 200 : 404,
      body: body ? Buffer.from(body) : 'missing',
      headers: { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/octet-stream' },
    });
  });
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.runtime);
  for (const backend of ['webgpu', 'wasm']) {
    const r = await page.evaluate(
      ([be]) => (window as any).harness.runtime.cacheVsRecompute('https://models.example.org/tiny/', be, be === 'webgpu' ? 24 : 64),
      [backend],
    );
    expect(r.cached, backend).toEqual(r.golden);
  }
  expect(requested).toContain('onnx/model.onnx_data');
});
