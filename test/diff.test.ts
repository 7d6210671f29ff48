import { describe, expect, it } from 'vitest';
import { diffTrees } from '../generators/diff/diff.js';
import { formatFieldPath } from '../generators/diff/fields.js';
import { COMMENT_MARKER, formatJson, formatMarkdown, formatText, GITHUB_COMMENT_LIMIT } from '../generators/diff/format.js';
import { classifyV1Alpha1Path, talosImpact } from '../generators/diff/talos-impact.js';
import { splitFile } from '../generators/diff/documents.js';
import { toYaml, toYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment, type PreparedEnvironment } from '../generators/pipeline.js';
import { withHeader } from '../generators/render/header.js';
import { realSources } from './helpers.js';

const ctx = { base: 'A', head: 'B' };

/**
 * The rendered files of a prepared environment, plus values/<addon>.yaml for each add-on override:
 * a stand-in for the Argo CD renderer (merged separately) so the diff is exercised on the real
 * pipeline's output and the layout of DESIGN.md "rendered/".
 */
function renderWithValues(p: PreparedEnvironment): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of renderEnvironment(p)) files.set(`${p.name}/${f.path}`, f.content);
  for (const a of p.model.addons) {
    const f = withHeader({ path: `values/${a.name}.yaml`, content: toYaml(a.values), inputs: [['addons', a.name]] }, p.name, p.model.sourceFiles, p.data);
    if (!files.has(`${p.name}/${f.path}`)) files.set(`${p.name}/${f.path}`, f.content);
  }
  return files;
}

function prodWith(addonsYaml: string): Map<string, string> {
  const sources = new Map(realSources());
  sources.set('environments/prod.yaml', sources.get('environments/prod.yaml')! + addonsYaml);
  const r = prepareEnvironment('prod', sources);
  if (!r.prepared) throw new Error(JSON.stringify(r.diagnostics, null, 1));
  return renderWithValues(r.prepared);
}

const ADDONS_A = `addons:
  kube-prometheus-stack:
    values:
      prometheus: { prometheusSpec: { retention: 15d } }
  cert-manager:
    values:
      replicaCount: 2
`;

describe('add-on override change in prod (sources A → B rendered in memory)', () => {
  const base = prodWith(ADDONS_A);
  const head = prodWith(ADDONS_A.replace('retention: 15d', 'retention: 30d'));
  const d = diffTrees(base, head);

  it('lists exactly that values change, with key path and old → new', () => {
    expect(d.envs.map((e) => e.env)).toStrictEqual(['prod']);
    const changed = d.envs[0]!.objects.filter((o) => o.kind !== 'text');
    expect(changed.map((o) => [o.status, o.file, o.fields.map((f) => [f.op, formatFieldPath(f.path), f.old, f.new])])).toStrictEqual([
      ['changed', 'values/kube-prometheus-stack.yaml', [['changed', 'prometheus.prometheusSpec.retention', '15d', '30d']]],
    ]);
    expect(d.totals.fields).toBeGreaterThanOrEqual(1);
  });

  it('prints it in text and markdown', () => {
    const text = formatText(d, ctx);
    expect(text).toContain('~ values  (values/kube-prometheus-stack.yaml)');
    expect(text).toContain('~ prometheus.prometheusSpec.retention: "15d" → "30d"');
    const md = formatMarkdown(d, ctx);
    expect(md.startsWith(COMMENT_MARKER)).toBe(true);
    expect(md).toContain('<summary><b>prod — ');
    expect(md).toContain('**values** `values/kube-prometheus-stack.yaml`');
    expect(md).toContain('  ~ prometheus.prometheusSpec.retention: "15d" → "30d"');
    expect(md).not.toContain('cert-manager.yaml');
  });

  it('a header-only change is no change, identical trees give none', () => {
    expect(diffTrees(base, base).envs).toStrictEqual([]);
    const relabelled = new Map([...base].map(([p, c]) => [p, c.replace(/sha256:[0-9a-f]+/g, 'sha256:0000')]));
    expect(diffTrees(base, relabelled).envs).toStrictEqual([]);
  });
});

