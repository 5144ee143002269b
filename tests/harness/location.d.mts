/** Path of the harness page on the Vite dev server, relative to the server's root (no leading slash). */
export declare const HARNESS_PATH: string;
