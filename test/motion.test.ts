/**
 * The first-sync simulator (generators/validate/motion/): the rendered examples converge under their
 * engine; the rendered tree edited to reintroduce each defect of issue 19 (test/fixtures/motion-bad/)
 * fails with the chain; containment (what one failing unit blocks) and the graph's must-shows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRenderedDir } from '../generators/diff/sources.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkMotion, failureBlocks, motionOf, type MotionReport } from '../generators/validate/motion/index.js';
import { upstreamOf } from '../generators/validate/motion/simulate.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import type { EnvironmentModel } from '../generators/model/types.js';
import { cli, FIXTURES, prepareExample, renderedExamples } from './helpers.js';

const BAD = join(FIXTURES, 'motion-bad');
const models = new Map<string, EnvironmentModel>();
const modelOf = (env: string): EnvironmentModel => {
  if (!models.has(env)) models.set(env, prepareExample(env).prepared!.model);
  return models.get(env)!;
};
const files = (): Map<string, string> => readRenderedDir(renderedExamples());

function report(env: string, edit: (f: Map<string, string>) => void = () => {}): MotionReport {
  const f = files();
  edit(f);
  return motionOf(parseRenderedTree(f), env, modelOf(env))!;
}

interface BadCase {
  env: string;
  edits: { file: string; replace: string; with: string }[];
  expect: { rule: string; message: string }[];
}

describe('first-sync simulator', () => {
  it('every rendered example converges under its engine: no motion error', () => {
    const envs = ['dev', 'dev-k3s', 'prod', 'staging', 'staging-k3s'];
    const tree = parseRenderedTree(files());
    const errors = checkMotion(tree, envs.map(modelOf)).filter((d) => d.severity === 'error');
    expect(errors.map(formatDiagnostic)).toStrictEqual([]);
    // Each example is judged by an engine: the simulator ran.
    for (const env of envs) expect(motionOf(tree, env, modelOf(env))?.units.length).toBeGreaterThan(5);
  });

  /** Each fixture edits the rendered examples in one place and must produce its findings. */
  for (const file of readdirSync(BAD).filter((f) => f.endsWith('.yaml'))) {
    it(`reintroduced defect: ${file}`, () => {
      const c = parse(readFileSync(join(BAD, file), 'utf8')) as BadCase;
      const r = report(c.env, (f) => {
        for (const e of c.edits) {
          const text = f.get(e.file);
          expect(text, e.file).toContain(e.replace);
          f.set(e.file, text!.replace(e.replace, e.with));
        }
      });
      const found = r.findings.map((d) => ({ rule: d.rule, message: d.message }));
      for (const x of c.expect) expect(found.filter((d) => d.rule === x.rule && d.message.startsWith(x.message)), `${x.rule}: ${x.message}\n${found.map((d) => `${d.rule}: ${d.message}`).join('\n')}`).not.toHaveLength(0);
      // Nothing the fixture does not expect is an error of another rule.
      const rules = new Set(c.expect.map((x) => x.rule));
      expect(r.findings.filter((d) => d.severity === 'error' && !rules.has(d.rule)).map(formatDiagnostic)).toStrictEqual([]);
    });
  }

  it('staging-k3s: Grafana\'s admin ExternalSecret does not wait for the chart; monitoring waits for nothing GPU; cert-manager, ESO and the EBS driver not for the operator', () => {
    const r = report('staging-k3s');
    const up = upstreamOf(r.units);
    const unitOf = (label: string): string => r.units.find((u) => u.phases.flat().some((i) => i.label.startsWith(label)))!.id;
    const grafana = unitOf('ExternalSecret monitoring/grafana-admin');
    const chart = unitOf('HelmRelease flux-system/kube-prometheus-stack');
    expect(grafana).not.toBe(chart);
    expect([...up.get(grafana)!]).not.toContain(chart);
    expect([...up.get(chart)!].filter((u) => u.includes('nvidia'))).toStrictEqual([]);
    for (const u of ['cert-manager', 'external-secrets', 'aws-ebs-csi-driver']) expect([...up.get(u)!].filter((x) => x.startsWith('flux-operator'))).toStrictEqual([]);
  });

  it('containment: a failing unit blocks only the units that need it', () => {
    const r = report('staging-k3s');
    // A GPU node without drivers: the device plugin never becomes Ready; nothing else waits for it.
    expect(failureBlocks(r, 'nvidia-device-plugin')).toStrictEqual([]);
    // An unreachable SSM: the store fails; what reads Secrets through it is blocked, nothing else.
    expect(failureBlocks(r, 'external-secrets-manifests')).toStrictEqual(['flux-operator-manifests', 'kube-prometheus-stack', 'kube-prometheus-stack-prerequisites']);
    // Every unit with no need on the failed one is still applied (no containment finding on the examples).
    expect(r.findings.filter((d) => d.rule === 'motion.containment')).toStrictEqual([]);
  });

  it('the simulator reads the rendered tree, not the model: an edited tree is judged as edited', () => {
    const before = report('staging-k3s').units.find((u) => u.id === 'metrics-server')!.gates.map((g) => g.id);
    const after = report('staging-k3s', (f) => {
      const p = 'staging-k3s/flux/kustomizations/metrics-server.yaml';
      f.set(p, f.get(p)!.replace('    - name: aws-load-balancer-controller\n', '    - name: aws-load-balancer-controller\n    - name: cert-manager\n'));
    }).units.find((u) => u.id === 'metrics-server')!.gates.map((g) => g.id);
    expect(after).toStrictEqual([...before, 'cert-manager']);
  });

  it('validate --env dev (a hub) reads the fleet files of the environments it manages without selecting them', () => {
    const r = cli('validate', renderedExamples(), '--env', 'dev');
    expect(r.stdout).not.toContain('matches no file in the rendered tree');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
