/**
 * `node generators/build/launch.mjs <command> [args]`: what the npm scripts run. Rebuilds dist/ when
 * any source changed since the last build (generators/build/build.mjs; content hashes, about 15 ms
 * to check), then runs dist/<command>.js in this process with the remaining arguments.
 */
import { pathToFileURL } from 'node:url';
import { ensureBuilt, entries } from './build.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command || !entries().includes(command)) {
  process.stderr.write(`usage: node generators/build/launch.mjs <command> [args]; commands: ${entries().join(', ')}\n`);
  process.exit(2);
}
let entry;
try {
  entry = await ensureBuilt(command);
} catch (e) {
  process.stderr.write(`build failed: ${e.message}\n`);
  process.exit(70);
}
// The bundle checks process.argv[1] to know it is the command being run.
process.argv = [process.argv[0], entry, ...args];
await import(pathToFileURL(entry).href);
