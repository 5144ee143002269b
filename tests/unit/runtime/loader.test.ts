// Downloads over real HTTP (a local server): byte progress, 404 → MissingFileError, refused/cut connections →
// DownloadError, and external data files discovered from the graph.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fetchBytes, fetchJson, fetchOnnx, resolveUrl } from '../../../src/lib/runtime/loader';
import { DownloadError, MissingFileError } from '../../../src/lib/runtime/errors';
import { ModelFormatError } from '../../../src/lib/graph';
import { readFixture } from '../graph/fixtures';

const onnx = readFixture('fixtures/tiny-gpt2').bytes;
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/m/onnx/model.onnx') {
      res.writeHead(200, { 'Content-Length': onnx.byteLength });
      // Several chunks, so progress is reported more than once.
      for (let i = 0; i < onnx.byteLength; i += 65536) res.write(onnx.subarray(i, i + 65536));
      res.end();
    } else if (req.url === '/m/config.json') res.end('{"n_layer": 2}');
    else if (req.url === '/m/bad.json') res.end('{not json');
    else if (req.url === '/m/cut') {
      res.writeHead(200, { 'Content-Length': 1000 });
      res.write(new Uint8Array(10));
      setTimeout(() => res.destroy(), 20);
    } else {
      res.writeHead(404);
      res.end('missing');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}/m/`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('downloads with byte progress', async () => {
  const seen: [number, number | undefined][] = [];
  const bytes = await fetchBytes(resolveUrl(base, 'onnx/model.onnx'), (_f, loaded, total) => seen.push([loaded, total]));
  expect(bytes).toEqual(onnx);
  expect(seen.length).toBeGreaterThan(1);
  expect(seen.at(-1)).toEqual([onnx.byteLength, onnx.byteLength]);
  expect(await fetchJson(resolveUrl(base.slice(0, -1), 'config.json'))).toEqual({ n_layer: 2 });
});

test('typed errors for missing files, bad JSON, refused and cut connections', async () => {
  await expect(fetchBytes(resolveUrl(base, 'tokenizer.json'))).rejects.toBeInstanceOf(MissingFileError);
  await expect(fetchJson(resolveUrl(base, 'bad.json'))).rejects.toThrow(/not valid JSON/);
  await expect(fetchBytes('http://127.0.0.1:1/nothing')).rejects.toBeInstanceOf(DownloadError);
  await expect(fetchBytes(resolveUrl(base, 'cut'))).rejects.toBeInstanceOf(DownloadError);
});

test('fetchOnnx parses and validates the graph', async () => {
  const files = await fetchOnnx(base, 'onnx/model.onnx');
  expect(files.model.graph!.node.length).toBeGreaterThan(0);
  expect(files.externalData).toEqual([]);
  await expect(fetchOnnx(base, 'config.json')).rejects.toBeInstanceOf(ModelFormatError);
});
