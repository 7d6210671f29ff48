/**
 * The SecureStrings an environment depends on (generators/model/secrets.ts): positions, origins, and
 * a cross-check against what the rendered tree actually reads (ExternalSecrets, K3s boot scripts).
 */
import { BOOT_SETTINGS_PATH, resolveBootSettings } from '../generators/distributions/rancher/boot-settings.js';
import { talosCluster } from '../generators/distributions/talos/model.js';
import { describe, expect, it } from 'vitest';
import { locate } from '../generators/load/loader.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { formatPath } from '../generators/lib/paths.js';
import { prepareEnvironment, renderEnvironment, type PreparedEnvironment } from '../generators/pipeline.js';
import { listSecretDependencies } from '../generators/model/secrets.js';
import { fixtureSources, exampleSources } from './helpers.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';

const sources = exampleSources();
const prepared = (name: string): PreparedEnvironment => {
  const p = prepareEnvironment(name, sources).prepared;
  if (!p) throw new Error(`${name} does not prepare`);
  return p;
};

/** name, origin, and where (file:line:col path), one line per dependency. */
function listed(p: PreparedEnvironment): string[] {
  return listSecretDependencies(p.resolved, p.model).map((d) => {
    const pos = locate(p.resolved, d.path, d.defaultName);
    return `${d.origin} ${d.name} ${pos.file}:${pos.line}:${pos.col} ${formatPath(d.path)}${d.defaultName ? ' (default name)' : ''}`;
  });
}

/** Every SSM SecureString the rendered tree reads: ExternalSecret remoteRefs and the boot scripts' ssm_secret calls. */
function readByRenderedTree(p: PreparedEnvironment): Set<string> {
  const out = new Set<string>();
  for (const f of renderEnvironment(p)) {
    if (!f.path.endsWith('.yaml')) continue;
    for (const doc of parseYamlStream(f.content) as { kind?: string; spec?: { data?: { remoteRef: { key: string } }[] } }[]) {
      if (doc?.kind === 'ExternalSecret') for (const d of doc.spec?.data ?? []) out.add(d.remoteRef.key);
    }
    // A K3s/RKE2 boot script names its parameters through the settings file it sources: read it resolved.
    const ud = /\/userdata\//.test(f.path) ? (parseYamlStream(f.content)[0] as { write_files?: { path: string; content: string }[] }) : undefined;
    const settings = ud?.write_files?.find((w) => w.path === BOOT_SETTINGS_PATH)?.content;
    const text = settings === undefined ? f.content : ud!.write_files!.map((w) => resolveBootSettings(w.content, settings)).join('\n');
    for (const m of text.matchAll(/ssm_secret '([^']+)'/g)) out.add(m[1]!);
  }
  return out;
}

