/**
 * The PR comment as a reviewer sees it: the Markdown is parsed with a CommonMark renderer
 * (markdown-it, GitHub-flavoured tables on) and the assertions are about the rendered structure —
 * markers, tables, diff blocks, <details> open or closed — not about the source text.
 */
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { diffTrees, type DiffContext } from '../generators/diff/diff.js';
import { formatFieldPath } from '../generators/diff/fields.js';
import { formatJson, formatMarkdown, formatText, GITHUB_COMMENT_LIMIT, MARKER } from '../generators/diff/format.js';
import { leadSections, registerLeadSection, type LeadSection } from '../generators/diff/lead-sections.js';
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
  /** Top-level list items of the environments' details (after "Changes by environment"): their first line of inline text. */
  items: string[];
  /** Every list item: its first line of inline text, and whether it is in the lead ("What changes in the cluster"). */
  allItems: { text: string; lead: boolean }[];
  /** ```diff blocks with whether they sit inside a collapsed <details>. */
  fences: { content: string; collapsed: boolean }[];
  /** Headings (level 4) in order. */
  headings: string[];
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
  const out: Parsed = { tokens, items: [], allItems: [], fences: [], headings: [], tables: [], diffs: [], html: [], paragraphs: [] };
  let table: { head: string[]; rows: string[][] } | undefined;
  let row: string[] | undefined;
  let inHead = false;
  let heading = '';
  /** Open <details> blocks: collapsed or open. */
  const details: boolean[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'heading_open') {
      heading = tokens[i + 1]!.content;
      out.headings.push(heading);
    }
    if (t.type === 'html_block') {
      for (const m of t.content.matchAll(/<details( open)?>|<\/details>/g)) (m[0] === '</details>' ? details.pop() : details.push(m[1] === undefined));
    }
    if (t.type === 'fence') out.fences.push({ content: t.content, collapsed: details.some((c) => c) });
    if (t.type === 'list_item_open') {
      out.allItems.push({ text: tokens[i + 2]?.content ?? '', lead: heading === 'What changes in the cluster' });
      if (heading === 'Changes by environment') out.items.push(tokens[i + 2]?.content ?? '');
    }
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
  for (const d of p.diffs) for (const l of d.replace(/\n$/, '').split('\n')) expect(l).toMatch(/^([-+ !]|@@ line \d+$)/);
  // No raw angle-bracket placeholder reaches the page outside code (GitHub would drop it as HTML).
  const outsideCode = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  expect(outsideCode.replace(/<\/?(details|summary|b|sub|br)( open)?>|<!-- odp-gitops:rendered-diff -->/g, '')).not.toMatch(/<[a-z]/i);
  // <details> balanced; a <summary> in each.
  const opens = p.html.filter((h) => h.startsWith('<details')).length;
  expect(opens).toBe(p.html.filter((h) => h.startsWith('</details>')).length);
  expect(p.html.filter((h) => h.includes('<summary>')).length).toBe(opens);
}

/** The lead: from its heading up to the next level-4 heading. */
function leadOf(text: string): string {
  const start = text.indexOf('#### What changes in the cluster');
  return text.slice(start, text.indexOf('\n#### ', start + 5) + 1);
}
const leadItems = (p: Parsed): string[] => p.allItems.filter((i) => i.lead).map((i) => i.text);
const GOLDEN = (name: string): string => `fixtures/diff-golden/${name}.md`;

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