/** A Talos node config as the Talos renderer writes it: v1alpha1 document + HostnameConfig. */
function talosConfig(o: { talos?: string; k8s?: string; kubeletArgs?: Record<string, string>; files?: unknown[]; schematic?: string; extra?: Record<string, unknown>; role?: string } = {}): string {
  const talos = o.talos ?? 'v1.13.9';
  const k8s = o.k8s ?? '1.36.3';
  const image = o.schematic ? `factory.talos.dev/aws-installer/${o.schematic}:${talos}` : `ghcr.io/siderolabs/installer:${talos}`;
  const cp = (o.role ?? 'controlplane') === 'controlplane';
  const v1 = {
    version: 'v1alpha1',
    debug: false,
    persist: true,
    machine: {
      type: o.role ?? 'controlplane',
      token: { secret: '/odp/fixture/talos/machine-token' },
      kubelet: { image: `ghcr.io/siderolabs/kubelet:v${k8s}`, extraArgs: o.kubeletArgs ?? { 'rotate-server-certificates': 'true' } },
      install: { disk: '/dev/xvda', image, wipe: false },
      features: { kubePrism: { enabled: true, port: 7445 }, hostDNS: { enabled: true } },
      ...(o.files ? { files: o.files } : {}),
      ...(o.extra ?? {}),
    },
    cluster: {
      clusterName: 'fixture',
      controlPlane: { endpoint: 'https://api.fixture.internal:6443' },
      ...(cp
        ? {
            apiServer: { image: `registry.k8s.io/kube-apiserver:v${k8s}` },
            controllerManager: { image: `registry.k8s.io/kube-controller-manager:v${k8s}` },
            scheduler: { image: `registry.k8s.io/kube-scheduler:v${k8s}` },
          }
        : {}),
      proxy: { image: `registry.k8s.io/kube-proxy:v${k8s}` },
    },
  };
  return '# Generated by odp-gitops. Do not edit.\n' + toYamlStream([v1, { apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' }]);
}

function talosTree(nodes: Record<string, Parameters<typeof talosConfig>[0]>): Map<string, string> {
  return new Map(Object.entries(nodes).map(([n, o]) => [`prod/talos/${n}.yaml`, talosConfig(o)]));
}

const NODES = ['prod-cp-1', 'prod-cp-2', 'prod-cp-3'];
const tree = (o: Parameters<typeof talosConfig>[0]): Map<string, string> => talosTree(Object.fromEntries(NODES.map((n) => [n, o])));

describe('Talos impact per node', () => {
  it('a Talos version change shows every node as upgrade', () => {
    const d = diffTrees(tree({ talos: 'v1.12.11' }), tree({ talos: 'v1.13.9' }));
    expect(d.envs[0]!.talos.map((t) => [t.node, t.headline, t.actions])).toStrictEqual(NODES.map((n) => [n, 'upgrade', ['upgrade']]));
    expect(d.totals.talos.upgrade).toBe(3);
    expect(formatText(d, ctx)).toContain('prod-cp-1: upgrade');
    expect(formatMarkdown(d, ctx)).toContain('| `prod-cp-1` | **upgrade** | `talosctl upgrade --image <install.image>` |');
  });

  it('a schematic change (installer image of another schematic) is an upgrade', () => {
    const d = diffTrees(tree({ schematic: 'aaa111' }), tree({ schematic: 'bbb222' }));
    expect(d.envs[0]!.talos.every((t) => t.headline === 'upgrade')).toBe(true);
  });

  it('a kubelet extra arg change applies live on every node (machine.kubelet is in the live list)', () => {
    const d = diffTrees(tree({}), tree({ kubeletArgs: { 'rotate-server-certificates': 'true', 'max-pods': '200' } }));
    expect(d.envs[0]!.talos.map((t) => [t.node, t.headline, t.reasons.map((r) => r.path)])).toStrictEqual(NODES.map((n) => [n, 'no-reboot', ['machine.kubelet.extraArgs.max-pods']]));
    expect(formatText(d, ctx)).toContain('machine.kubelet.extraArgs.max-pods: no-reboot — machine.kubelet is applied live');
  });

  it('a Kubernetes version change is upgrade-k8s on control planes and workers', () => {
    const base = talosTree({ cp: { k8s: '1.35.4' }, w: { k8s: '1.35.4', role: 'worker' } });
    const head = talosTree({ cp: { k8s: '1.36.3' }, w: { k8s: '1.36.3', role: 'worker' } });
    const t = diffTrees(base, head).envs[0]!.talos;
    expect(t.map((i) => [i.node, i.headline, i.reasons.map((r) => r.path)])).toStrictEqual([
      ['cp', 'upgrade-k8s', ['cluster.apiServer.image', 'cluster.controllerManager.image', 'cluster.proxy.image', 'cluster.scheduler.image', 'machine.kubelet.image']],
      ['w', 'upgrade-k8s', ['cluster.proxy.image', 'machine.kubelet.image']],
    ]);
  });

  it('machine.files needs a reboot; several changes list every action, most disruptive first', () => {
    const d = diffTrees(tree({}), tree({ talos: 'v1.13.10', files: [{ path: '/var/etc/x', content: 'y', op: 'create', permissions: 420 }], kubeletArgs: {} }));
    expect(d.envs[0]!.talos[0]!.actions).toStrictEqual(['upgrade', 'reboot', 'no-reboot']);
  });

  it('documents other than v1alpha1 apply live', () => {
    const a = splitFile('talos/n.yaml', talosConfig());
    const b = splitFile('talos/n.yaml', talosConfig().replace('auto: stable', 'hostname: n1'));
    expect(talosImpact('talos/n.yaml', a, b).headline).toBe('no-reboot');
  });

  it('classifies each rule of CanApplyImmediate', () => {
    const cases: [string[], boolean, string][] = [
      [['debug'], true, 'no-reboot'],
      [['cluster', 'network', 'podSubnets'], true, 'no-reboot'],
      [['machine', 'network', 'hostname'], true, 'no-reboot'],
      [['machine', 'sysctls', 'net.core.somaxconn'], true, 'no-reboot'],
      [['machine', 'nodeLabels', 'a'], true, 'no-reboot'],
      [['machine', 'install', 'disk'], true, 'no-reboot'],
      [['machine', 'install', 'image'], true, 'upgrade'],
      [['machine', 'install', 'extraKernelArgs'], true, 'upgrade'],
      [['machine', 'kubelet', 'image'], true, 'upgrade-k8s'],
      [['machine', 'features', 'kubePrism', 'port'], true, 'no-reboot'],
      [['machine', 'features', 'kubePrism', 'port'], false, 'reboot'],
      [['machine', 'features', 'diskQuotaSupport'], true, 'reboot'],
      [['machine', 'type'], true, 'reboot'],
      [['machine', 'env', 'HTTP_PROXY'], true, 'reboot'],
      [['machine', 'udev'], true, 'reboot'],
      [['persist'], true, 'reboot'],
    ];
    expect(cases.map(([p, both]) => classifyV1Alpha1Path(p, both).action)).toStrictEqual(cases.map((c) => c[2]));
  });

  it('new and removed node configs', () => {
    const d = diffTrees(talosTree({ a: {} }), talosTree({ b: {} }));
    expect(d.envs[0]!.talos.map((t) => [t.node, t.headline])).toStrictEqual([
      ['a', 'removed node'],
      ['b', 'new node'],
    ]);
  });
});

const deployment = (image: string, extra: Record<string, unknown> = {}) =>
  toYaml({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'portal', namespace: 'portal' }, spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }, { name: 'portal', image, ...extra }] } } } });

