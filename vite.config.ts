/// <reference types="vitest/config" />
// Vite config: one page, index.html, whose entry (src/main.ts) imports the view its URL asks for: the playground, the
// embed widget (`?embed`) or Discover, each a chunk of its own. public/embed.html only forwards old embed links there.
// The test/bench harness (tests/harness/index.html) is served by the dev server only, so the static build ships
// neither test code nor transformers.js.
// Model folders live in top-level `models/` (Hugging Face layout); they are served at `<base>models/` in dev and
// preview, and copied into the build so the static folder is self-contained.
import { defineConfig, type Plugin } from 'vite';
/// <reference types="vitest/config" />
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createReadStream, existsSync, statSync, cpSync, readFileSync } from 'node:fs';
import { resolve, join, normalize, extname, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const MODELS_DIR = resolve(ROOT, 'models');
/**
 * Model folders shipped with the app (the recipe's sources and caches are not): `voices` and the fine-tuned variant
 * folders its variants.json names (the persona lab's pairs, siblings such as `voices-hacker-ft`). Read at config
 * time; without the file just `voices`. Throws when the file is not JSON or names a folder outside models/.
 */
export function shippedModels(modelsDir: string = MODELS_DIR): string[] {
  const file = join(modelsDir, 'voices', 'variants.json');
  if (!existsSync(file)) return ['voices'];
  let manifest: { variants?: { folder?: unknown }[] };
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: expected JSON (voices-variants/1), found a parse error: ${(e as Error).message}`);
  }
  const names = ['voices'];
  for (const v of manifest.variants ?? []) {
    if (typeof v.folder !== 'string') continue;
    const rel = relative(modelsDir, resolve(modelsDir, 'voices', v.folder));
    if (rel === '' || rel.startsWith('..') || rel.includes(sep))
      throw new Error(`${file}: expected variant folders that are siblings of models/voices, found "${v.folder}"`);
    if (!names.includes(rel)) names.push(rel);
  }
  return names;
}
const SHIPPED_MODELS = shippedModels();
const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.md': 'text/markdown',
};

/**
 * Content-Security-Policy of the built page (playground and embed widget alike), as a `<meta http-equiv>` tag so
 * that it holds on any static server (public/embed.html, the old embed address's forwarder, has its own). No inline
 * script and no `eval`; `'wasm-unsafe-eval'` lets onnxruntime-web compile its WebAssembly. `connect-src` stays open
 * to http(s): people load model and SAE folders from any URL or hub they type. Inline styles are allowed (Svelte's
 * style bindings); `frame-ancestors` cannot be set from a meta tag, and the embed view is meant to be framed anyway.
 * Only the build gets it: the dev server injects styles and its HMR client inline.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' https: http: blob: data:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY },
          injectTo: 'head-prepend',
        },
      ],
    },
  };
}

/**
 * Dev and preview serve every file under models/ at `<base>models/...` (the base folder, its variant siblings such as
 * models/voices-hacker-ft/, and the local smoke folders), so the persona lab's pairs load there without a copy.
 */
function serveModels(): Plugin {
  const middleware = (req: any, res: any, next: () => void) => {
    const url: string = req.url ?? '';
    const m = url.match(/^(?:.*?)\/models\/([^?#]*)/);
    if (!m) return next();
    const rel = normalize(decodeURIComponent(m[1]));
    if (rel.startsWith('..')) return next();
    const file = join(MODELS_DIR, rel);
    if (!existsSync(file) || !statSync(file).isFile()) return next();
    res.setHeader('Content-Type', MIME[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', statSync(file).size);
    createReadStream(file).pipe(res);
  };
  return {
    name: 'serve-models',
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
}

/**
 * Copies the shipped model folders into the build's output folder. `apply: 'build'` keeps it out of the dev
 * server and out of Vitest (which runs Vite in serve mode with a placeholder outDir and would otherwise write a
 * copy of the models into the working tree).
 */
function copyShippedModels(): Plugin {
  let outDir = resolve(ROOT, 'dist');
  return {
    name: 'copy-shipped-models',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      for (const name of SHIPPED_MODELS) {
        const src = join(MODELS_DIR, name);
        if (!existsSync(src)) continue;
        cpSync(src, join(outDir, 'models', name), {
          recursive: true,
          filter: (p) => !p.includes('/.cache') && !p.endsWith('.pyc'),
        });
      }
    },
  };
}

/** The view modules src/main.ts imports on demand, by the name their chunk gets (`assets/view-<name>-<hash>.js`). */
const VIEW_CHUNKS: Record<string, string> = {
  'src/playground.ts': 'playground',
  'src/embed.ts': 'embed',
  'src/components/discover/start.ts': 'discover',
};

/**
 * File names of the build's chunks: a view's chunk is `assets/view-<name>-<hash>.js`, so a test can tell from the
 * requests which views a page fetched (the worker's own `playground` chunk, src/lib/engine/playground.ts, is another
 * file); every other chunk keeps Vite's default name.
 */
function viewChunkFileName(chunk: { facadeModuleId?: string | null }): string {
  const id = chunk.facadeModuleId ? relative(ROOT, chunk.facadeModuleId).split(sep).join('/') : '';
  const view = VIEW_CHUNKS[id];
  return view ? `assets/view-${view}-[hash].js` : 'assets/[name]-[hash].js';
}

export default defineConfig({
  base: './',
  plugins: [svelte(), serveModels(), copyShippedModels(), contentSecurityPolicy()],
  worker: { format: 'es' },
  // The tokenizer packages are imported only from the engine's worker, which the dev server's first scan of
  // index.html does not reach: found during the first visit, they were optimised then ("dependencies optimized" in the
  // log mid-load of a newcomer's first `npm start`). Listing them optimises them at start-up.
  optimizeDeps: { exclude: ['onnxruntime-web'], include: ['@huggingface/tokenizers', '@huggingface/jinja'] },
  build: {
    target: 'es2022',
    // The views (playground, embed widget, Discover) are lazy chunks of index.html; every browser the app runs in
    // (es2022, WebAssembly) has <link rel=modulepreload>, so Vite's polyfill for it would only add bytes.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2048,
    rollupOptions: {
      // The app only: the harness page and public/embed.html (copied as it is) are not inputs.
      input: { main: resolve(ROOT, 'index.html') },
      output: { chunkFileNames: viewChunkFileName },
    },
  },
  server: { port: 5173, strictPort: true },
  preview: { port: 4173, strictPort: true },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