describe('(a) golden: a chart bump plus a new workload', () => {
  const base = render('review', CHART);
  const head = render('review', `${CHART.replace('version: 2.2.7', 'version: 3.0.1')}${WORKLOAD}`);
  const text = formatMarkdown(diffTrees(base.files, head.files, head.context), ctx);
  const p = parse(text);
  if (process.env.SHOW_MD) writeFileSync(process.env.SHOW_MD, text);

  it('is well formed CommonMark: markers, tables, diff blocks, details, no raw placeholders', () => {
    expectWellFormed(p, text);
  });

  it('starts with the "What changes in the cluster" section, then the environments', () => {
    expect(p.headings.slice(0, 2)).toStrictEqual(['Rendered diff', 'What changes in the cluster']);
    // Nothing but the title and the counts line before the lead.
    expect(text.slice(0, text.indexOf('#### What changes in the cluster')).split('\n').filter((l) => l !== '')).toStrictEqual([
      '<!-- odp-gitops:rendered-diff -->',
      '### Rendered diff',
      '`main` → `HEAD`',
      expect.stringMatching(/^\*\*1 environment changed:\*\* 10 added, 0 removed, 2 changed, 0 moved; \d+ field changes$/),
    ]);
    expect(p.headings.slice(2)).toStrictEqual(['Environments', 'Changes by environment']);
  });

  it('golden: the lead', async () => {
    await expect(leadOf(text)).toMatchFileSnapshot(GOLDEN('chart-bump-workload'));
  });

  it('the lead: the new namespace, the major chart bump flagged', () => {
    expect(leadItems(p)).toStrictEqual(
      expect.arrayContaining([
        '`opendev`',
        "`reloader` `2.2.7` → `3.0.1` ⚠️ **major version**: read the chart's upgrade notes (Application argocd/reloader, namespace reloader)",
      ]),
    );
  });

  it('no added object is printed in full outside a collapsed block', () => {
    const added = p.fences.filter((f) => /^\+ (kind|apiVersion): /m.test(f.content));
    expect(added.length).toBeGreaterThan(0);
    expect(added.filter((f) => !f.collapsed)).toStrictEqual([]);
    // The added objects are listed by name inside the collapsed block, counted in its summary.
    expect(p.html.some((h) => /<summary>➕ added 10 objects: .*Deployment ×1/.test(h))).toBe(true);
    expect(p.items).toContain('➕ **added** **Deployment opendev/portal** · `manifests/portal/deployment-portal.yaml`');
  });

  it('the chart bump is one line in its Application, one line per changed field', () => {
    const app = p.fences.find((f) => f.content.includes('targetRevision') && !f.collapsed)!;
    expect(app.content).toMatch(/^! spec\.sources\[[^\]]+\]\.targetRevision: "2\.2\.7" → "3\.0\.1"$/m);
  });
});

describe('workloads whose pods are replaced', () => {
  const base = render('rollout', WORKLOAD);
  const head = render('rollout', WORKLOAD.replace('portal:1.4.2', 'portal:1.5.0').replace('replicas: 2', 'replicas: 2\n    env: { LOG_LEVEL: debug }'));
  const d = diffTrees(base.files, head.files, head.context);
  const text = formatMarkdown(d, ctx);
  const p = parse(text);

  it('the lead names the workload, its image from → to and counts the rest of its pod template change', () => {
    expectWellFormed(p, text);
    expect(d.envs[0]!.lead.rollouts).toStrictEqual([
      { object: 'Deployment opendev/portal', kind: 'Deployment', images: [{ container: 'portal', from: 'ghcr.io/opendev/portal:1.4.2', to: 'ghcr.io/opendev/portal:1.5.0' }], otherChanges: 1 },
    ]);
    expect(leadOf(text)).toContain('Workloads whose pods are replaced');
    expect(leadItems(p)).toContain('`Deployment opendev/portal`: `portal` `ghcr.io/opendev/portal:1.4.2` → `ghcr.io/opendev/portal:1.5.0`; 1 other pod template change');
  });

  it('a change outside the pod template (replicas) replaces no pod', () => {
    const scaled = render('rollout', WORKLOAD.replace('replicas: 2', 'replicas: 3'));
    expect(diffTrees(base.files, scaled.files, scaled.context).envs[0]!.lead.rollouts).toStrictEqual([]);
  });
});

/** Three control planes, a fixed worker and an auto-scaled pool, at a Talos and Kubernetes version. */
const CLUSTER = (talos: string, kubernetes: string, cpType = 'm7i.large') => `cluster: { talosVersion: ${talos}, kubernetesVersion: ${kubernetes} }
nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: ${cpType}
    subnet: private-a
    nodes: [{ name: cp-1, ip: 10.10.1.10 }, { name: cp-2, ip: 10.10.1.11 }, { name: cp-3, ip: 10.10.1.12 }]
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 2 }
  - { name: fixed, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, nodes: [{ name: w-1, ip: 10.10.1.21 }] }
`;