describe('objects, moves and secrets', () => {
  it('matches list items by name', () => {
    const d = diffTrees(new Map([['dev/manifests/portal/deployment-portal.yaml', deployment('portal:1')]]), new Map([['dev/manifests/portal/deployment-portal.yaml', deployment('portal:2')]]));
    expect(d.envs[0]!.objects[0]!.fields.map((f) => formatFieldPath(f.path))).toStrictEqual(['spec.template.spec.containers[name=portal].image']);
  });

  it('recognises an object moved to another file, and a file renamed unchanged', () => {
    const base = new Map([
      ['dev/manifests/portal/deployment-portal.yaml', deployment('portal:1')],
      ['dev/values/a.yaml', '# header\nx: 1\n'],
    ]);
    const head = new Map([
      ['dev/manifests/web/deployment-portal.yaml', deployment('portal:2')],
      ['dev/values/b.yaml', '# other header\nx: 1\n'],
    ]);
    const e = diffTrees(base, head).envs[0]!;
    expect(e.renamed).toStrictEqual([{ from: 'values/a.yaml', to: 'values/b.yaml' }]);
    expect(e.objects.map((o) => [o.status, o.from, o.file, o.fields.length])).toStrictEqual([['moved', 'manifests/portal/deployment-portal.yaml', 'manifests/web/deployment-portal.yaml', 1]]);
  });

  it('masks secret-shaped values and Secret data, keeps references', () => {
    const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----';
    const base = new Map([
      ['dev/manifests/x/secret.yaml', toYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'aGVsbG8=' } })],
      ['dev/values/x.yaml', toYaml({ tls: { key: 'a' }, ref: { secret: '/odp/dev/x' } })],
    ]);
    const head = new Map([
      ['dev/manifests/x/secret.yaml', toYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'd29ybGQ=' } })],
      ['dev/values/x.yaml', toYaml({ tls: { key }, ref: { secret: '/odp/dev/y' } })],
    ]);
    const d = diffTrees(base, head);
    const out = formatText(d, ctx) + formatMarkdown(d, ctx) + formatJson(d, ctx);
    expect(out).not.toContain('d29ybGQ=');
    expect(out).not.toContain('aGVsbG8=');
    expect(out).not.toContain('BEGIN RSA PRIVATE KEY');
    expect(out).toContain('~ data.password: "‹masked›" → "‹masked›"');
    expect(out).toContain('~ ref.secret: "/odp/dev/x" → "/odp/dev/y"');
  });
});

describe('markdown size', () => {
  it('fits one PR comment, with a note when details are left out', () => {
    const base = new Map<string, string>();
    const head = new Map<string, string>();
    for (let i = 0; i < 400; i++) {
      base.set(`prod/values/addon-${i}.yaml`, toYaml(Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`key${k}`, `old-value-${i}-${k}`]))));
      head.set(`prod/values/addon-${i}.yaml`, toYaml(Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`key${k}`, `new-value-${i}-${k}`]))));
    }
    const d = diffTrees(base, head);
    expect(formatText(d, ctx).length).toBeGreaterThan(GITHUB_COMMENT_LIMIT);
    const md = formatMarkdown(d, ctx);
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(md).toMatch(/left out to fit GitHub's 65536-character comment limit/);
    expect(md.match(/<details>/g)!.length).toBe(md.match(/<\/details>/g)!.length);
    expect(md).toContain('| prod | 0 | 0 | 400 | 0 | 8000 | — |');
  });
});
