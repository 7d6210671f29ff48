/**
 * The plan orders IAM roles the AWS base stack adds or removes against the merge (generators/upgrade-plan/roles.ts),
 * read off two rendered trees: fixtures plan-roles/base.yaml (namespace qa with a secret) and plan-roles/head.yaml
 * (qa and shop). ESO's behaviour in the window (a store whose role cannot be assumed is not Ready, its
 * ExternalSecrets stop refreshing, their Secrets stay) is cited in roles.ts (external-secrets v2.9.0
 * pkg/controllers/secretstore/common.go:183-201, pkg/controllers/externalsecret/externalsecret_controller.go:417-421).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { formatPlan, upgradePlan } from '../generators/upgrade-plan/plan.js';
import { planSummaries } from '../generators/upgrade-plan/review.js';
import { referencedRoles, roleChanges, stackRoles } from '../generators/upgrade-plan/roles.js';
import { resolveEnvironment } from '../generators/load/loader.js';
import { cli, EXAMPLES, FIXTURES, fixtureSources, renderExample } from './helpers.js';

const BASE = readFileSync(join(FIXTURES, 'plan-roles', 'base.yaml'), 'utf8');
const HEAD = readFileSync(join(FIXTURES, 'plan-roles', 'head.yaml'), 'utf8');
const IRSA = 'aws:\n  iam: { mode: irsa, issuerURL: https://oidc.fixture.example/irsa }\n';

const sourcesOf = (text: string) => {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set('environments/roles.yaml', text);
  return sources;
};
/** The environment's rendered tree, paths `roles/…` as rendered/ holds them. */
const tree = (text: string): Map<string, string> => {
  const r = prepareEnvironment('roles', sourcesOf(text));
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
  return new Map(renderEnvironment(r.prepared!).map((f) => [`roles/${f.path}`, f.content]));
};
const plan = (from: string, to: string) => {
  const head = prepareEnvironment('roles', sourcesOf(to)).prepared!;
  const base = resolveEnvironment('roles', sourcesOf(from)).env!.data;
  return upgradePlan(base, head.model, head.data, undefined, undefined, roleChanges('roles', tree(from), tree(to)));
};

describe('roles read off the rendered trees', () => {
  it('the base stack creates each store role; the store names it', () => {
    const t = tree(HEAD);
    expect([...stackRoles('roles', t)].filter((r) => r.includes('external-secrets'))).toStrictEqual(['odp-roles-external-secrets-monitoring', 'odp-roles-external-secrets-qa', 'odp-roles-external-secrets-shop']);
    expect(referencedRoles('roles', t).get('odp-roles-external-secrets-shop')).toStrictEqual(['roles/manifests/external-secrets-store-shop/clustersecretstore-aws-ssm-parameter-store-shop.yaml']);
  });

  it('no role added or removed: no ordering step', () => {
    expect(roleChanges('roles', tree(BASE), tree(BASE))).toStrictEqual({ added: [], removed: [] });
    expect(plan(BASE, BASE).steps).toStrictEqual([]);
  });
});