describe('(b) golden: a Talos and Kubernetes version change', () => {
  const base = render('upgrade', CLUSTER('v1.12.11', '1.34.5'));
  const head = render('upgrade', CLUSTER('v1.13.9', '1.35.2'));
  const text = formatMarkdown(diffTrees(base.files, head.files, head.context), ctx);
  const p = parse(text);

  it('is well formed', () => {
    expectWellFormed(p, text);
  });

  it('golden: the lead', async () => {
    await expect(leadOf(text)).toMatchFileSnapshot(GOLDEN('talos-kubernetes-upgrade'));
  });

  it('lists the control planes one at a time, each gated on etcd and the API, before the workers; the cluster step last', () => {
    const lead = leadOf(text);
    const steps = lead.split('\n').filter((l) => l.startsWith('1. '));
    expect(steps.map((l) => /^1\. `([^`]+)`/.exec(l)?.[1] ?? (l.startsWith('1. then, once for the cluster') ? 'cluster step' : l))).toStrictEqual(['cp-1', 'cp-2', 'cp-3', 'w-1', 'workers (pool)', 'cluster step']);
    for (const [i, ip] of ['10.10.1.10', '10.10.1.11', '10.10.1.12'].entries()) {
      expect(steps[i]).toContain('(control plane) — **upgrades Talos (installs the new image and reboots)**');
      expect(steps[i]).toContain(`before the next: \`talosctl health --nodes ${ip} --wait-timeout 10m\``);
    }
    expect(steps[3]).toContain('(worker)');
    expect(steps[3]).not.toContain('talosctl health');
    // The cluster step names no control plane: the upgrade-k8s script goes through one whose etcd is healthy (etcd_cp).
    expect(steps[5]).toContain('`npm run -s talos -- commands --env upgrade upgrade-k8s | sh`');
    expect(steps[5]).not.toContain('--nodes');
    expect(lead).toContain('Control planes one at a time: the next only once etcd and the API are healthy again');
  });

  it('a pool is never upgraded in place: its instance refresh replaces it, talos-join.sh joins the replacements', () => {
    const pool = leadOf(text).split('\n').find((l) => l.startsWith('1. `workers (pool)`'))!;
    expect(pool).toContain('the nodes stack update (the new AMI) replaces its instances through an instance refresh; join the replacements: sh rendered/upgrade/aws/talos-join.sh workers');
    expect(pool).not.toContain('talosctl upgrade');
    expect(text).not.toContain('<each node');
  });
});

describe('(c) golden: an instance-type change is not applied by GitOps', () => {
  const base = render('types', CLUSTER('v1.13.9', '1.35.2'));
  const head = render('types', CLUSTER('v1.13.9', '1.35.2', 'm7i.xlarge'));
  const text = formatMarkdown(diffTrees(base.files, head.files, head.context), ctx);
  const p = parse(text);

  it('is well formed', () => {
    expectWellFormed(p, text);
  });

  it('golden: the lead', async () => {
    await expect(leadOf(text)).toMatchFileSnapshot(GOLDEN('instance-type'));
  });

  it('each instance type is listed under "Not applied by GitOps" with the command that applies it', () => {
    const lead = leadOf(text);
    const notGitOps = lead.slice(lead.indexOf('**Not applied by GitOps**'));
    const item = notGitOps.split('\n').find((l) => l.startsWith('- AWS stack `nodes`'))!;
    for (const n of ['cp-1', 'cp-2', 'cp-3']) expect(item).toContain(`instance type of ${n}: m7i.large → m7i.xlarge`);
    expect(item).toContain('`sh rendered/types/aws/deploy.sh nodes`');
  });
});

