/**
 * `node generators/build/launch.mjs <command> [args]`: what the npm scripts run. Rebuilds dist/ when
 * any source changed since the last build (generators/build/build.mjs; content hashes, about 15 ms
 * to check), then runs dist/<command>.js in this process with the remaining arguments.
 */
import { pathToFileURL } from 'node:url';
import { ensureBuilt, entries, ROOT } from './build.mjs';
import { enableCompileCache } from './compile-cache.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command || !entries().includes(command)) {
  process.stderr.write(`usage: node generators/build/launch.mjs <command> [args]; commands: ${entries().join(', ')}\n`);
  process.exit(2);
}
let entry;
const started = performance.now();
try {
  entry = await ensureBuilt(command);
} catch (e) {
  // The command's summary line still ends the run (as generators/cli/common.ts run() prints it).
  process.stderr.write(`build failed: ${e.message}\n${command}: failed (exit 70): the build failed (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  process.exit(70);
}
// V8's code cache for the bundle and its threads (Node >= 22.8; compile-cache.mjs).
enableCompileCache(ROOT);
// The bundle checks process.argv[1] to know it is the command being run.
process.argv = [process.argv[0], entry, ...args];
await import(pathToFileURL(entry).href);
