import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvironmentSources } from '../generators/load/loader.js';
import { prepareEnvironment, renderEnvironment, type PrepareResult } from '../generators/pipeline.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';

export const ROOT = join(import.meta.dirname, '..');
export const FIXTURES = join(import.meta.dirname, 'fixtures');
export const SHARED = join(ROOT, '..', 'shared');

/** The project's real environments/ (with bases and locks). */
export const realSources = (): Map<string, string> => readEnvironmentSources(ROOT);

/**
 * Sources for a fixture environment: the fixture file as environments/<stem>.yaml, next to the
 * fixtures' own _base.yaml and lock files.
 */
export function fixtureSources(dir: 'valid' | 'invalid', file: string): { name: string; sources: Map<string, string> } {
  const name = file.replace(/\.yaml$/, '');
  const sources = new Map<string, string>();
  for (const f of readdirSync(FIXTURES)) {
    if (f.endsWith('.yaml') || f.endsWith('.json')) sources.set(`environments/${f}`, readFileSync(join(FIXTURES, f), 'utf8'));
  }
  const text = readFileSync(join(FIXTURES, dir, file), 'utf8');
  sources.set(`environments/${name}.yaml`, text);
  // A fixture may bring its own lock (<name>.ssm.lock.json next to it); otherwise it shares _fixture's.
  const own = join(FIXTURES, dir, `${name}.ssm.lock.json`);
  const lock = existsSync(own) ? readFileSync(own, 'utf8') : sources.get('environments/_fixture.ssm.lock.json');
  if (lock) sources.set(`environments/${name}.ssm.lock.json`, lock);
  return { name, sources };
}

/** `# expect: …` lines at the top of an invalid fixture. */
export function expectations(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => l.slice('# expect: '.length).trim());
}

export function formatted(r: PrepareResult): string[] {
  return r.diagnostics.map(formatDiagnostic);
}

export function prepareReal(name: string): PrepareResult {
  return prepareEnvironment(name, realSources());
}

export function renderReal(name: string) {
  const r = prepareReal(name);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
}
