// The page's entry: a router, kept tiny so the first load carries only what the view asks for. `?embed` shows the
// embed widget (src/embed.ts), `?discover=<n>` Discover, the guided replication (in the widget's frame when `embed`
// is there too), anything else the playground (src/playground.ts). Each is a chunk of its own, imported here on
// demand, so the widget does not download the playground's UI and the playground does not download the widget's.
import './lib/ui/theme.css';
import { isDiscover, pageMode } from './lib/ui/page-mode';

/** Says in the page that its code could not be fetched (offline before the first visit finished, a new release). */
function showLoadError(target: HTMLElement, error: unknown): void {
  console.error('The page could not load its code:', error);
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.textContent = `The page could not load its code (${error instanceof Error ? error.message : String(error)}). Reload to try again.`;
  target.replaceChildren(p);
}

/** Runs a view once its chunk has arrived; a chunk that cannot be fetched is said in the page. */
function load<T>(chunk: Promise<T>, start: (view: T) => void): void {
  chunk.then(start, (error: unknown) => showLoadError(target, error));
}

const target = document.getElementById('app')!;
const mode = pageMode(location.search);
if (isDiscover(location.search)) load(import('./components/discover/start'), (m) => m.startDiscover(target, mode === 'embed'));
else if (mode === 'embed') load(import('./embed'), (m) => m.startWidget(target));
else load(import('./playground'), (m) => m.startPlayground(target));
