/**
 * Running rendered shell against the argocd stub (./argocd-stub.mjs): `argocd` and `kubectl` on PATH are the stub, over
 * a world file it rewrites after each call; every call is logged.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlStream } from '../../generators/lib/yaml.js';

const STUB = join(dirname(fileURLToPath(import.meta.url)), 'argocd-stub.mjs');

/** The objects of rendered apps/ and argocd/ files as the stub's world lists them (group, kind, name, namespace, sync-wave, labels). */
export function stubObjects(files: readonly { path: string; content: string }[]) {
  return files
    .filter((f) => /^(apps|argocd)\/[^/]+\.yaml$/.test(f.path))
    .flatMap((f) => parseYamlStream(f.content) as any[])
    .filter((x) => x?.kind)
    .map((x) => ({ group: x.apiVersion.includes('/') ? x.apiVersion.split('/')[0] : '', kind: x.kind, name: x.metadata.name, namespace: x.metadata.namespace ?? '', wave: Number(x.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0), labels: x.metadata.labels }));
}

/** `sh [shellFlags] -c script` with the stub on PATH: exit status, output, the calls made and the world after them. */
export function runWithArgocdStub<W>(script: string, world: W, shellFlags: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'odp-argocd-'));
  for (const tool of ['argocd', 'kubectl']) {
    writeFileSync(join(dir, tool), `#!/bin/sh\nexec node ${JSON.stringify(STUB)} ${tool} "$@"\n`);
    chmodSync(join(dir, tool), 0o755);
  }
  writeFileSync(join(dir, 'world.json'), JSON.stringify(world));
  const r = spawnSync('sh', [...shellFlags, '-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ARGOCD_STUB_WORLD: join(dir, 'world.json'), ARGOCD_STUB_LOG: join(dir, 'log') } });
  let log: string[] = [];
  try {
    log = readFileSync(join(dir, 'log'), 'utf8').split('\n').filter(Boolean);
  } catch {
    /* no call made */
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, log, world: JSON.parse(readFileSync(join(dir, 'world.json'), 'utf8')) as W };
}
