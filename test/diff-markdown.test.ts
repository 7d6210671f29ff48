/**
 * The PR comment as a reviewer sees it: the Markdown is parsed with a CommonMark renderer
 * (markdown-it, GitHub-flavoured tables on) and the assertions are about the rendered structure —
 * markers, tables, diff blocks, <details> open or closed — not about the source text.
 */
import { writeFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { diffTrees, type DiffContext } from '../generators/diff/diff.js';
import { formatFieldPath } from '../generators/diff/fields.js';
import { formatMarkdown, MARKER } from '../generators/diff/format.js';
import { envContext } from '../generators/diff/sources.js';
import { toYaml } from '../generators/lib/yaml.js';
import { renderInline } from './support/inline-env.js';

const md = new MarkdownIt({ html: true });
type Token = ReturnType<InstanceType<typeof MarkdownIt>['parse']>[number];
const ctx = { base: 'main', head: 'HEAD' };

/** An environment written next to the fixtures (extends _fixture), rendered in memory. */
function render(name: string, body: string): { files: Map<string, string>; context: DiffContext } {
  const { prepared, files } = renderInline(name, body);
  return { files: new Map(files.map((f) => [`${name}/${f.path}`, f.content])), context: new Map([[name, envContext(prepared.model)]]) };
}

interface Parsed {
  tokens: Token[];
  /** Top-level list items: their first line of inline text. */
  items: string[];
  /** Every table: header cells and the cells of each body row. */
  tables: { head: string[]; rows: string[][] }[];
  /** ```diff blocks. */
  diffs: string[];
  /** Raw HTML blocks (details/summary). */
  html: string[];
  /** Paragraph texts. */
  paragraphs: string[];
}

function parse(text: string): Parsed {
  const tokens = md.parse(text, {});
  const out: Parsed = { tokens, items: [], tables: [], diffs: [], html: [], paragraphs: [] };
  let table: { head: string[]; rows: string[][] } | undefined;
  let row: string[] | undefined;
  let inHead = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'list_item_open') out.items.push(tokens[i + 2]?.content ?? '');
    if (t.type === 'table_open') table = { head: [], rows: [] };
    if (t.type === 'thead_open') inHead = true;
    if (t.type === 'thead_close') inHead = false;
    if (t.type === 'tr_open') row = [];
    if ((t.type === 'th_open' || t.type === 'td_open') && row) row.push(tokens[i + 1]!.content);
    if (t.type === 'tr_close' && table && row) (inHead ? (table.head = row) : table.rows.push(row), (row = undefined));
    if (t.type === 'table_close' && table) (out.tables.push(table), (table = undefined));
    if (t.type === 'fence' && t.info === 'diff') out.diffs.push(t.content);
    if (t.type === 'html_block') out.html.push(t.content);
    if (t.type === 'paragraph_open') out.paragraphs.push(tokens[i + 1]!.content);
  }
  return out;
}

/** The structure every comment must have, whatever it shows. */
function expectWellFormed(p: Parsed, text: string): void {
  // No list nested in a list item: a `+`/`-` marker after the bullet would open one.
  const levels = p.tokens.filter((t) => t.type === 'bullet_list_open' || t.type === 'ordered_list_open').map((t) => t.level);
  expect(levels.every((l) => l === 0), `nested list in the comment:\n${text}`).toBe(true);
  // Every list item starts with a status marker.
  const markers = Object.values(MARKER);
  for (const item of p.items) expect(markers.some((m) => item.startsWith(m)), `item without a marker: ${item}`).toBe(true);
  // Tables: every row has as many cells as the header, and no cell is empty; no table text was
  // left as a paragraph (a table the parser did not recognise).
  for (const t of p.tables) {
    expect(t.head.length).toBeGreaterThan(1);
    for (const r of t.rows) {
      expect(r.length).toBe(t.head.length);
      expect(r.every((c) => c.trim() !== '')).toBe(true);
    }
  }
  expect(p.paragraphs.filter((x) => x.startsWith('|'))).toStrictEqual([]);
  // Diff blocks: every line is a -/+ change or a context line, so GitHub colours them.
  for (const d of p.diffs) for (const l of d.replace(/\n$/, '').split('\n')) expect(l).toMatch(/^[-+ ]/);
  // <details> balanced; a <summary> in each.
  const opens = p.html.filter((h) => h.startsWith('<details')).length;
  expect(opens).toBe(p.html.filter((h) => h.startsWith('</details>')).length);
  expect(p.html.filter((h) => h.includes('<summary>')).length).toBe(opens);
}

