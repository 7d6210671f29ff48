/**
 * The review comment's lead, "What changes in the cluster": a list of section providers, each turning
 * the diff into a titled list of one-line items, written once for both the Markdown and the text
 * report (a Style says how code, emphasis and free text are spelled). The built-in sections: the fixed
 * nodes the merge stops or replaces (first), new namespaces, new cluster-scoped permissions, charts
 * installed, upgraded or removed, workloads whose pods are replaced, nodes in the order to run them, AWS
 * resources replaced or rolled, and what GitOps does not apply with the step that does. Every other changed GitOps object
 * is said with its consequence (consequences.ts), in one section per group: nodes upgraded (second),
 * access granted or changed (after the permissions), workloads started or stopped (after the pods
 * replaced), configuration only (after them); objects with the same consequence share one item. Every changed
 * object is named in one item only: a chart's or a pod template's with its other lines (homes).
 *
 * More sections come in through FormatContext.leadSections, after the built-in ones (npm run diff
 * adds the cost delta, cost/review.ts, priced from each side's lock), or registerLeadSection. With `compact` a section
 * shortens each item (commands left to the environment's details) and keeps every item; only a compact lead that alone
 * exceeds the comment's limit is cut, per section, to its first items and a count (format.ts formatMarkdown).
 */
import { distributions } from '../distributions/registry.js';
import { USER_DATA_NOT_RUN_ON_START } from '../infra/aws/instance-updates.js';
import { movedIntoParameter, show, type AwsResourceImpact } from './aws-impact.js';
import type { ConsequenceGroup } from './consequences.js';
import type { EnvDiff, TreeDiff } from './diff.js';
import { orderSteps, type RolloutStep } from './lead.js';
import { plural } from './words.js';

/** How the report spells inline parts. */
export interface Style {
  code(s: string): string;
  bold(s: string): string;
  /** Free text (Markdown: angle brackets and other HTML escaped). */
  text(s: string): string;
}

export interface LeadItem {
  text: string;
  /** Items of one ordered run (node steps) are numbered in order. */
  ordered?: boolean;
  /** Ordered runs are numbered per group (the environment, when several changed). */
  group?: string;
}

export interface LeadSectionContext {
  style: Style;
  /** Shorter items (same count): the comment would otherwise exceed its limit. */
  compact: boolean;
}

export interface LeadSection {
  /** Stable id (tests, and where a provider goes). */
  id: string;
  title: string;
  /** One paragraph under the title when the section has items (how to read them). */
  note?: string;
  items(d: TreeDiff, ctx: LeadSectionContext): LeadItem[];
}

const registered: LeadSection[] = [];

/** Add a lead section after the built-in ones until the returned function is called. */
export function registerLeadSection(s: LeadSection): () => void {
  registered.push(s);
  return () => {
    const i = registered.indexOf(s);
    if (i !== -1) registered.splice(i, 1);
  };
}

/** `**env** · ` before an item when several environments changed. */
export const envPrefix = (d: TreeDiff, e: EnvDiff, s: Style): string => (d.envs.length > 1 ? `${s.bold(s.text(e.env))} · ` : '');

const namespaces: LeadSection = {
  id: 'namespaces',
  title: 'New namespaces',
  items: (d, { style: s }) => d.envs.filter((e) => e.lead.namespaces.length > 0).map((e) => ({ text: envPrefix(d, e, s) + e.lead.namespaces.map((n) => s.code(n)).join(', ') })),
};

/** The objects the access section names (their details: what they grant, to whom): the permissions section leaves them to it. */
const accessObjects = (e: EnvDiff): Set<string> => new Set(e.lead.objects.filter((o) => o.group === 'access').map((o) => o.object));

/** `now lets its tenant manage X` of an object whose tenant may now manage new cluster-scoped kinds, if any. */
const tenantKinds = (e: EnvDiff, object: string): string | undefined => {
  const kinds = e.lead.permissions.filter((p) => p.object === object && p.change === 'allows').flatMap((p) => p.kinds ?? []);
  return kinds.length > 0 ? `now lets its tenant manage ${kinds.join(', ')}` : undefined;
};

/**
 * Cluster-scoped permissions no other section details: an object with an access line (a new ClusterRole: what it grants)
 * is named there only, once (EnvLead.permissions, the JSON, still lists it).
 */