describe('listSecretDependencies', () => {
  it('K3s on Postgres with default token names: tokens at the cluster section, the password at its reference, Grafana and the Flux repository credentials at the document', () => {
    expect(listed(prepared('staging-k3s'))).toStrictEqual([
      'derived /odp/staging-k3s/k3s/token environments/staging-k3s.yaml:18:1 cluster (default name)',
      'derived /odp/staging-k3s/k3s/token-pending environments/staging-k3s.yaml:18:1 cluster (default name)',
      'derived /odp/staging-k3s/k3s/agent-token environments/staging-k3s.yaml:18:1 cluster (default name)',
      'derived /odp/staging-k3s/kine/password environments/staging-k3s.yaml:33:17 cluster.datastore.postgres.password',
      'derived /odp/staging-k3s/flux/git-password environments/staging-k3s.yaml:2:1 (document) (default name)',
      'derived /odp/staging-k3s/flux/git-username environments/staging-k3s.yaml:2:1 (document) (default name)',
      'derived /odp/staging-k3s/grafana/admin-password environments/staging-k3s.yaml:2:1 (document) (default name)',
      'derived /odp/staging-k3s/grafana/admin-user environments/staging-k3s.yaml:2:1 (document) (default name)',
    ]);
  });

  it('K3s tokens named in the file are positioned at their references; no Postgres password on SQLite', () => {
    expect(listed(prepared('dev-k3s')).slice(0, 3)).toStrictEqual([
      'derived /odp/dev-k3s/k3s/token environments/dev-k3s.yaml:31:12 cluster.k3s.token',
      'derived /odp/dev-k3s/k3s/token-pending environments/dev-k3s.yaml:31:12 cluster.k3s.token',
      'derived /odp/dev-k3s/k3s/agent-token environments/dev-k3s.yaml:32:17 cluster.k3s.agentToken',
    ]);
    expect(listed(prepared('dev-k3s')).some((l) => l.includes('kine'))).toBe(false);
  });

  it('Talos: the bundle at the closest section (the base file), workload { secret } references explicit, each place listed', () => {
    expect(listed(prepared('dev'))).toStrictEqual([
      'derived /odp/dev/talos/secrets-bundle environments/_base.yaml:18:3 cluster.talos (default name)',
      'derived /odp/dev/grafana/admin-password environments/dev.yaml:43:3 addons.kube-prometheus-stack (default name)',
      'derived /odp/dev/grafana/admin-user environments/dev.yaml:43:3 addons.kube-prometheus-stack (default name)',
      'explicit /odp/dev/api/database-url environments/dev.yaml:90:21 workloads[1].env.DATABASE_URL',
      'explicit /odp/dev/api/session-signing-key environments/dev.yaml:91:28 workloads[1].env.SESSION_SIGNING_KEY',
      'explicit /odp/dev/api/database-url environments/dev.yaml:109:21 workloads[2].env.DATABASE_URL',
    ]);
  });

  it('a disabled add-on\'s secrets are no dependency; an add-on setting naming a catalog secret positions it there', () => {
    const { name, sources: s } = fixtureSources('valid', 'ssm-references.yaml');
    const text = `${s.get(`environments/${name}.yaml`)!}addons:
  kube-prometheus-stack:
    settings: { grafanaAdminPasswordSecret: /odp/shared/grafana/password }
  cloudnative-pg:
    enabled: false
    chart: { repoURL: https://cloudnative-pg.github.io/charts, name: cloudnative-pg, version: 0.29.0 }
    secrets: { pg-admin: { password: { secret: /odp/fixture/pg/admin } } }
`;
    s.set(`environments/${name}.yaml`, text);
    const r = prepareEnvironment(name, s);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const lines = listed(r.prepared!);
    expect(lines).toContain('derived /odp/shared/grafana/password environments/ssm-references.yaml:19:45 addons.kube-prometheus-stack.settings.grafanaAdminPasswordSecret');
    expect(lines).toContain('explicit /odp/fixture/portal/db-password environments/ssm-references.yaml:14:71 workloads[0].env.DB_PASSWORD');
    expect(lines.some((l) => l.includes('/pg/admin'))).toBe(false);
    expect(lines.some((l) => l.includes('/odp/ssm-references/grafana/admin-password'))).toBe(false);
  });

  it.each(['dev', 'staging', 'prod', 'dev-k3s', 'staging-k3s'])('%s: exactly the SecureStrings its rendered tree reads, plus the Talos bundle for Talos; a runbook-written one named by its script', (env) => {
    const p = prepared(env);
    const deps = listSecretDependencies(p.resolved, p.model);
    const names = new Set(deps.filter((d) => d.writtenBy === undefined).map((d) => d.name));
    const expected = readByRenderedTree(p);
    if (p.model.cluster.distribution === 'talos') expected.add(talosCluster(p.model).secretsBundle.parameter);
    expect([...names].sort()).toStrictEqual([...expected].sort());
    expect(expected.size).toBeGreaterThan(2);
    // The pending token of a rotation (K3s and RKE2): the script that writes it names it, a node token like the token.
    const written = deps.filter((d) => d.writtenBy !== undefined);
    expect(written.map((d) => `${d.name} ${d.writtenBy} ${d.sensitivity}`)).toStrictEqual(
      p.model.cluster.distribution === 'talos' ? [] : [`/odp/${env}/${p.model.cluster.distribution}/token-pending rotate-token.sh node-token`],
    );
    const files = renderEnvironment(p);
    for (const d of written) expect(files.find((f) => f.path.endsWith(`/${d.writtenBy}`))?.content).toContain(`'${d.name}'`);
  });
});

describe('secret-other-environment', () => {
  it("a { secret } in another environment's tree (/odp/<env>/) is a warning naming it; its own tree and a segment naming no environment are not", () => {
    const { name, sources } = fixtureSources('valid', 'secret-other-environment.yaml');
    const r = prepareEnvironment(name, sources);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    expect(r.diagnostics.filter((d) => d.rule === 'secret-other-environment').map(formatDiagnostic)).toStrictEqual([
      "environments/secret-other-environment.yaml:14:31  workloads[0].env.DATABASE_URL.secret: warning: SSM parameter /odp/soe-dev/api/database-url is in environment soe-dev's tree (/odp/soe-dev/), not this environment's (/odp/secret-other-environment/): secret-other-environment reads soe-dev's secret, and rotating or deleting it there changes secret-other-environment  (create this environment's own parameter and write secret: /odp/secret-other-environment/api/database-url; if it is shared on purpose, acknowledge it: acknowledge: [{ rule: secret-other-environment, path: \"workloads[0].env.DATABASE_URL.secret\", reason: … }])",
    ]);
  });

  it('acknowledged with its reason, it is silent', () => {
    const { name, sources } = fixtureSources('valid', 'secret-other-environment.yaml');
    const file = 'environments/secret-other-environment.yaml';
    sources.set(file, `${sources.get(file)!}acknowledge:\n  - { rule: secret-other-environment, path: "workloads[0].env.DATABASE_URL.secret", reason: the dev database is shared }\n`);
    const r = prepareEnvironment(name, sources);
    expect(r.diagnostics.filter((d) => d.rule === 'secret-other-environment' || d.severity === 'error').map(formatDiagnostic)).toStrictEqual([]);
  });
});
