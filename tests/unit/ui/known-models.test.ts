// Every embedded entry of the model picker names SAEs its folder has: a wrong default SAE id only shows up as a
// "no SAE at …" error when someone picks the model, so check the entries against the folders the recipe writes.
import { existsSync, readdirSync } from 'node:fs';
import { expect, test } from 'vitest';
import { KNOWN_MODELS } from '../../../src/lib/ui/models';

const local = KNOWN_MODELS.filter((m) => m.folder.startsWith('models/') && existsSync(`${m.folder}config.json`));

test('at least the embedded Voices model is on disk', () => {
  expect(local.map((m) => m.id)).toContain('voices');
});

test.each(local.map((m) => [m.id, m] as const))('%s: each listed SAE is a folder of the model', (_id, m) => {
  const onDisk = readdirSync(`${m.folder}sae`).sort();
  for (const s of m.saes) expect(onDisk).toContain(s.id);
});
