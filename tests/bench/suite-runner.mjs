// What both bench runners (run.mjs in Chromium, node/run.mjs in Node.js + Dawn) share: choosing the suites in
// tests/bench/suites/, running them in order on one harness page, and printing their rows as a table.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Runs the suites whose file name contains one of `only`'s words (all of them when `only` is undefined), in file
 * name order; each sees the results of the ones before it. Merges their values into `results` and returns their
 * table rows ([label, value, unit]). A suite exports `name` and `async run({ page, model, results, log })`.
 */
export async function runSuites(root, only, context) {
  const dir = join(root, 'tests/bench/suites');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.mjs') && (!only || only.some((w) => f.includes(w))))
    .sort();
  const rows = [];
  for (const file of files) {
    const suite = await import(pathToFileURL(join(dir, file)).href);
    console.error(`running ${suite.name ?? file} ...`);
    const out = await suite.run({ ...context, log: (m) => console.error(`  ${m}`) });
    Object.assign(context.results, out.values);
    rows.push(...out.rows);
  }
  return rows;
}

/** Prints rows as an aligned table: label, value (2 decimals when a number), unit. */
export function printRows(rows) {
  const width = Math.max(0, ...rows.map((r) => r[0].length));
  for (const [label, value, unit] of rows)
    console.log(`${label.padEnd(width)}  ${typeof value === 'number' ? value.toFixed(2).padStart(10) : String(value).padStart(10)} ${unit}`);
}
