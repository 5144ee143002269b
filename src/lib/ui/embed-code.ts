// The iframe snippet a blogger pastes: the embed view (`index.html?embed&…`) with the current experiment in its
// query string.
import { embedPageUrl } from './page-mode';

export interface EmbedCodeOptions {
  /** Absolute URL of the app's folder (the page's base), ending in `/`. */
  appBase: string;
  /** Encoded experiment, without the leading `?`. */
  query: string;
  height?: number;
}

/** The embed view's address for an experiment query (without its `?`): `<appBase>index.html?embed&<query>`. */
export function embedUrl(appBase: string, query: string): string {
  return embedPageUrl(appBase, query);
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function embedCode({ appBase, query, height = 560 }: EmbedCodeOptions): string {
  const src = escapeAttribute(embedUrl(appBase, query));
  return (
    `<iframe src="${src}" title="Persona Playground: steer a language model's voice" ` +
    `width="100%" height="${height}" style="border:0;max-width:720px" loading="lazy" ` +
    `allow="clipboard-write"></iframe>`
  );
}