const permissions: LeadSection = {
  id: 'permissions',
  title: 'New cluster-scoped permissions',
  note: 'RBAC, CRDs, admission webhooks and the cluster-scoped kinds a tenant may manage: what runs with cluster-wide power.',
  items: (d, { style: s }) =>
    d.envs.flatMap((e) => {
      const detailed = accessObjects(e);
      return e.lead.permissions
        .filter((p) => !detailed.has(p.object))
        .map((p) => ({
          text: envPrefix(d, e, s) + (p.change === 'allows' ? `${s.code(p.object)} now lets its tenant manage ${p.kinds!.map((k) => s.code(k)).join(', ')}` : `${s.code(p.object)} ${s.bold(p.change)}`),
        }));
    }),
};

/**
 * Where each changed object is named in one environment's lead: the chart or pod-template section that says its main change
 * (its other lines said there too), else the section of its most consequential line. An object is named once.
 */
type Home = 'charts' | 'rollouts' | ConsequenceGroup;
function homes(e: EnvDiff): Map<string, Home> {
  const out = new Map<string, Home>();
  for (const o of e.lead.objects) if (!out.has(o.object)) out.set(o.object, o.group); // objects: most consequential first
  for (const r of e.lead.rollouts) out.set(r.object, 'rollouts');
  for (const c of e.lead.charts) out.set(c.object, 'charts');
  return out;
}

/** The consequence lines of an object the chart or pod-template section names (`: line; line`), or nothing. */
const alsoSaid = (e: EnvDiff, object: string, s: Style): string => {
  const lines = e.lead.objects.filter((o) => o.object === object).map((o) => o.text);
  return lines.length > 0 ? `: ${s.text(lines.join('; '))}` : '';
};

/** Charts installed, upgraded or removed; a new or removed object holding a chart is named here only, once. */
const charts: LeadSection = {
  id: 'charts',
  title: 'Charts installed, upgraded or removed',
  items: (d, { style: s }) =>
    d.envs.flatMap((e) =>
      e.lead.charts.map((c, i) => {
        const what = c.from === undefined ? `${s.bold('new')} at ${s.code(c.to!)}` : c.to === undefined ? `${s.bold('removed')} (was ${s.code(c.from)})` : `${s.code(c.from)} → ${s.code(c.to)}`;
        const major = c.major ? ` ⚠️ ${s.bold('major version')}: read the chart's upgrade notes` : '';
        // An object with several charts: its other lines after its first one.
        const also = e.lead.charts.findIndex((x) => x.object === c.object) === i ? alsoSaid(e, c.object, s) : '';
        return { text: `${envPrefix(d, e, s)}${s.code(c.chart)} ${what}${major} ${s.text(`(${c.object}${c.namespace ? `, namespace ${c.namespace}` : ''})`)}${also}` };
      }),
    ),
};

const rollouts: LeadSection = {
  id: 'rollouts',
  title: 'Workloads whose pods are replaced',
  note: 'Their pod template changed: the controller replaces the pods by its update strategy (a CronJob: at its next run).',
  items: (d, { style: s }) =>
    d.envs.flatMap((e) => {
      const home = homes(e);
      return e.lead.rollouts.map((r) => {
        const images = r.images.map((i) => `${s.code(i.container)} ${s.code(i.from)} → ${s.code(i.to)}`);
        const rest = r.otherChanges > 0 ? [s.text(plural(r.otherChanges, r.images.length > 0 ? 'other pod template change' : 'pod template change'))] : [];
        const also = home.get(r.object) === 'rollouts' ? alsoSaid(e, r.object, s).replace(/^: /, '; ') : '';
        return { text: `${envPrefix(d, e, s)}${s.code(r.object)}: ${[...images, ...rest].join('; ')}${also}` };
      });
    }),
};

/** Every distribution's node steps of an environment, in order, and the steps after them. */
export function envRollout(e: EnvDiff): { steps: RolloutStep[]; after: { what: string; command: string }[] } {
  const parts = distributions().flatMap((dist) => (dist.diff.report.rollout ? [dist.diff.report.rollout(e)] : []));
  return { steps: orderSteps(parts.flatMap((p) => p.steps)), after: parts.flatMap((p) => p.after ?? []) };
}

const nodes: LeadSection = {
  id: 'nodes',
  title: 'Nodes, in the order to run them',
  note: 'Control planes one at a time: the next only once etcd and the API are healthy again (the command after each). Then the workers.',
  items: (d, { style: s, compact }) =>
    d.envs.flatMap((e) => {
      const { steps, after } = envRollout(e);
      const group = d.envs.length > 1 ? e.env : undefined;
      const items: LeadItem[] = steps.map((t) => {
        const who = `${s.code(t.pool ? `${t.node} (pool)` : t.node)} ${s.text(t.controlPlane ? '(control plane)' : '(worker)')}`;
        const effect = t.disruptive ? s.bold(s.text(t.effect)) : s.text(t.effect);
        const cmds = compact || t.commands.length === 0 ? '' : `: ${t.commands.map((c) => s.code(c)).join(', then ')}`;
        const gate = t.gate ? `; before the next: ${compact ? s.text('etcd and the API healthy') : s.code(t.gate)}` : '';
        return { ordered: true, group, text: `${who} — ${effect}${cmds}${gate}` };
      });
      for (const a of after) items.push({ ordered: true, group, text: `${s.text(`then, once for the cluster: ${a.what}`)}: ${s.code(a.command)}` });
      return items;
    }),
};

