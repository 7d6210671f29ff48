/**
 * Issue 21, must show: "The markdown diff of an instance-type change shows a cost delta computed from
 * the lock." The review comment's lead gets a "Monthly cost" section priced from each side's own
 * lock (cost/review.ts): a golden of the lead, a missing price said as such, and npm run diff
 * against a git revision on a scratch repository.
 *
 * Every price here is a FIXTURE (test/support/price-fixtures.ts), not AWS's.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { costItems, costLeadSection, costOf } from '../generators/cost/review.js';
import { diffTrees } from '../generators/diff/diff.js';
import { formatMarkdown, formatText } from '../generators/diff/format.js';
import { envContext } from '../generators/diff/sources.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import type { PriceLock } from '../generators/load/price-lock.js';
import { inlineSources } from './support/inline-env.js';
import { fixturePriceLock, withPrices } from './support/price-fixtures.js';
import { cli, EXAMPLES } from './helpers.js';

const POOLS = (workerType: string, workers: number) => `nodePools:
  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }
  - { name: general-amd64, role: worker, arch: amd64, instanceType: ${workerType}, subnet: private-a, count: ${workers} }
`;

/** The environment `cost` with `body` and `prices` in its lock: its sources and rendered files. */
function side(body: string, prices: PriceLock | undefined) {
  const sources = inlineSources('cost', body);
  sources.set('environments/cost.ssm.lock.json', withPrices(sources.get('environments/cost.ssm.lock.json')!, prices));
  const r = prepareEnvironment('cost', sources);
  if (!r.prepared) throw new Error(JSON.stringify(r.diagnostics));
  return { sources, files: new Map(renderEnvironment(r.prepared).map((f) => [`cost/${f.path}`, f.content])), context: new Map([['cost', envContext(r.prepared.model)]]) };
}

const ctx = { base: 'main', head: 'HEAD' };
const leadOf = (text: string): string => {
  const start = text.indexOf('#### What changes in the cluster');
  return text.slice(start, text.indexOf('\n#### ', start + 5) + 1);
};
const costOfLead = (lead: string): string => lead.slice(lead.indexOf('**Monthly cost (on-demand)**'));

describe('the markdown diff of an instance-type change shows a cost delta computed from the lock', () => {
  const prices = fixturePriceLock('eu-west-1');
  const base = side(POOLS('m7i.xlarge', 4), prices);
  const head = side(POOLS('m7i.2xlarge', 4), prices);
  const d = diffTrees(base.files, head.files, head.context);
  const text = formatMarkdown(d, { ...ctx, leadSections: [costLeadSection(base.sources, head.sources)] });

  it('golden: the lead', async () => {
    await expect(leadOf(text)).toMatchFileSnapshot('fixtures/diff-golden/instance-type-cost.md');
  });

  it('one line per pool whose cost changes, then the total: 4 × ($0.40 − $0.20)/h × 730 h = +$584', () => {
    const lines = costOfLead(leadOf(text)).split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toStrictEqual(['- **+$584/month**: general-amd64 `m7i.xlarge` → `m7i.2xlarge` × 4', '- total: $697 → $1,281/month (+$584)']);
  });

  it('the text report carries the same section', () => {
    const t = formatText(d, { ...ctx, leadSections: [costLeadSection(base.sources, head.sources)] });
    expect(t).toContain('+$584/month: general-amd64 m7i.xlarge → m7i.2xlarge × 4');
  });

  it('a price missing from one side\u2019s lock: no delta, and the line says which lock lacks it', () => {
    const partial = side(POOLS('m7i.2xlarge', 4), fixturePriceLock('eu-west-1', ['m7i.large', 'm7i.xlarge']));
    const md = formatMarkdown(diffTrees(base.files, partial.files, partial.context), { ...ctx, leadSections: [costLeadSection(base.sources, partial.sources)] });
    const lines = costOfLead(leadOf(md)).split('\n').filter((l) => l.startsWith('- '));
    expect(lines).toStrictEqual([
      "- general-amd64 `m7i.xlarge` → `m7i.2xlarge` × 4: cost not known, no price locked for m7i.2xlarge in this change's lock (run `npm run synth -- --env cost --refresh-ssm`)",
      '- total: not known: a price is missing on one side',
    ]);
  });

  it('sizes, new pools and a refreshed price each get their line; an unchanged pool none', () => {
    const s = { code: (x: string) => `\`${x}\``, bold: (x: string) => `**${x}**`, text: (x: string) => x };
    const before = costOf('cost', base.sources)!;
    const bigger = costOf('cost', side(`${POOLS('m7i.xlarge', 6)}  - { name: extra, role: worker, arch: amd64, instanceType: m7i.large, subnet: private-a, count: 1 }\n`, prices).sources)!;
    expect(costItems('cost', before, bigger, s).map((i) => i.text)).toStrictEqual([
      '**+$81/month**: extra `m7i.large` × 1 (new pool)',
      '**+$308/month**: general-amd64 `m7i.xlarge` × 4 → × 6',
      'total: $697 → $1,086/month (+$389)',
    ]);
    const dearer = costOf('cost', side(POOLS('m7i.xlarge', 4), fixturePriceLock('eu-west-1', undefined, { 'm7i.large': '0.1000000000', 'm7i.xlarge': '0.2500000000', 'm7i.2xlarge': '0.4', 'm7g.xlarge': '0.16' })).sources)!;
    expect(costItems('cost', before, dearer, s).map((i) => i.text)).toStrictEqual(['**+$146/month**: general-amd64 `m7i.xlarge` × 4 (locked price $0.2/h → $0.25/h)', 'total: $697 → $843/month (+$146)']);
    expect(costItems('cost', before, before, s)).toStrictEqual([]);
  });
});

function git(root: string, args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

describe('npm run diff --base REF --format markdown', () => {
  it('prices the base from the lock at the revision and the head from the working tree', () => {
    const root = mkdtempSync(join(tmpdir(), 'odp-cost-diff-'));
    cpSync(join(EXAMPLES, 'environments'), join(root, 'environments'), { recursive: true });
    const lock = join(root, 'environments', 'staging.ssm.lock.json');
    writeFileSync(lock, withPrices(readFileSync(lock, 'utf8'), fixturePriceLock('eu-west-1')));
    git(root, ['init', '-q', '-b', 'main']);
    git(root, ['add', '-A']);
    git(root, ['commit', '-qm', 'base']);
    const file = join(root, 'environments', 'staging.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('instanceType: m7i.xlarge', 'instanceType: m7i.2xlarge'));
    const r = cli('diff', root, '--base', 'HEAD', '--format', 'markdown', '--env', 'staging');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('- **+$292/month**: general-amd64 `m7i.xlarge` → `m7i.2xlarge` × 2');
  });
});
