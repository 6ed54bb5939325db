/** The V8 options keepwatch's server runs with (node-options.mjs). */
export declare const SERVER_NODE_FLAGS: readonly string[];
/** NODE_OPTIONS for a server process: the caller's own, then SERVER_NODE_FLAGS not already set there. */
export declare function serverNodeOptions(current?: string): string;
