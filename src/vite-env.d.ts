/// <reference types="vite/client" />
declare module '*.svelte' {
  import type { Component } from 'svelte';
  const component: Component<any>;
  export default component;
}
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}

/** `discover.html` when the guided replication page is part of the build, else null (vite.config.ts `define`). */
declare const __DISCOVER_PAGE__: string | null;
