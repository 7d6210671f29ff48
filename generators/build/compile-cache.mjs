/**
 * V8's code cache for the commands, on Node >= 22.8 (`module.enableCompileCache`; Node 20 has none,
 * and nothing changes there): a command's bundle, its vendored packages and its render workers are
 * compiled from an on-disk cache instead of from source. Facts from the Node docs (doc/api/module.md,
 * "Module compile cache" and `module.enableCompileCache`): entries are keyed by the file's path with
 * its content checked, so a rebuilt bundle replaces its entry and another Node version uses another
 * folder; the method affects the calling thread only, and worker threads inherit the cache through
 * `process.env.NODE_COMPILE_CACHE`, so the folder is set there first; `NODE_DISABLE_COMPILE_CACHE`
 * turns it off; the method never throws (a folder that cannot be written leaves the cache off).
 * The folder is node_modules/.cache/odp-gitops/v8 (`npm ci` clears it) unless the user set one.
 * Measured in docs/concepts/performance.md ("Fifth pass").
 */
import module from 'node:module';
import { join } from 'node:path';

/** The folder the cache goes to, or undefined where Node has no such cache or the user turned it off. */
export function compileCacheDir(root, env = process.env, nodeModule = module) {
  if (typeof nodeModule.enableCompileCache !== 'function' || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  return env.NODE_COMPILE_CACHE || join(root, 'node_modules', '.cache', 'odp-gitops', 'v8');
}

/** Turns the cache on for this thread and, through the environment, for the threads it starts. */
export function enableCompileCache(root) {
  const dir = compileCacheDir(root);
  if (dir === undefined) return undefined;
  process.env.NODE_COMPILE_CACHE = dir;
  module.enableCompileCache();
  return dir;
}