/** AWS changes that take a resource down or replace it: replacements, pool refreshes, stop/start. */
export const awsDisruptive = (a: AwsResourceImpact): boolean =>
  a.change === 'replaced' || (a.change === 'modified' && (a.properties.some((p) => p.replacement !== 'no') || /instance refresh/.test(a.consequence)));

const aws: LeadSection = {
  id: 'aws',
  title: 'AWS resources replaced or rolled',
  items: (d, { style: s, compact }) =>
    d.envs.flatMap((e) =>
      (e.aws ?? []).filter(awsDisruptive).map((a) => ({
        text: `${envPrefix(d, e, s)}${s.code(a.logicalId)} ${s.text(`(${a.type})`)} ${s.bold(a.change)}${compact ? '' : `: ${s.text(a.consequence)}`}`,
      })),
    ),
};

/**
 * Said first: the fixed nodes the merge's stack update stops or replaces (AwsResourceImpact.fixedNode). CloudFormation does
 * it without a drain and moves along the DependsOn chain once the previous instance runs, not once its node is back.
 */
const fixedNodes: LeadSection = {
  id: 'fixed-nodes',
  title: 'Fixed nodes this merge stops or replaces',
  note: 'CloudFormation stops or replaces each one without a drain, the next one along the chain as soon as the previous instance runs, not once its node is Ready again. Take the step named before merging.',
  items: (d, { style: s, compact }) =>
    d.envs.flatMap((e) =>
      (e.aws ?? []).flatMap((a) => {
        const f = a.fixedNode;
        if (!f) return [];
        const who = `${envPrefix(d, e, s)}${s.code(a.name)} ${s.text(f.controlPlane ? '(control plane)' : '(worker)')}`;
        const what: string[] = [];
        if (f.replaced) what.push(`${s.bold('replaced')}${compact ? '' : ` ${s.text('(a new instance and root disk, the same address): first')} ${s.code(`sh rendered/${e.env}/aws/deploy.sh terminate-node ${a.name}`)} ${s.text("and the README's replacement step")}`}`);
        else if (f.type) what.push(`${s.bold('stopped')} ${s.text('for its instance type')} ${s.code(f.type.from)} → ${s.code(f.type.to)}${compact ? '' : `: ${s.text('first')} ${s.code(`sh rendered/${e.env}/aws/deploy.sh node-update ${a.name}`)} ${s.text('(drained, changed alone, Ready again before the next node; deploy.sh nodes refuses the update until then, Git sync would run it undrained)')}`}`);
        if (!f.replaced && f.stops.includes('UserData')) what.push(`${s.bold('stopped')} ${s.text(`for its user data: ${USER_DATA_NOT_RUN_ON_START}`)}${compact ? '' : `; ${s.text('no step changes it alone: drain the node before the update (kubectl drain), uncordon it after')}`}`);
        return [{ text: `${who} — ${what.join('; ')}` }];
      }),
    ),
};