const CHART = `addons:
  reloader:
    chart: { repoURL: https://stakater.github.io/stakater-charts, name: reloader, version: 2.2.7 }
    namespace: reloader
    clusterResources: [rbac.authorization.k8s.io/ClusterRole, rbac.authorization.k8s.io/ClusterRoleBinding]
    values: { reloader: { watchGlobally: true } }
`;
const WORKLOAD = `workloads:
  - name: portal
    namespace: opendev
    image: ghcr.io/opendev/portal:1.4.2
    replicas: 2
    ports: [{ name: http, port: 8080 }]
    resources: { requests: { cpu: 250m, memory: 256Mi } }
`;

describe('PR comment of a change that adds a chart, a workload and bumps Kubernetes', () => {
  const base = render('review', '');
  const head = render('review', `cluster: { kubernetesVersion: 1.35.3 }\n${CHART}${WORKLOAD}`);
  const d = diffTrees(base.files, head.files, head.context);
  const text = formatMarkdown(d, ctx);
  const p = parse(text);
  if (process.env.SHOW_MD) writeFileSync(process.env.SHOW_MD, text);

  it('is well formed CommonMark: markers, tables, diff blocks, details', () => {
    expectWellFormed(p, text);
  });

  it('one environment changed: its details are open', () => {
    expect(p.html.filter((h) => h.startsWith('<details'))).toStrictEqual([expect.stringMatching(/^<details open>\n<summary><b>review — /)]);
  });

  it('the summary table has one row per environment', () => {
    expect(p.tables[0]!.head).toStrictEqual(['environment', 'added', 'removed', 'changed', 'moved', 'field changes', 'Talos']);
    expect(p.tables[0]!.rows.map((r) => r[0])).toStrictEqual(['review']);
    expect(p.tables[0]!.rows[0]![6]).toBe('2 upgrade-k8s');
  });

  it('the new chart: its Application and values are shown in full, as added lines', () => {
    expect(p.items).toContain('➕ **added** **Application argocd/reloader** · `apps/reloader.yaml`');
    expect(p.items).toContain('➕ **added** **values** · `values/reloader.yaml`');
    const values = p.diffs.find((x) => x.includes('watchGlobally'));
    expect(values).toBeDefined();
    expect(values!.split('\n').filter((l) => l !== '').every((l) => l.startsWith('+ '))).toBe(true);
    const app = p.diffs.find((x) => x.includes('+ kind: Application') && x.includes('+   name: reloader\n'));
    expect(app).toMatch(/^\+ {5}- chart: reloader$/m);
    expect(app).toMatch(/^\+ {7}targetRevision: 2\.2\.7$/m);
  });

  it('the new workload: its Deployment is listed with its content', () => {
    expect(p.items).toContain('➕ **added** **Deployment opendev/portal** · `manifests/portal/deployment-portal.yaml`');
    expect(p.diffs.some((x) => x.includes('+ kind: Deployment') && x.includes('ghcr.io/opendev/portal:1.4.2'))).toBe(true);
  });

  it('the Kubernetes bump: one cluster step with the target version; node rows point to it', () => {
    expect(p.paragraphs.filter((x) => x.startsWith('**Cluster step**'))).toStrictEqual([
      '**Cluster step** (Kubernetes 1.35.2 → 1.35.3, once for the cluster after the node steps (covers 2 nodes)): `talosctl upgrade-k8s --nodes 10.10.1.10 --to 1.35.3`',
    ]);
    const talos = p.tables.find((t) => t.head[0] === 'node')!;
    expect(talos.rows).toStrictEqual([
      ['`cp-1`', '**upgrade-k8s**', 'cluster step below'],
      ['`workers (pool)`', '**upgrade-k8s**', 'cluster step below'],
    ]);
    expect(text).not.toContain('<version>');
  });

  it('changed fields are -/+ pairs', () => {
    expect(p.diffs.some((x) => x.includes('- machine.kubelet.image: "ghcr.io/siderolabs/kubelet:v1.35.2"\n+ machine.kubelet.image: "ghcr.io/siderolabs/kubelet:v1.35.3"'))).toBe(true);
  });
});