describe('(d) a new environment', () => {
  const head = render('fresh', `${CHART}${WORKLOAD}`);
  const d = diffTrees(new Map(), head.files, head.context);

  it('is summarised by kind, and stays under the limit, the lead whole', () => {
    const text = formatMarkdown(d, ctx);
    const p = parse(text);
    expectWellFormed(p, text);
    expect(text.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(text).not.toContain('✂️');
    const kinds = p.tables.find((t) => t.head[0] === 'kind')!;
    expect(kinds.rows.map((r) => r[0])).toStrictEqual(expect.arrayContaining(['Application', 'Deployment', 'Namespace', 'text file']));
    expect(kinds.rows.reduce((n, r) => n + Number(r[1]), 0)).toBe(d.envs[0]!.counts.added);
    expect(leadItems(p)).toContain('a new environment: create its AWS stacks, then bootstrap the nodes and the engine — `rendered/fresh/README.md`');
  });

  it('under a tighter limit: summarised further (collapsing and counting), the lead unchanged', () => {
    const full = formatMarkdown(d, ctx);
    for (const limit of [40000, 20000, 12000]) {
      const text = formatMarkdown(d, ctx, limit);
      expect(text.length).toBeLessThanOrEqual(limit);
      expectWellFormed(parse(text), text);
      expect(leadOf(text)).toBe(leadOf(full));
      expect(text).toContain('| kind | objects |');
    }
  });
});

describe('(e) golden: a README change is a unified line diff', () => {
  const readme = (v: string) => ['# dev', '', '| Field | Value |', '|---|---|', '| Cluster | `dev` |', `| Kubernetes | \`${v}\` |`, '| Talos | `v1.13.9` |', '', '## Nodes', '', 'Three nodes.', ''].join('\n');
  const d = diffTrees(new Map([['dev/README.md', readme('1.35.2')]]), new Map([['dev/README.md', readme('1.35.3')]]));
  const text = formatMarkdown(d, ctx);
  const p = parse(text);

  it('is well formed', () => {
    expectWellFormed(p, text);
  });

  it('golden: the whole comment', async () => {
    await expect(text).toMatchFileSnapshot(GOLDEN('readme-line-diff'));
  });

  it('the changed line is removed and added in place, between context lines, not all-removed then all-added', () => {
    expect(p.diffs).toStrictEqual(['@@ line 4\n  |---|---|\n  | Cluster | `dev` |\n- | Kubernetes | `1.35.2` |\n+ | Kubernetes | `1.35.3` |\n  | Talos | `v1.13.9` |\n  \n']);
    expect(d.envs[0]!.objects[0]!.lines).toStrictEqual({ removed: ['| Kubernetes | `1.35.2` |'], added: ['| Kubernetes | `1.35.3` |'] });
  });
});

describe('property: random sets of changes', () => {
  const app = (name: string, version: string, ns: string) =>
    toYaml({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name, namespace: 'argocd' },
      spec: { destination: { namespace: ns, server: 'https://kubernetes.default.svc' }, sources: [{ chart: name, repoURL: 'https://charts.example.org', targetRevision: version }], syncPolicy: { syncOptions: ['CreateNamespace=true'] } },
    });
  const role = (name: string, verbs: string[]) => toYaml({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: [{ apiGroups: [''], resources: ['pods'], verbs }] });
  const big = (name: string, n: number, seed: number) => toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'x' }, data: Object.fromEntries(Array.from({ length: n }, (_, i) => [`key-${i}`, `value ${seed} ${'x'.repeat(60)} ${i}`])) });
  const envArb = fc.record({
    charts: fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z]{3,10}$/), from: fc.nat(20), to: fc.nat(20) }), { selector: (c) => c.name, maxLength: 12 }),
    roles: fc.uniqueArray(fc.stringMatching(/^[a-z]{3,10}$/), { maxLength: 6 }),
    // New objects (each named in the lead, so the lead grows with them), each large (the details grow faster).
    bulk: fc.nat(12),
    fields: fc.nat(400),
    readme: fc.nat(300),
  });

  /**
   * The smallest limit drawn: the lead is never cut, so the limit must hold the largest lead these draws make (every
   * chart of six environments a major bump, six new ClusterRoles and twelve new objects each: about 20 000 characters).
   */
  const LEAD_ROOM = 24000;

  it('the comment fits its limit and its lead lists every chart, namespace and permission changed', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{2,8}$/), { minLength: 1, maxLength: 6 }), fc.array(envArb, { minLength: 6, maxLength: 6 }), fc.integer({ min: LEAD_ROOM, max: GITHUB_COMMENT_LIMIT }), (envs, specs, limit) => {
        const base = new Map<string, string>();
        const head = new Map<string, string>();
        const expected: string[] = [];
        const absent: string[] = [];
        envs.forEach((env, k) => {
          const s = specs[k]!;
          for (const c of s.charts) {
            const changed = c.from !== c.to;
            base.set(`${env}/apps/${c.name}.yaml`, app(c.name, `${c.from}.0.0`, `ns-${c.name}`));
            head.set(`${env}/apps/${c.name}.yaml`, app(c.name, `${c.to}.0.0`, `ns-${c.name}`));
            if (changed) expected.push(`\`${c.name}\` \`${c.from}.0.0\` → \`${c.to}.0.0\``);
          }
          // New namespaces: a new Application creating one.
          head.set(`${env}/apps/new-${env}.yaml`, app(`new-${env}`, '1.0.0', `fresh-${env}`));
          expected.push(`\`fresh-${env}\``, `\`new-${env}\` **new** at \`1.0.0\``);
          for (const r of s.roles) {
            head.set(`${env}/manifests/role-${r}.yaml`, role(r, ['get']));
            // Named with what it grants (the access section; new roles granting the same share an item), not again as a bare permission.
            expected.push(`\`ClusterRole ${r}\``);
            absent.push(`\`ClusterRole ${r}\` **added**`);
          }
          for (let i = 0; i < s.bulk; i++) head.set(`${env}/manifests/bulk-${i}.yaml`, big(`bulk-${i}`, 100, i));
          base.set(`${env}/values/many.yaml`, toYaml(Object.fromEntries(Array.from({ length: s.fields }, (_, i) => [`k${i}`, i]))));
          head.set(`${env}/values/many.yaml`, toYaml(Object.fromEntries(Array.from({ length: s.fields }, (_, i) => [`k${i}`, i + 1]))));
          base.set(`${env}/README.md`, Array.from({ length: s.readme }, (_, i) => `line ${i}`).join('\n'));
          head.set(`${env}/README.md`, Array.from({ length: s.readme }, (_, i) => `line ${i % 3 === 0 ? i + 1 : i}`).join('\n'));
        });
        const text = formatMarkdown(diffTrees(base, head), ctx, limit);
        expect(text.length).toBeLessThanOrEqual(limit);
        const lead = leadOf(text);
        for (const x of expected) expect(lead).toContain(x);
        for (const x of absent) expect(lead).not.toContain(x);
      }),
      { numRuns: 15 },
    );
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
    if (process.env.SHOW_POOLS) writeFileSync(process.env.SHOW_POOLS, text);
    const p = parse(text);
    expectWellFormed(p, text);
    const rows = p.tables.find((t) => t.head[0] === 'node')!.rows.filter((r) => r[1] === '**new node**');
    expect(rows).toStrictEqual([
      ['`batch (pool)`', '**new node**', '`sh rendered/pools/aws/talos-join.sh batch (for each instance the pool launches)`'],
      ['`f-1`', '**new node**', '`npm run -s talos -- commands --env pools join --node f-1 | sh`'],
      ['`f-2`', '**new node**', '`npm run -s talos -- commands --env pools join --node f-2 | sh`'],
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
    expect(lines[0]).toBe('! args:');
    expect(lines.filter((l) => l.includes('↪')).length).toBeGreaterThan(0);
    expect(lines.slice(lines.indexOf('! script:'))).toStrictEqual(['! script:', '      #!/bin/sh', '      set -eu', '-     echo old', '+     echo new', '      exit 0']);
  });
});

