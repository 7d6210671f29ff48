/** Types of compile-cache.mjs (V8's code cache for the commands on Node >= 22.8). */
export declare function compileCacheDir(root: string, env?: NodeJS.ProcessEnv, nodeModule?: { enableCompileCache?: unknown }): string | undefined;
export declare function enableCompileCache(root: string): string | undefined;