describe('details open or closed, Talos pools and nodes', () => {
  it('more than three environments changed: all collapsed', () => {
    const base = new Map<string, string>();
    const head = new Map<string, string>();
    for (const env of ['a', 'b', 'c', 'e']) {
      base.set(`${env}/values/x.yaml`, toYaml({ k: 1 }));
      head.set(`${env}/values/x.yaml`, toYaml({ k: 2 }));
    }
    const text = formatMarkdown(diffTrees(base, head), ctx);
    const p = parse(text);
    expectWellFormed(p, text);
    expect(p.html.filter((h) => h.startsWith('<details')).map((h) => h.split('\n')[0])).toStrictEqual(['<details>', '<details>', '<details>', '<details>']);
  });

  it('a new auto-scaled pool’s instances get their config from the join script; new fixed nodes are counted in the plural', () => {
    const base = render('pools', '');
    const head = render(
      'pools',
      `nodePools:
  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
  - { name: batch, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 3 }
  - name: fixed
    role: worker
    arch: amd64
    instanceType: m7i.xlarge
    subnet: private-a
    nodes: [{ name: f-1, ip: 10.10.1.21 }, { name: f-2, ip: 10.10.1.22 }]
`,
    );
    const d = diffTrees(base.files, head.files, head.context);
    const text = formatMarkdown(d, ctx);
    const p = parse(text);
    expectWellFormed(p, text);
    const rows = p.tables.find((t) => t.head[0] === 'node')!.rows.filter((r) => r[1] === '**new node**');
    expect(rows).toStrictEqual([
      ['`batch (pool)`', '**new node**', '`sh rendered/pools/aws/talos-join.sh batch (for each instance the pool launches)`'],
      ['`f-1`', '**new node**', '`talosctl apply-config --insecure --nodes 10.10.1.21 --file $HOME/.odp/pools/f-1.yaml`'],
      ['`f-2`', '**new node**', '`talosctl apply-config --insecure --nodes 10.10.1.22 --file $HOME/.odp/pools/f-2.yaml`'],
    ]);
    expect(text).toContain('**Talos nodes:** 3 new nodes');
    expect(text).not.toContain('--insecure --nodes <each node');
  });
});

describe('unnamed list items are matched by content', () => {
  const policy = (rules: unknown[]) => toYaml({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'n' }, spec: { podSelector: {}, ingress: rules } });
  const r1 = { from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 80, protocol: 'TCP' }] };
  const r2 = { from: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 81, protocol: 'TCP' }] };
  const r3 = { from: [{ namespaceSelector: { matchLabels: { team: 'c' } } }], ports: [{ port: 82, protocol: 'TCP' }] };

  it('inserting one rule reads as one addition', () => {
    const d = diffTrees(new Map([['x/manifests/p.yaml', policy([r1, r2])]]), new Map([['x/manifests/p.yaml', policy([r1, r3, r2])]]));
    const f = d.envs[0]!.objects[0]!.fields;
    expect(f.map((c) => [c.op, formatFieldPath(c.path)])).toStrictEqual([['added', 'spec.ingress[1]']]);
    const text = formatMarkdown(d, ctx);
    expectWellFormed(parse(text), text);
    expect(parse(text).diffs).toStrictEqual([
      '+ spec.ingress[1]:\n+     from:\n+       - namespaceSelector:\n+           matchLabels:\n+             team: c\n+     ports:\n+       - port: 82\n+         protocol: TCP\n',
    ]);
  });

  it('a changed rule between unchanged ones is diffed field by field; removing one is one removal', () => {
    const changed = { ...r2, ports: [{ port: 8081, protocol: 'TCP' }] };
    const d = diffTrees(new Map([['x/p.yaml', policy([r1, r2, r3])]]), new Map([['x/p.yaml', policy([r1, changed, r3])]]));
    expect(d.envs[0]!.objects[0]!.fields.map((c) => [c.op, formatFieldPath(c.path), c.old, c.new])).toStrictEqual([['changed', 'spec.ingress[1].ports[0].port', 81, 8081]]);
    const r = diffTrees(new Map([['x/p.yaml', policy([r1, r2, r3])]]), new Map([['x/p.yaml', policy([r1, r3])]]));
    expect(r.envs[0]!.objects[0]!.fields.map((c) => [c.op, formatFieldPath(c.path)])).toStrictEqual([['removed', 'spec.ingress[1]']]);
  });
});

describe('long values stay readable', () => {
  it('a long changed value goes below its path, wrapped, with its lines diffed', () => {
    const long = (x: string) => `--feature-gates=${Array.from({ length: 12 }, (_, i) => `Gate${i}=${x}`).join(',')}`;
    const script = (v: string) => `#!/bin/sh\nset -eu\necho ${v}\nexit 0\n`;
    const d = diffTrees(new Map([['x/values/a.yaml', toYaml({ args: long('true'), script: script('old') })]]), new Map([['x/values/a.yaml', toYaml({ args: long('false'), script: script('new') })]]));
    const text = formatMarkdown(d, ctx);
    const p = parse(text);
    expectWellFormed(p, text);
    const lines = p.diffs[0]!.replace(/\n$/, '').split('\n');
    expect(lines.every((l) => l.length <= 120)).toBe(true);
    expect(lines[0]).toBe('  args:');
    expect(lines.filter((l) => l.includes('↪')).length).toBeGreaterThan(0);
    expect(lines.slice(lines.indexOf('  script:'))).toStrictEqual(['  script:', '      #!/bin/sh', '      set -eu', '-     echo old', '+     echo new', '      exit 0']);
  });
});