describe('lead section providers and the JSON report', () => {
  const base = new Map([['x/apps/a.yaml', toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'n' }, data: { k: '1' } })]]);
  const head = new Map([['x/apps/a.yaml', toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'n' }, data: { k: '2' } })]]);
  const d = diffTrees(base, head);

  it('a section a caller adds (a plan summary, a cost delta) comes after the built-in ones, in both reports', () => {
    const cost: LeadSection = { id: 'cost', title: 'Cost delta', items: (t, { style }) => [{ text: `${style.bold('+12 USD')} a month over ${t.envs.length} environment` }] };
    const md = formatMarkdown(d, { ...ctx, leadSections: [cost] });
    expect(leadOf(md).endsWith('**Cost delta**\n\n- **+12 USD** a month over 1 environment\n\n')).toBe(true);
    expect(formatText(d, { ...ctx, leadSections: [cost] })).toContain('\n  Cost delta:\n    - +12 USD a month over 1 environment\n');
    const off = registerLeadSection({ ...cost, id: 'registered', title: 'Registered' });
    try {
      expect(leadSections().map((s) => s.id)).toStrictEqual(['fixed-nodes', 'objects-nodes', 'namespaces', 'permissions', 'objects-access', 'charts', 'rollouts', 'objects-workloads', 'nodes', 'objects-config', 'aws', 'not-gitops', 'registered']);
    } finally {
      off();
    }
  });

  it('the JSON report keeps every earlier field and adds lead and hunks', () => {
    const json = JSON.parse(formatJson(d, ctx)) as { envs: Record<string, unknown>[] };
    expect(Object.keys(json)).toStrictEqual(['base', 'head', 'envs', 'totals']);
    expect(Object.keys(json.envs[0]!)).toStrictEqual(['env', 'status', 'objects', 'renamed', 'talos', 'cluster', 'lead', 'counts']);
    expect(json.envs[0]!.lead).toStrictEqual({ namespaces: [], permissions: [], charts: [], rollouts: [], objects: [{ object: 'ConfigMap n/a', group: 'config', text: 'keys k changed (mounted: seen by running pods within about a minute; as environment variables: at the next pod start)' }] });
  });

  it('warnings: validate findings of the head with their rule ids, after the lead', () => {
    const w = { severity: 'warning' as const, rule: 'addon.example', file: 'environments/x.yaml', line: 3, col: 5, path: ['addons'], message: 'an <example> finding' };
    const md = formatMarkdown(d, { ...ctx, warnings: [w] });
    const p = parse(md);
    expectWellFormed(p, md);
    expect(p.headings.slice(1, 3)).toStrictEqual(['What changes in the cluster', 'Warnings']);
    expect(p.tables[0]).toStrictEqual({ head: ['rule', 'where', 'finding'], rows: [['`addon.example`', '`environments/x.yaml:3:5`', 'an &lt;example&gt; finding']] });
    expect(formatText(d, { ...ctx, warnings: [w] })).toContain('Warnings (validate, head): 1\n  environments/x.yaml:3:5  addons: warning: an <example> finding [addon.example]');
  });
});

