/**
 * docs/reference/cli.md: every npm script of package.json; for the project's commands (the scripts
 * that run `launch.mjs <command>`) the text `--help` prints, run as a process the way the script
 * runs it (the compiled bundle next to this code, or the TypeScript source under tsx).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { code, fence, generatedPage, listItem, wrap, type Page } from './markdown.js';

export interface Script {
  name: string;
  command: string;
  /** The project's command it runs (`launch.mjs <command>`), if it is one. */
  entry?: string;
}

export function npmScripts(root: string): Script[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return Object.entries(pkg.scripts ?? {}).map(([name, command]) => {
    const m = /launch\.mjs\s+([\w-]+)\s*$/.exec(command);
    return { name, command, ...(m ? { entry: m[1] } : {}) };
  });
}

/** `<command> --help` as a process: the bundle beside this code when it runs compiled, else the source under tsx. */
export function helpText(root: string, command: string): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const bundle = join(dirname(here), `${command}.js`);
  const compiled = !here.endsWith('.ts') && existsSync(bundle);
  const args = compiled ? [bundle, '--help'] : ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href, join(root, 'generators', 'cli', `${command}.ts`), '--help'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(`${command} --help exited ${status}: ${err.trim()}`))));
  });
}

export function cliPage(scripts: readonly Script[], helps: ReadonlyMap<string, string>): Page {
  const body: string[] = [];
  const commands = scripts.filter((s) => s.entry);
  const others = scripts.filter((s) => !s.entry);
  for (const s of commands) {
    body.push(`## npm run ${s.name}`, '');
    body.push(...fence('text', helps.get(s.entry!)!.trimEnd()), '');
  }
  body.push('## Other scripts', '');
  for (const s of others) body.push(...listItem(`${code(`npm run ${s.name}`)}: ${code(s.command)}`));
  body.push('');
  const intro = [
    ...wrap(
      'The commands are npm scripts. Each runs `node generators/build/launch.mjs <command>`, which rebuilds the bundles ' +
        'in `dist/` when a source changed, then runs the command. Arguments go after `--` (`npm run synth -- --env prod`). ' +
        'Below, each command\'s `--help`, as it prints it.',
    ),
    '',
    ...wrap('Exit codes: 0 ok, 1 findings (check, validate), 2 invalid input or usage, 3 an external failure (AWS, or another run holding `rendered/`), 70 an internal error.'),
  ];
  return generatedPage('docs/reference/cli.md', 'Commands', intro, body);
}