/** `aws/nodes.yaml` → `nodes`. */
const stackOf = (file: string): string => file.replace(/^aws\//, '').replace(/\.ya?ml$/, '');

/** What a reviewer must know is not GitOps': instance types, DNS, load balancers, among an AWS stack's changes. */
function awsCallouts(list: readonly AwsResourceImpact[]): string[] {
  const out: string[] = [];
  for (const a of list) {
    // A type that only moved into the node's stack parameter (same value) changes nothing: not called out.
    const type = a.properties.find((p) => /(^|\.)InstanceType$/.test(p.path) && !movedIntoParameter(p));
    if (type) out.push(`instance type of ${a.name}: ${'old' in type ? show(type.old) : '(none)'} → ${'new' in type ? show(type.new) : '(none)'}`);
    if (a.type.startsWith('AWS::Route53::')) out.push(`DNS ${a.type.replace('AWS::Route53::', '')} ${a.name} ${a.change}`);
    if (a.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer') out.push(`${a.change === 'added' ? 'new ' : ''}load balancer ${a.name}${a.change === 'added' ? '' : ` ${a.change}`}`);
  }
  return out;
}

const manual: LeadSection = {
  id: 'not-gitops',
  title: 'Not applied by GitOps',
  note: 'The GitOps engine applies Kubernetes objects only. These take the step named.',
  items: (d, { style: s, compact }) =>
    d.envs.flatMap((e) => {
      const items: LeadItem[] = [];
      const p = envPrefix(d, e, s);
      if (e.status === 'added') items.push({ text: `${p}${s.text('a new environment: create its AWS stacks, then bootstrap the nodes and the engine')} — ${s.code(`rendered/${e.env}/README.md`)}` });
      const byStack = new Map<string, AwsResourceImpact[]>();
      for (const a of e.aws ?? []) byStack.set(a.file, [...(byStack.get(a.file) ?? []), a]);
      for (const [file, list] of byStack) {
        const callouts = awsCallouts(list);
        const shown = callouts;
        const rest = list.filter((a) => awsCallouts([a]).length === 0).length;
        const others = rest > 0 ? [plural(rest, shown.length > 0 ? 'other resource change' : 'resource change')] : [];
        const what = [...shown, ...others].map((x) => s.text(x)).join('; ');
        const cmd = `sh rendered/${e.env}/aws/deploy.sh ${stackOf(file)}`;
        items.push({ text: `${p}AWS stack ${s.code(stackOf(file))} ${s.text(`(${file})`)}: ${what} — ${s.text('CloudFormation applies it: Git sync after merge where it is on, else')} ${s.code(cmd)}` });
      }
      const { steps } = envRollout(e);
      if (steps.length > 0) {
        const names = steps.map((t) => s.code(t.node));
        items.push({ text: `${p}${s.text(`node configs of ${plural(steps.length, 'node')}`)} (${names.join(', ')}) — ${s.text('the node steps above, in order')}` });
      }
      return items;
    }),
};

/**
 * The section of one consequence group: `object: its consequences`, for the objects named here (homes: their most
 * consequential line is of this group and no chart or pod-template section names them), each with all its lines joined
 * so that it is named once (in the access section a tenant's new cluster-scoped kinds first); objects with the same
 * text in one item.
 */
const consequenceSection = (group: ConsequenceGroup, title: string, note: string): LeadSection => ({
  id: `objects-${group}`,
  title,
  note,
  items: (d, { style: s }) =>
    d.envs.flatMap((e) => {
      const home = homes(e);
      const byObject = new Map<string, string[]>();
      for (const o of e.lead.objects) if (home.get(o.object) === group) byObject.set(o.object, [...(byObject.get(o.object) ?? []), o.text]);
      const byText = new Map<string, string[]>();
      for (const [object, lines] of byObject) {
        const tenant = group === 'access' ? tenantKinds(e, object) : undefined;
        const text = [...(tenant ? [tenant] : []), ...lines].join('; ');
        byText.set(text, [...(byText.get(text) ?? []), object]);
      }
      return [...byText].map(([text, objects]) => ({ text: `${envPrefix(d, e, s)}${objects.map((o) => s.code(o)).join(', ')}: ${s.text(text)}` }));
    }),
});

const nodeObjects = consequenceSection('nodes', 'Nodes upgraded by GitOps objects', 'Applied by the engine after the merge: the controller upgrades the nodes each object selects.');
const access = consequenceSection('access', 'Access granted or changed', 'Who may do what, reach what, or read which secret: RBAC, network policies, secrets delivered to namespaces, what the engine may deploy where.');
const workloadObjects = consequenceSection('workloads', 'Workloads started or stopped', 'New or removed workload objects.');
const config = consequenceSection('config', 'Configuration only', 'No pod template changes and no access changes: what each object changes, and when it takes effect.');

/** The built-in sections, in order. */
export const BUILT_IN_LEAD_SECTIONS: readonly LeadSection[] = [fixedNodes, nodeObjects, namespaces, permissions, access, charts, rollouts, workloadObjects, nodes, config, aws, manual];

/** The sections of a report: the built-in ones, the registered ones, then the report's own. */
export const leadSections = (extra: readonly LeadSection[] = []): LeadSection[] => [...BUILT_IN_LEAD_SECTIONS, ...registered, ...extra];

/** The sections with items, for one report. */
export function leadContent(d: TreeDiff, ctx: LeadSectionContext, extra: readonly LeadSection[] = []): { section: LeadSection; items: LeadItem[] }[] {
  return leadSections(extra)
    .map((section) => ({ section, items: section.items(d, ctx) }))
    .filter((x) => x.items.length > 0);
}
