// Persona vectors from examples: given the recipe's own texts of each voice against the others (the windows that
// models/recipe/analyze.py averaged, rebuilt by models/recipe/persona_windows.py), the lab's vector points the same
// way as that voice's difference-of-means vector in personas.json (cosine ≥ 0.99), on the q4 graph the app runs.
// Runs on ORT's WASM backend (the TypeScript SAE): 51,200 tokens through SwiftShader's emulated GPU take far longer
// on this CPU-only machine than on the CPU directly; the WebGPU path is the same code after the capture.
import { expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { cosine, personaWindows } from '../persona-windows';
import { HARNESS_PATH } from '../../harness/location.mjs';

const SAE = 'models/voices/sae/blocks.1.hook_resid_post';

// The q4 graph only: the one the app's lab runs. The fp32 graph is nearer the recipe's PyTorch and met the same bound
// (cosine ≥ 0.99) when it was tested here too; the runtime's fp32 goldens are checked in runtime-voices.
for (const onnxFile of ['onnx/model_q4.onnx']) {
  test(`persona vector per voice matches personas.json (${onnxFile})`, async ({ page }) => {
    test.skip(!existsSync(`${SAE}/personas.json`), 'the full Voices model is not built');
    test.setTimeout(1_800_000);
    const windows = personaWindows();
    const personas = JSON.parse(readFileSync(`${SAE}/personas.json`, 'utf8')).personas as { id: string; vector: number[] }[];
    await page.goto(HARNESS_PATH);
    await page.waitForFunction(() => (window as any).harness?.lab !== undefined);
    const got = await page.evaluate(
      ([f, s, o, v]) => (window as any).harness.lab.personaVectors(f, s, o, v, 'wasm'),
      ['/models/voices/', `/${SAE}/`, onnxFile, windows.voices] as const,
    );
    const cosines: Record<string, number> = {};
    for (const p of personas) cosines[p.id] = cosine(got[p.id].vector, p.vector);
    console.log(`${onnxFile} (WASM): cosine with personas.json per voice ${JSON.stringify(cosines)}; |v|/typical ${JSON.stringify(Object.fromEntries(Object.entries(got).map(([k, v]: [string, any]) => [k, +(v.norm / v.typicalNorm).toFixed(3)])))}`);
    for (const p of personas) expect(cosines[p.id], p.id).toBeGreaterThanOrEqual(0.99);
  });
}
