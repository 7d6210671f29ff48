/**
 * The SSM lock: non-secret SSM String parameters an environment references with `{ ssm: /path }`,
 * committed as environments/<env>.ssm.lock.json so that synth is offline and deterministic.
 * Pure: parse, resolve, serialize. Fetching lives in ./refresh.ts.
 */
import type { DocPath } from '../lib/paths.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import type { Diagnostic } from '../validate/diagnostics.js';

export interface LockedParameter {
  value: string;
  type: 'String' | 'StringList';
  version: number;
  lastModified: string;
}

export interface SsmLock {
  version: 1;
  parameters: Record<string, LockedParameter>;
}

export const lockFile = (env: string): string => `environments/${env}.ssm.lock.json`;

export const emptyLock = (): SsmLock => ({ version: 1, parameters: {} });

export function parseLock(file: string, text: string | undefined): { lock: SsmLock; diagnostics: Diagnostic[] } {
  if (text === undefined) return { lock: emptyLock(), diagnostics: [] };
  try {
    const raw = JSON.parse(text) as Partial<SsmLock>;
    if (raw.version !== 1 || typeof raw.parameters !== 'object' || raw.parameters === null) throw new Error('expected { "version": 1, "parameters": { … } }');
    return { lock: { version: 1, parameters: raw.parameters }, diagnostics: [] };
  } catch (e) {
    return {
      lock: emptyLock(),
      diagnostics: [{ severity: 'error', rule: 'ssm.lock', file, line: 1, col: 1, path: [], message: `unreadable SSM lock: ${(e as Error).message}`, hint: 'run npm run synth -- --refresh-ssm to rewrite it' }],
    };
  }
}

/** Stable text: parameters sorted by name, two-space indent, final newline. */
export function serializeLock(lock: SsmLock): string {
  const parameters = Object.fromEntries(
    Object.keys(lock.parameters)
      .sort()
      .map((k) => {
        const p = lock.parameters[k]!;
        return [k, { value: p.value, type: p.type, version: p.version, lastModified: p.lastModified }];
      }),
  );
  return JSON.stringify({ version: 1, parameters }, null, 2) + '\n';
}

export interface SsmReference {
  name: string;
  path: DocPath;
}

const isSsmRef = (v: unknown): v is { ssm: string } =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { ssm?: unknown }).ssm === 'string';

/** Every `{ ssm: … }` in a document, with its path. */
export function findSsmReferences(data: unknown, path: (string | number)[] = []): SsmReference[] {
  if (isSsmRef(data)) return [{ name: data.ssm, path }];
  if (Array.isArray(data)) return data.flatMap((v, i) => findSsmReferences(v, [...path, i]));
  if (data !== null && typeof data === 'object') return Object.entries(data).flatMap(([k, v]) => findSsmReferences(v, [...path, k]));
  return [];
}

function replaceAt(data: unknown, fn: (v: unknown) => unknown): unknown {
  const r = fn(data);
  if (r !== data) return r;
  if (Array.isArray(data)) return data.map((v) => replaceAt(v, fn));
  if (data !== null && typeof data === 'object') return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, replaceAt(v, fn)]));
  return data;
}

/** Replace every `{ ssm: name }` with its locked value; a reference missing from the lock is a positioned error. */
export function resolveSsm(env: ResolvedEnvironment, lock: SsmLock): { data: Record<string, unknown>; diagnostics: Diagnostic[]; used: string[] } {
  const diagnostics: Diagnostic[] = [];
  for (const ref of findSsmReferences(env.data)) {
    if (lock.parameters[ref.name] === undefined) {
      const pos = locate(env, ref.path);
      diagnostics.push({
        severity: 'error',
        rule: 'ssm.unlocked',
        file: pos.file,
        line: pos.line,
        col: pos.col,
        path: ref.path,
        message: `SSM parameter ${ref.name} is not in ${lockFile(env.name)}`,
        hint: `run npm run synth -- --env ${env.name} --refresh-ssm (needs AWS credentials) and commit the lock`,
      });
    }
  }
  const used = [...new Set(findSsmReferences(env.data).map((r) => r.name))].sort();
  const data = replaceAt(env.data, (v) => (isSsmRef(v) ? (lock.parameters[v.ssm]?.value ?? `<unresolved ${v.ssm}>`) : v)) as Record<string, unknown>;
  return { data, diagnostics, used };
}
