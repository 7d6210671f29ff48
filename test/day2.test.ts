/**
 * Day-2 overrides: a catalog chart at another version in one environment.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { deriveChartDir } from '../generators/values/derive-keys.js';
import { CHART_KEYS_DIRS } from '../generators/values/keys.js';
import { diagnosticsOf, diagnosticsOf as inlineDiagnostics, renderInline } from './support/inline-env.js';

const KPS = (version: string, values = '') => `addons:\n  kube-prometheus-stack:\n    chart: { version: ${version} }\n${values}`;

describe('addons.<name>.chart.version for a catalog add-on', () => {
  it('the Application runs that version from the catalog repository', () => {
    const { files } = renderInline('try', KPS('88.6.0'));
    const app = parseYamlStream(files.find((f) => f.path === 'apps/kube-prometheus-stack.yaml')!.content)[0] as { spec: { sources: { chart?: string; repoURL: string; targetRevision: string }[] } };
    expect(app.spec.sources.find((s) => s.chart)).toMatchObject({ chart: 'kube-prometheus-stack', repoURL: 'https://prometheus-community.github.io/helm-charts', targetRevision: '88.6.0' });
  });

  it('a version without a key table is a warning at chart.version that says how to derive one', () => {
    expect(diagnosticsOf('try', KPS('88.6.0'))).toStrictEqual([
      "environments/try.yaml:6:23  addons.kube-prometheus-stack.chart.version: warning: kube-prometheus-stack 88.6.0 has no key table: the catalog's default values and this environment's values are not checked against that version  (derive it: helm pull kube-prometheus-stack --repo https://prometheus-community.github.io/helm-charts --version 88.6.0 --untar --untardir /tmp/charts && npx tsx generators/values/derive-keys.ts --chart-dir /tmp/charts/kube-prometheus-stack, then commit schemas/charts/kube-prometheus-stack-88.6.0.keys.json)",
      // 88.6.0 (a version this test pretends) has no recorded kubeVersion either (rule addon-kube-version).
      expect.stringMatching(/^environments\/try\.yaml:6:23  addons\.kube-prometheus-stack\.chart\.version: warning: the kubeVersion of chart kube-prometheus-stack 88\.6\.0 \(add-on kube-prometheus-stack\) is not known: /),
    ]);
  });

  it('repoURL and name stay the catalog\'s; the pinned version itself is a warning', () => {
    expect(diagnosticsOf('try', 'addons:\n  kube-prometheus-stack:\n    chart: { name: other }\n')).toStrictEqual([
      "environments/try.yaml:6:14  addons.kube-prometheus-stack.chart.name: 'kube-prometheus-stack' is a catalog add-on: its chart name is pinned by the catalog (kube-prometheus-stack); only chart.version may be set per environment  (remove chart.name, or give the add-on another name to install a third-party chart)",
    ]);
    expect(diagnosticsOf('try', KPS('88.5.3'))).toStrictEqual([
      "environments/try.yaml:6:23  addons.kube-prometheus-stack.chart.version: warning: 88.5.3 is the catalog's pinned version of kube-prometheus-stack already  (remove chart.version)",
    ]);
  });

  describe('with a key table for that version (derived by derive-keys --chart-dir)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'odp-keys-'));
    beforeAll(() => {
      const chart = join(dir, 'chart');
      mkdirSync(chart);
      writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: kube-prometheus-stack\nversion: 88.6.0\n');
      // 88.6.0 (as this test pretends) renamed prometheus.prometheusSpec.retention to retentionPeriod.
      writeFileSync(join(chart, 'values.yaml'), 'prometheus:\n  prometheusSpec:\n    retentionPeriod: 10d\n    replicas: 1\ngrafana:\n  enabled: true\n');
      const out = join(dir, 'keys/');
      mkdirSync(out);
      deriveChartDir(chart, pathToFileURL(out));
      CHART_KEYS_DIRS.push(pathToFileURL(out));
    });
    afterAll(() => {
      CHART_KEYS_DIRS.pop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('values are checked against that version, not the pinned one', () => {
      // Without addon-kube-version's warning that 88.6.0's kubeVersion is not recorded (the test above).
      const diagnosticsOf = (env: string, text: string): string[] => inlineDiagnostics(env, text).filter((d) => !/: the kubeVersion of chart \S+ \S+ \(add-on [^)]+\) is not known: /.test(d));
      const values = '    values:\n      prometheus:\n        prometheusSpec:\n          retention: 30d\n';
      expect(diagnosticsOf('try', KPS('88.6.0', values))).toStrictEqual([
        "environments/try.yaml:10:11  addons.kube-prometheus-stack.values.prometheus.prometheusSpec.retention: unknown key 'retention': chart kube-prometheus-stack 88.6.0 has no value prometheus.prometheusSpec.retention  (known keys here: replicas, retentionPeriod)",
      ]);
      expect(diagnosticsOf('try', KPS('88.6.0', values.replace('retention:', 'retentionPeriod:')))).toStrictEqual([]);
      // The pinned version's table still applies where the environment does not try another one.
      expect(diagnosticsOf('pinned', `addons:\n  kube-prometheus-stack:\n${values}`)).toStrictEqual([]);
    });
  });
});
