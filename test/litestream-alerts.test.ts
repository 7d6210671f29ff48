/**
 * The Litestream replication alerts of K3s on Kine + SQLite: Prometheus scrapes Litestream through a
 * ScrapeConfig (node discovery of the server, Litestream's port), a PrometheusRule fires when
 * replication stops or the WAL grows without checkpoints, the rule is delivered after the CRDs of
 * kube-prometheus-stack, and the node security group admits the scrape from the nodes Prometheus runs
 * on only. When promtool is installed the rules are checked and unit-tested against series shaped
 * like Litestream v0.5.16's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LITESTREAM_JOB, LITESTREAM_METRICS, litestreamAlertRules, WAL_ALERT_BYTES } from '../generators/distributions/k3s/addons/litestream-alerts.js';
import { LITESTREAM_METRICS_PORT } from '../generators/distributions/k3s/litestream.js';
import { ingressRules } from '../generators/infra/aws/ports.js';
import { toYaml } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted, prepareExample, renderExample } from './helpers.js';

type Obj = Record<string, any>;
const files = (env: string): Map<string, string> => new Map(renderExample(env).map((f) => [f.path, f.content]));
const doc = (text: string): Obj => parse(text.replace(/^#.*\n/gm, '')) as Obj;

const promtool = ((): string | undefined => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'pipe' });
    return 'promtool';
  } catch {
    return undefined;
  }
})();

describe('Litestream alerts (K3s on Kine + SQLite)', () => {
  const dev = files('dev-k3s');

  it('scrapes the servers found by node discovery on the port Litestream listens on', () => {
    const sc = doc(dev.get('manifests/litestream-alerts/scrapeconfig-litestream.yaml')!);
    expect(sc).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'ScrapeConfig', metadata: { namespace: 'monitoring', labels: { release: 'kube-prometheus-stack' } } });
    expect(sc.spec.jobName).toBe(LITESTREAM_JOB);
    expect(sc.spec.kubernetesSDConfigs).toStrictEqual([{ role: 'Node', selectors: [{ role: 'Node', label: 'node-role.kubernetes.io/control-plane=true' }] }]);
    expect(sc.spec.relabelings[0]).toStrictEqual({ sourceLabels: ['__meta_kubernetes_node_address_InternalIP'], targetLabel: '__address__', replacement: `$1:${LITESTREAM_METRICS_PORT}` });
    // The rendered Litestream config listens on the server's address at that port.
    const ls = doc(dev.get('k3s/litestream.yaml')!);
    expect(ls.addr).toBe(`10.11.1.10:${LITESTREAM_METRICS_PORT}`);
  });

  it('the rule reads only metrics Litestream v0.5.16 registers, all of the scrape job', () => {
    const rule = doc(dev.get('manifests/litestream-alerts/prometheusrule-litestream-alerts.yaml')!);
    const rules = rule.spec.groups[0].rules as { alert: string; expr: string }[];
    expect(rules.map((r) => r.alert)).toStrictEqual(litestreamAlertRules().map((r) => r.alert));
    for (const r of rules) {
      for (const name of r.expr.match(/\blitestream_[a-z_]+/g) ?? []) expect(Object.keys(LITESTREAM_METRICS), `${r.alert}: ${name}`).toContain(name);
      for (const sel of r.expr.match(/\b[a-z_]+\{[^}]*\}/g) ?? []) expect(sel, r.alert).toContain(`job="${LITESTREAM_JOB}"`);
    }
  });

  it('is delivered after kube-prometheus-stack (its CRDs) and named in the README', () => {
    const wave = (unit: string) => Number(doc(dev.get(`apps/${unit}.yaml`)!).metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave('litestream-alerts')).toBeGreaterThan(wave('kube-prometheus-stack'));
    const readme = dev.get('README.md')!;
    expect(readme).toContain('**Replication is watched**: Prometheus scrapes Litestream on the server (`:9095`');
    for (const r of litestreamAlertRules()) expect(readme).toContain(`\`${r.alert}\``);
  });

  it('the node security group admits 9095 on the servers from the workers (where Prometheus runs) and nowhere else', () => {
    const m = prepareExample('dev-k3s').prepared!.model;
    const rules = ingressRules(m).filter((r) => r.row.from <= LITESTREAM_METRICS_PORT && r.row.to >= LITESTREAM_METRICS_PORT);
    expect(rules.map((r) => `${r.target}<-${r.peer}`)).toStrictEqual(['controlplane<-worker']);
    for (const env of ['dev', 'staging', 'staging-k3s', 'prod']) {
      const m2 = prepareExample(env).prepared!.model;
      expect(ingressRules(m2).filter((r) => r.row.from <= LITESTREAM_METRICS_PORT && r.row.to >= LITESTREAM_METRICS_PORT), env).toStrictEqual([]);
      expect([...files(env).keys()].some((p) => p.includes('litestream-alerts')), env).toBe(false);
    }
  });

  it('a single-server environment (Prometheus on the server) admits it from the server group only; off with kube-prometheus-stack off', () => {
    const { sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    const text = sources.get('environments/k3s-postgres.yaml')!;
    const sqlite = text.replace(
      /  datastore:[\s\S]*$/,
      '  datastore:\n    type: kine-sqlite\n    litestream: { bucket: odp-fixture-litestream }\nnodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n',
    );
    sources.set('environments/k3s-postgres.yaml', sqlite);
    const r = prepareEnvironment('k3s-postgres', sources);
    expect(formatted(r).filter((l) => / error /.test(l))).toStrictEqual([]);
    const rules = ingressRules(r.prepared!.model).filter((x) => x.row.from === LITESTREAM_METRICS_PORT);
    expect(rules.map((x) => `${x.target}<-${x.peer}`)).toStrictEqual(['controlplane<-controlplane']);
    sources.set('environments/k3s-postgres.yaml', `${sqlite}addons:\n  kube-prometheus-stack: { enabled: false }\n`);
    const off = prepareEnvironment('k3s-postgres', sources);
    expect(ingressRules(off.prepared!.model).filter((x) => x.row.from === LITESTREAM_METRICS_PORT)).toStrictEqual([]);
    expect(renderEnvironment(off.prepared!).some((f) => f.path.includes('litestream-alerts'))).toBe(false);
  });

  it('turned on where there is no Litestream it is refused at its position', () => {
    const { sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    sources.set('environments/k3s-postgres.yaml', `${sources.get('environments/k3s-postgres.yaml')!}addons:\n  litestream-alerts: { enabled: true }\n`);
    const r = prepareEnvironment('k3s-postgres', sources);
    expect(r.prepared).toBeUndefined();
    const lines = formatted(r).filter((l) => l.includes('addons.litestream-alerts.enabled:'));
    expect(lines).toStrictEqual([
      'environments/k3s-postgres.yaml:30:33  addons.litestream-alerts.enabled: litestream-alerts watches Litestream, which runs only with cluster.datastore.type kine-sqlite  (remove the add-on: this datastore has no Litestream)',
    ]);
  });

  it.runIf(promtool !== undefined)('promtool: the rules load, fire when Litestream stops, stops uploading or stops checkpointing, and stay quiet when it works', () => {
    const dir = mkdtempSync(join(tmpdir(), 'litestream-rules-'));
    try {
      const rule = doc(dev.get('manifests/litestream-alerts/prometheusrule-litestream-alerts.yaml')!);
      writeFileSync(join(dir, 'rules.yaml'), toYaml({ groups: rule.spec.groups }));
      const target = { job: LITESTREAM_JOB, instance: `10.11.1.10:${LITESTREAM_METRICS_PORT}`, node: 'dev-k3s-server-1' };
      const db = '/var/lib/rancher/k3s/server/db/state.db';
      const labels = (extra: Record<string, string> = {}) => `{${Object.entries({ ...target, ...extra }).map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
      const byName = new Map(litestreamAlertRules().map((r) => [r.alert, r]));
      const expected = (alert: string, extra: Record<string, string>) => {
        const r = byName.get(alert)!;
        const all = { ...target, ...extra };
        const expand = (s: string) => s.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => all[k as keyof typeof all] ?? '');
        return { exp_labels: { ...extra, ...target, severity: r.labels.severity }, exp_annotations: { summary: expand(r.annotations.summary), description: expand(r.annotations.description) } };
      };
      const mb = 1024 * 1024;
      // Healthy: up, txid and uploads moving on, WAL small and checkpointed every minute.
      const healthy = [
        { series: `up${labels()}`, values: '1x60' },
        { series: `litestream_txid${labels({ db })}`, values: '100+10x60' },
        { series: `litestream_replica_operation_total${labels({ replica_type: 's3', operation: 'PUT' })}`, values: '0+10x60' },
        { series: `litestream_wal_size${labels({ db })}`, values: `${4 * mb}x60` },
        { series: `litestream_checkpoint_count${labels({ db, mode: 'PASSIVE' })}`, values: '0+1x60' },
        { series: `litestream_sync_error_count${labels({ db })}`, values: '0x60' },
        { series: `litestream_disk_full${labels({ db })}`, values: '0x60' },
      ];
      const quiet = [...byName.keys()].map((alertname) => ({ eval_time: '60m', alertname, exp_alerts: [] }));
      const tests = [
        { interval: '1m', input_series: healthy, alert_rule_test: quiet },
        // Litestream stopped: the target is down.
        { interval: '1m', input_series: [{ series: `up${labels()}`, values: '0x20' }], alert_rule_test: [{ eval_time: '10m', alertname: 'LitestreamDown', exp_alerts: [expected('LitestreamDown', {})] }] },
        // Running, the database moves on, nothing is PUT to S3.
        {
          interval: '1m',
          input_series: [...healthy.filter((s) => !s.series.startsWith('litestream_replica_operation_total')), { series: `litestream_replica_operation_total${labels({ replica_type: 's3', operation: 'PUT' })}`, values: '500x60' }],
          alert_rule_test: [{ eval_time: '30m', alertname: 'LitestreamReplicationStalled', exp_alerts: [expected('LitestreamReplicationStalled', { db })] }],
        },
        // Running, no checkpoint, the WAL keeps growing past the threshold.
        {
          interval: '1m',
          input_series: [
            ...healthy.filter((s) => !/^litestream_(wal_size|checkpoint_count)/.test(s.series)),
            { series: `litestream_wal_size${labels({ db })}`, values: `${4 * mb}+${5 * mb}x60` },
            { series: `litestream_checkpoint_count${labels({ db, mode: 'PASSIVE' })}`, values: '7x60' },
          ],
          alert_rule_test: [
            { eval_time: '60m', alertname: 'LitestreamCheckpointsStopped', exp_alerts: [expected('LitestreamCheckpointsStopped', { db })] },
            { eval_time: '60m', alertname: 'LitestreamWALGrowing', exp_alerts: [expected('LitestreamWALGrowing', { db })] },
          ],
        },
      ];
      expect(WAL_ALERT_BYTES).toBeLessThan(4 * mb + 5 * mb * 40);
      writeFileSync(join(dir, 'test.yaml'), toYaml({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }));
      expect(execFileSync(promtool!, ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' })).toContain('SUCCESS: 8 rules found');
      expect(execFileSync(promtool!, ['test', 'rules', join(dir, 'test.yaml')], { encoding: 'utf8', cwd: dir })).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
