// Which view index.html shows, read from its query string: the full playground, or the embeddable widget
// (`?embed`, the address the "Embed" snippets give). Both are chunks of their own that the page's entry imports
// on demand, so the widget never downloads the playground's UI and the playground never downloads the widget.
// `?discover=<n>` (Discover, the guided replication) is a third chunk, shown inside either view's frame.

/** What index.html shows: the playground (the default) or the compact embed widget. */
export type PageMode = 'embed' | 'playground';

/** The query key that turns index.html into the embed widget; its presence is what counts (`?embed&v=1&…`). */
export const EMBED_KEY = 'embed';

/** The query key that turns index.html into Discover (`?discover=<n>`; with `embed`, one step on its own). */
export const DISCOVER_KEY = 'discover';

function params(search: string | URLSearchParams): URLSearchParams {
  return typeof search === 'string' ? new URLSearchParams(search) : search;
}

/**
 * The view a query string asks for: 'embed' when it carries the `embed` key, whatever its value (`?embed`,
 * `?embed=1`, `?v=1&embed`), else 'playground'.
 */
export function pageMode(search: string | URLSearchParams): PageMode {
  return params(search).has(EMBED_KEY) ? 'embed' : 'playground';
}

/** True when the query string asks for Discover (`discover` present, in either view). */
export function isDiscover(search: string | URLSearchParams): boolean {
  return params(search).has(DISCOVER_KEY);
}

/**
 * The embed view's address under the app's folder: `index.html?embed` followed by `query` (an encoded experiment
 * without its leading `?`, possibly with a `#fragment`), e.g. `https://x.org/app/index.html?embed&v=1&p=a`.
 */
export function embedPageUrl(appBase: string, query: string): string {
  const page = new URL('index.html', appBase).href;
  return `${page}?${EMBED_KEY}${query ? `&${query}` : ''}`;
}

/** `search` without the `embed` key (`?…`, or '' when nothing is left): the same address in the full page. */
export function withoutEmbed(search: string): string {
  const p = new URLSearchParams(search);
  p.delete(EMBED_KEY);
  const q = p.toString();
  return q ? `?${q}` : '';
}
