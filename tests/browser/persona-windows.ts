// The recipe's persona windows (models/recipe/persona_windows.py): the texts personas.json's vectors were averaged
// over, rebuilt from Debian packages in about 20 s into an ignored path (generated data, not tracked).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const WINDOWS = 'models/.cache/persona-windows.json';

export function personaWindows(): { voices: { id: string; texts: string[] }[] } {
  if (!existsSync(WINDOWS)) execFileSync('python3', ['persona_windows.py'], { cwd: 'models/recipe', stdio: 'inherit' });
  return JSON.parse(readFileSync(WINDOWS, 'utf8'));
}

export function cosine(a: number[], b: number[]): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    d += x * b[i];
    na += x * x;
    nb += b[i] * b[i];
  });
  return d / Math.sqrt(na * nb);
}