describe('not applied by GitOps: DNS and a new load balancer', () => {
  it('are named under their AWS stack with the command that deploys it', () => {
    const base = new Map<string, string>();
    const d = diffTrees(base, base);
    const impact = (logicalId: string, type: string, name: string, change: 'added' | 'modified') => ({ file: 'aws/base.yaml', logicalId, type, name, change, properties: [], consequence: change === 'added' ? `new ${type} ${name}` : `${name}: updated in place` });
    const env = {
      env: 'x',
      status: 'changed' as const,
      objects: [],
      renamed: [],
      talos: [],
      cluster: [],
      aws: [impact('ApiRecord', 'AWS::Route53::RecordSet', 'api.x.internal', 'modified'), impact('ApiLoadBalancer', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'odp-x-api', 'added'), impact('Bucket', 'AWS::S3::Bucket', 'odp-x-etcd', 'modified')],
      lead: { namespaces: [], permissions: [], charts: [], rollouts: [], objects: [] },
      counts: { added: 0, removed: 0, changed: 0, moved: 0, fields: 0 },
    };
    const text = formatMarkdown({ ...d, envs: [env] }, ctx);
    expectWellFormed(parse(text), text);
    expect(leadOf(text)).toContain(
      '- AWS stack `base` (aws/base.yaml): DNS RecordSet api.x.internal modified; new load balancer odp-x-api; 1 other resource change — CloudFormation applies it: Git sync after merge where it is on, else `sh rendered/x/aws/deploy.sh base`',
    );
  });
});

describe('a lead larger than the limit (hundreds of objects changed at once)', () => {
  // 400 new ClusterRoles, each its own item in the permissions and access sections: the compact lead alone is over 20 000
  // characters, so GitHub would refuse the whole comment; each section keeps its first items and counts the rest.
  const role = (i: number) => toYaml({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `team-role-${String(i).padStart(3, '0')}` }, rules: [{ apiGroups: [''], resources: [`res${i}`], verbs: ['get'] }] });
  const head = new Map(Array.from({ length: 400 }, (_, i) => [`x/platform/rbac/role-${i}.yaml`, role(i)] as const));
  const d = diffTrees(new Map([['x/README.md', '# x\n']]), new Map([['x/README.md', '# x\n'], ...head]));
  const limit = 20000;

  it('fits the limit, well formed, first items named and the rest counted, a notice at the top of the lead', () => {
    const full = formatMarkdown(d, ctx);
    expect(leadOf(full).length).toBeGreaterThan(limit);
    const text = formatMarkdown(d, ctx, limit);
    expect(text.length).toBeLessThanOrEqual(limit);
    const p = parse(text);
    expectWellFormed(p, text);
    expect(leadOf(text)).toMatch(/So many changes that the lead alone exceeds GitHub's 20000-character limit: each section names its first \d+ items and counts the rest/);
    expect(leadOf(text)).toContain('team-role-000');
    const counted = leadItems(p).filter((t) => /^… and \d+ more \(`?npm run diff`? lists every one\)$/.test(t));
    expect(counted.length).toBeGreaterThan(0);
    // Nothing lost: the named and counted items of each section add up to the uncut section's count.
    const named = leadItems(p).filter((t) => t.includes('team-role-')).length;
    const more = counted.reduce((n, t) => n + Number(/\d+/.exec(t)![0]), 0);
    expect(named + more).toBe(leadItems(parse(full)).filter((t) => t.includes('team-role-')).length);
  });

  it('a lead that fits is never cut', () => {
    expect(formatMarkdown(d, ctx)).not.toContain('So many changes');
  });
});