describe('the safe order between the AWS base stack and the merge', () => {
  it('a role added: the stack first, then merge (the first step)', () => {
    const p = plan(BASE, HEAD);
    expect(p.steps[0]).toMatchObject({ title: 'before merging: update the AWS base stack, which creates IAM role odp-roles-external-secrets-shop', gate: 'AWS base stack first', verdict: 'caution' });
    expect(p.steps[0]!.reason).toContain('odp-roles-external-secrets-shop (manifests/external-secrets-store-shop/clustersecretstore-aws-ssm-parameter-store-shop.yaml)');
    expect(p.steps[0]!.reason).toContain('sh rendered/roles/aws/deploy.sh base');
    expect(p.steps[0]!.reason).toContain('not Ready (InvalidProviderConfig)');
    expect(p.steps[0]!.reason).toContain('With Git sync the stack is updated by the merge itself');
    expect(formatPlan(p)).toContain('1. before merging: update the AWS base stack');
  });

  it('a role removed: merge, wait for the sync, then the stack (the last step)', () => {
    const p = plan(HEAD, BASE);
    const last = p.steps[p.steps.length - 1]!;
    expect(last).toMatchObject({ title: 'after merging: update the AWS base stack, which deletes IAM role odp-roles-external-secrets-shop', gate: 'merge and sync first', verdict: 'caution' });
    expect(last.reason).toMatch(/Merge, wait until the engine has synced .*, then run sh rendered\/roles\/aws\/deploy\.sh base/);
    expect(last.reason).toContain('or leave the stack as it is until a later deploy (the role is then unused, not missing)');
  });

  it('a namespace renamed (a role added and one removed): no safe order, split the change', () => {
    const renamed = BASE.replace('namespace: qa', 'namespace: shop');
    const p = plan(BASE, renamed);
    expect(p.steps).toHaveLength(1);
    expect(p.steps[0]!.title).toBe('IAM role odp-roles-external-secrets-shop added and IAM role odp-roles-external-secrets-qa removed in one change');
    expect(p.steps[0]!.reason).toMatch(/^no order is safe: .*Split the change if you can/);
  });

  it('from the one shared store role to a role per namespace (the base rendered by an older generator): split or back to back', () => {
    // The base tree as the shared role rendered it: every store named odp-roles-external-secrets, the stack created it.
    const shared = new Map([...tree(BASE)].map(([path, text]) => [path, text.replace(/odp-roles-external-secrets-(qa|monitoring)\b/g, 'odp-roles-external-secrets')]));
    const c = roleChanges('roles', shared, tree(BASE));
    expect(c.removed.map((x) => x.role)).toStrictEqual(['odp-roles-external-secrets']);
    expect(c.added.map((x) => x.role)).toStrictEqual(['odp-roles-external-secrets-monitoring', 'odp-roles-external-secrets-qa']);
    const steps = upgradePlan(undefined, prepareEnvironment('roles', sourcesOf(BASE)).prepared!.model, {}, undefined, undefined, c).steps;
    expect(steps.map((x) => x.gate)).toStrictEqual(['AWS base stack and merge']);
  });

  it('IRSA: the ServiceAccount annotation names the new role; the review comment carries the step', () => {
    const from = `${BASE}${IRSA}`;
    const to = `${HEAD}${IRSA}`;
    const c = roleChanges('roles', tree(from), tree(to));
    expect(c.removed).toStrictEqual([]);
    expect(c.added.map((x) => x.role)).toStrictEqual(['odp-roles-external-secrets-shop']);
    expect(c.added[0]!.files.some((f) => /serviceaccount-ssm-reader-shop\.yaml$/.test(f))).toBe(true);
    const text = planSummaries(sourcesOf(from), sourcesOf(to), ['roles'], { base: tree(from), head: tree(to) }).join('\n');
    expect(text).toContain('⚠️ before merging: update the AWS base stack, which creates IAM role odp-roles-external-secrets-shop (AWS base stack first)');
  });
});

describe('without the base stack in the base tree', () => {
  it('nothing is known, so nothing is ordered (no tree at the base is not every role added)', () => {
    const head = tree(HEAD);
    const base = new Map([...tree(BASE)].filter(([p]) => p !== 'roles/aws/base.yaml'));
    expect(roleChanges('roles', base, head)).toStrictEqual({ added: [], removed: [] });
  });
});

describe('npm run plan', () => {
  it('reads both trees: staging gains a namespace with a secret, so the stack goes first (step 1)', () => {
    const root = mkdtempSync(join(tmpdir(), 'odp-plan-roles-'));
    cpSync(join(EXAMPLES, 'environments'), join(root, 'environments'), { recursive: true });
    for (const f of renderExample('staging')) {
      const out = join(root, 'rendered', 'staging', f.path);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, f.content);
    }
    const run = (args: string[]) => spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8' });
    run(['init', '-q', '-b', 'main']);
    run(['add', '-A']);
    expect(run(['commit', '-qm', 'base']).status).toBe(0);
    const file = join(root, 'environments', 'staging.yaml');
    const shop = '  - name: shop\n    namespace: shop\n    image: ghcr.io/opendev/shop:2.0.0\n    env: { PAYMENT_KEY: { secret: /odp/staging/shop/payment-key } }\n    resources: { requests: { cpu: 100m, memory: 128Mi } }\n';
    writeFileSync(file, readFileSync(file, 'utf8').replace('\nworkloads:\n', `\nworkloads:\n${shop}`));
    const r = cli('plan', root, '--env', 'staging', '--base', 'HEAD');
    expect(r.stderr).not.toContain('error');
    expect(r.stdout).toContain('  1. before merging: update the AWS base stack, which creates IAM role odp-staging-external-secrets-shop\n     gate: AWS base stack first — CAUTION:');
  });
});
