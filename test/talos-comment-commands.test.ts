/**
 * The Talos review comment's per-node steps (generators/distributions/talos/diff-report.ts nodeCommands, clusterCommand)
 * are the commands CLI's own invocations (runbook.ts runbookCommand), never talosctl typed into the template: every
 * `npm run -s talos -- …` the comment can show for the example environment is run here through the CLI, which must
 * print a script (exit 0), a new node's join and a removed node's remove included; one it refuses (a pool's in-place
 * upgrade, a pool's first apply) exits 2, so the check is not vacuous.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterCommand, nodeCommands } from '../generators/distributions/talos/diff-report.js';
import type { TalosImpact } from '../generators/distributions/talos/diff.js';
import { runbookCommand } from '../generators/distributions/talos/runbook.js';
import { cli, exampleRoot, prepareExample } from './helpers.js';

const ENV = 'staging';
const root = exampleRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every command the comment can show for the environment's targets: each action a changed node or pool can have. */
function shown(): string[] {
  const m = prepareExample(ENV).prepared!.model;
  const out = new Set<string>([clusterCommand(ENV)]);
  const variants = [...[['upgrade'], ['upgrade', 'reboot'], ['reboot'], ['no-reboot'], ['sync-manifests']].map((actions) => ({ status: 'changed', actions })), { status: 'added', actions: [] }, { status: 'removed', actions: [] }];
  for (const t of m.configTargets)
    for (const v of variants) {
      const impact = { node: t.name, file: `talos/${t.name}.yaml`, ...(t.node ? { address: t.node.ip } : { pool: true }), controlPlane: t.pool.role === 'controlplane', kubernetes: {}, ...v } as unknown as TalosImpact;
      for (const c of nodeCommands(ENV, impact)) out.add(c);
    }
  return [...out];
}

/** The CLI arguments of a shown `npm run -s talos -- <args> | sh`. */
const argsOf = (c: string): string[] => /^npm run -s talos -- (.+) \| sh$/.exec(c)![1]!.split(' ');

describe('every CLI command the Talos review comment shows is one the commands CLI accepts', () => {
  const commands = shown();
  const runs = commands.filter((c) => c.startsWith('npm run '));
  it('the comment shows no talosctl or kubectl for a changed, new or removed node: only the CLI (and a pool\'s join note)', () => {
    // Besides the CLI: a pool's join note, and a removed fixed control plane's instance terminated before the merge (its
    // termination protection: the merge's stack update cannot terminate it): deploy.sh terminate-node.
    expect(commands.filter((c) => !c.startsWith('npm run ') && !/talos-join\.sh/.test(c) && !/^sh rendered\/staging\/aws\/deploy\.sh terminate-node /.test(c))).toStrictEqual([]);
    expect(commands.filter((c) => c.includes('terminate-node')).every((c) => / stg-cp-\d$/.test(c))).toBe(true);
    expect(commands).toContain('sh rendered/staging/aws/deploy.sh terminate-node stg-cp-3');
    expect(runs).toEqual(
      expect.arrayContaining([
        runbookCommand(ENV, 'upgrade', 'stg-cp-1'),
        runbookCommand(ENV, 'apply', 'stg-cp-1'),
        runbookCommand(ENV, 'apply', 'general-amd64'),
        runbookCommand(ENV, 'upgrade-k8s'),
        runbookCommand(ENV, 'join', 'stg-cp-2'),
        runbookCommand(ENV, 'remove', 'stg-cp-3'),
        runbookCommand(ENV, 'remove', 'general-arm64'),
      ]),
    );
    expect(runs).not.toContain(runbookCommand(ENV, 'upgrade', 'general-amd64'));
    expect(runs).not.toContain(runbookCommand(ENV, 'join', 'general-amd64'));
  });
  it.each(runs)('%s', (c) => {
    const r = cli('talos', root, ...argsOf(c));
    expect(r.stderr).not.toMatch(/usage|error/i);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('#!/bin/sh\n')).toBe(true);
  }, 120_000);
  it('a command the CLI refuses exits 2 (a pool is never upgraded in place)', () => {
    const r = cli('talos', root, ...argsOf(runbookCommand(ENV, 'upgrade', 'general-amd64')));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('general-amd64 is an auto-scaled pool');
  }, 120_000);
  it('the CLI refuses a pool\'s first apply (its instances join by talos-join.sh) and a node script without --node', () => {
    const pool = cli('talos', root, ...argsOf(runbookCommand(ENV, 'join', 'general-amd64')));
    expect(pool.code).toBe(2);
    expect(pool.stderr).toContain('general-amd64 is an auto-scaled pool: its instances join by sh rendered/staging/aws/talos-join.sh general-amd64');
    const bare = cli('talos', root, 'commands', '--env', ENV, 'remove');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('the remove script is for one node: --node is required');
  }, 120_000);
});
