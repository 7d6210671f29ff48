/**
 * What a change of the rendered AWS layer does in AWS, per resource: added, removed, modified in
 * place, or replaced — from the CloudFormation update behaviour of each changed property
 * (`causesReplacement` of the resource specification the templates are validated against:
 * `yes` → replacement, `maybe` → it depends, explained in words, absent → in place) — and the
 * consequence in words: a launch template's new version rolls its pools (instance refresh, N
 * nodes); an instance's new image replaces it; its new type stops and starts it.
 *
 * Parameters count as properties: a value changed in a stack's deployment file (an AMI id) changes
 * every property that `Ref`s it. Loads the specification only when an AWS template changed.
 */
import { parseYamlStream } from '../lib/yaml.js';
import { cfnSpec, propertiesOf, type CfnSpec, type SpecProperty } from '../infra/aws/spec/spec.js';
import { deepEqual, diffValues, formatFieldPath, type FieldPath } from './fields.js';
import { rollWords } from '../infra/aws/roll.js';
import { stopsInstance, USER_DATA_NOT_RUN_ON_START } from '../infra/aws/instance-updates.js';
import { readUserData } from '../infra/aws/user-data.js';

export type AwsChange = 'added' | 'removed' | 'modified' | 'replaced';

export interface AwsPropertyChange {
  /** Property path below Properties, e.g. `LaunchTemplateData.InstanceType`. */
  path: string;
  /** Update behaviour of the property: replacement yes/maybe, or in place. */
  replacement: 'yes' | 'maybe' | 'no';
  old?: unknown;
  new?: unknown;
}

export interface AwsResourceImpact {
  /** Template file, relative to rendered/<env>/ (aws/nodes.yaml). */
  file: string;
  logicalId: string;
  type: string;
  /** The name a reviewer knows it by (Name tag, role name, pool), when it has one. */
  name: string;
  change: AwsChange;
  properties: AwsPropertyChange[];
  /** What happens, in words. */
  consequence: string;
  /**
   * A fixed node (AWS::EC2::Instance) the update stops (a new instance type or user data: infra/aws/instance-updates.ts)
   * or replaces: what does it, and whether it is a control plane. The review comment says these first.
   */
  fixedNode?: { stops: string[]; type?: { from: string; to: string }; replaced: boolean; controlPlane: boolean };
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const TEMPLATE = /^aws\/(?!.*\.deployment\.ya?ml$)[^/]+\.ya?ml$/;
const DEPLOYMENT = /^aws\/([^/]+)\.deployment\.ya?ml$/;

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const v = parseYamlStream(text)[0];
    return isMap(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** `{ Ref: Param }` → `{ Ref: Param, value }` with the deployment file's value, so a new value is a change. */
function bindParameters(v: unknown, params: Record<string, unknown>): unknown {
  if (Array.isArray(v)) return v.map((x) => bindParameters(x, params));
  if (!isMap(v)) return v;
  if (typeof v.Ref === 'string' && Object.keys(v).length === 1 && v.Ref in params) return { Ref: v.Ref, value: params[v.Ref] };
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bindParameters(x, params)]));
}

/** The deployment file's parameters for a template (`aws/<stack>.deployment.yaml` → `aws/<stack>.yaml`). */
function parametersFor(files: ReadonlyMap<string, string>, template: string): Record<string, unknown> {
  for (const [path, text] of files) {
    const m = DEPLOYMENT.exec(path);
    if (!m) continue;
    const d = parse(text);
    if (d && typeof d['template-file-path'] === 'string' && d['template-file-path'].endsWith(`/${template}`)) return isMap(d.parameters) ? d.parameters : {};
  }
  return {};
}

const RANK = { no: 0, maybe: 1, yes: 2 } as const;

/** The update behaviour of a changed path: the most disruptive `causesReplacement` along it. */
function behaviour(spec: CfnSpec, props: Record<string, SpecProperty>, path: FieldPath): 'yes' | 'maybe' | 'no' {
  let worst: 'yes' | 'maybe' | 'no' = 'no';
  let level: Record<string, SpecProperty> | undefined = props;
  for (const seg of path) {
    if (typeof seg !== 'string') continue;
    const p: SpecProperty | undefined = level?.[seg];
    if (!p) break;
    const r = p.causesReplacement === 'yes' ? 'yes' : p.causesReplacement === 'maybe' ? 'maybe' : 'no';
    if (RANK[r] > RANK[worst]) worst = r;
    let t = p.type;
    while (t.type === 'array' || t.type === 'map') t = t.element;
    level = propertiesOf(spec, t);
  }
  return worst;
}

const tagValue = (props: Record<string, unknown>, key: string): string | undefined => {
  const tags = Array.isArray(props.Tags) ? props.Tags : [];
  const t = tags.find((x) => isMap(x) && x.Key === key) as { Value?: unknown } | undefined;
  return typeof t?.Value === 'string' ? t.Value : undefined;
};

function nameOf(id: string, r: Record<string, unknown>): string {
  const p = isMap(r.Properties) ? r.Properties : {};
  for (const k of ['RoleName', 'ManagedPolicyName', 'InstanceProfileName', 'AutoScalingGroupName', 'LaunchTemplateName', 'GroupName', 'BucketName', 'AliasName', 'Name']) if (typeof p[k] === 'string') return p[k] as string;
  return tagValue(p, 'Name') ?? id;
}

/** A property value as the review shows it (a parameter reference by the value the deployment file gives it). */
export const show = (v: unknown): string => {
  if (isMap(v) && typeof v.Ref === 'string' && 'value' in v) return String(v.value);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? '(absent)' : s.length > 60 ? `${s.slice(0, 59)}…` : s;
};

/**
 * A resource's properties with its UserData (an instance's, a launch template's) as the reviewer reads it: the text
 * cloud-init reads (`content`, gunzipped: infra/aws/user-data.ts) and how the template carries it (`encoding`), so a
 * change says what changed in the script or its settings, not that a base64 blob did, and a change of the encoding
 * alone (the same text, now gzip) is said as such. A value that is not user data the AWS layer writes stays as it is.
 */
function decodedUserData(props: Record<string, unknown>): Record<string, unknown> {
  const view = (v: unknown): unknown => {
    const c = readUserData(v);
    return c ? { content: c.text, encoding: c.encoding } : v;
  };
  const lt = props.LaunchTemplateData;
  if ('UserData' in props) return { ...props, UserData: view(props.UserData) };
  if (isMap(lt) && 'UserData' in lt) return { ...props, LaunchTemplateData: { ...lt, UserData: view(lt.UserData) } };
  return props;
}

/** Whether a property path is the decoded user data's text or its encoding (decodedUserData). */
const userDataPart = (path: string): 'content' | 'encoding' | undefined => /(^|\.)UserData\.(content|encoding)$/.exec(path)?.[2] as 'content' | 'encoding' | undefined;

/** A changed value in words; the user data's text as its changed lines (the review copy's diff shows them). */
function shownChange(p: AwsPropertyChange): string {
  if (userDataPart(p.path) !== 'content' || typeof p.old !== 'string' || typeof p.new !== 'string') return `${show(p.old)} → ${show(p.new)}`;
  const count = (a: string[], b: string[]) => {
    const left = new Map<string, number>();
    for (const l of b) left.set(l, (left.get(l) ?? 0) + 1);
    return a.filter((l) => {
      const n = left.get(l) ?? 0;
      if (n > 0) left.set(l, n - 1);
      return n === 0;
    }).length;
  };
  const [o, n] = [p.old.split('\n'), p.new.split('\n')];
  return `decoded: ${count(n, o)} line(s) added, ${count(o, n)} removed`;
}

/**
 * The words for a user data whose encoding alone changed (text → gzip): nothing in the script or its settings, but
 * the template's value changed, so CloudFormation updates it once like any user data change.
 */
const ENCODING_ONLY = 'the same user data, now carried gzip-compressed (infra/aws/user-data.ts): nothing in the boot script or its settings changed, but the property value did, once';

/**
 * `maybe` in words, for the properties the AWS layer emits (from the specification's documentation
 * of each: AWS::EC2::Instance InstanceType "When you change your EBS-backed instance type, instance
 * restart or replacement behavior depends on the instance type compatibility…").
 */
const MAYBE: Record<string, string> = {
  'AWS::EC2::Instance.InstanceType': 'CloudFormation stops the instance, changes the type and starts it (EBS-backed; same disk and address); it replaces the instance when the types are incompatible (another architecture, or an instance-store root)',
  'AWS::EC2::Instance.UserData': `CloudFormation stops and starts the instance; ${USER_DATA_NOT_RUN_ON_START} (or the change is made on the node by hand)`,
  'AWS::EC2::Instance.SecurityGroupIds': 'in place for an instance in a VPC (its network interface takes the new groups)',
  'AWS::EC2::Instance.EbsOptimized': 'CloudFormation stops and starts the instance',
};

/**
 * `maybe` resolved from the property's documentation where the path alone decides. AWS::EC2::Instance
 * BlockDeviceMappings (specification 0.1.216, its documentation): "After the instance is running, you can modify
 * only the `DeleteOnTermination` parameter for the attached volumes without interrupting the instance. Modifying
 * any other parameter results in instance replacement" — a larger root volume too.
 */
const RESOLVED: Record<string, (path: FieldPath) => 'yes' | 'no'> = {
  'AWS::EC2::Instance.BlockDeviceMappings': (path) => (path.at(-1) === 'DeleteOnTermination' ? 'no' : 'yes'),
};

function resolved(type: string, path: FieldPath, r: 'yes' | 'maybe' | 'no'): 'yes' | 'maybe' | 'no' {
  const f = r === 'maybe' && typeof path[0] === 'string' ? RESOLVED[`${type}.${path[0]}`] : undefined;
  return f ? f(path) : r;
}

function maybeText(type: string, path: string, spec: CfnSpec, fixedUserData?: string): string {
  // The property is the path's first segment: `UserData["Fn::Base64"]` is UserData, `Tags[0].Value` is Tags.
  const top = path.split(/[.[]/)[0]!;
  const known = type === 'AWS::EC2::Instance' && top === 'UserData' && fixedUserData ? fixedUserData : MAYBE[`${type}.${top}`];
  if (known) return known;
  const doc = spec.resource(type)?.properties[top]?.documentation ?? '';
  const sentence = doc.split(/(?<=\.)\s+/).find((s) => /replace|interruption|restart|stop/i.test(s));
  return sentence ? `it depends (specification: “${sentence.trim()}”)` : 'it depends on the values (CloudFormation decides at update time)';
}

/**
 * A removed fixed instance with termination protection (infra/aws/termination.ts): the update's cleanup cannot terminate
 * it (EC2 refuses, CloudFormation skips it after its retries and the update still ends UPDATE_COMPLETE), so the node's
 * instance is terminated before the merge (deploy.sh nodes refuses the update otherwise: infra/aws/deploy.ts removedGate).
 */
const protectedRemoval = (name: string): string =>
  ` — but it carries termination protection (DisableApiTermination), which the update's cleanup cannot get past: it would skip the instance, end UPDATE_COMPLETE and leave it on its fixed address with its disk. run aws/deploy.sh terminate-node ${name} first, before merging`;

function consequence(type: string, name: string, change: AwsChange, props: AwsPropertyChange[], spec: CfnSpec, pools: Map<string, { pool: string; group: string; size: string; words?: string }[]>, id: string, fixedUserData?: string, removedProtected?: boolean): string {
  const list = (ps: AwsPropertyChange[]) => ps.map((p) => `${p.path}${p.old !== undefined || p.new !== undefined ? ` (${shownChange(p)})` : ''}${userDataPart(p.path) === 'encoding' && !ps.some((x) => userDataPart(x.path) === 'content') ? `: ${ENCODING_ONLY}` : ''}`).join(', ');
  if (change === 'added') return `new ${type} ${name}`;
  if (change === 'removed') return `${type} ${name} is deleted${type === 'AWS::S3::Bucket' || type === 'AWS::KMS::Key' ? ' from the stack (retained in AWS: DeletionPolicy RetainExceptOnCreate)' : ''}${removedProtected ? protectedRemoval(name) : ''}`;
  if (type === 'AWS::EC2::LaunchTemplate') {
    const rolled = pools.get(id) ?? [];
    const what = `launch template version (${list(props)})`;
    return rolled.length > 0 ? `${what} → instance refresh of ${rolled.map((r) => `pool ${r.pool}, ${r.size} node${r.size === '1' ? '' : 's'}${r.words ? `, ${r.words}` : ''}`).join('; ')} (each replaced by a new instance from the new version)${refreshFails(rolled.map((r) => r.pool))}` : `${what} → new version; instances launched from now on use it`;
  }
  if (type === 'AWS::AutoScaling::AutoScalingGroup') {
    const pool = [...pools.values()].flat().find((x) => x.group === name)?.pool ?? name;
    const words = props.map((p) => groupChange(pool, p)).filter((w): w is string => w !== undefined);
    if (words.length > 0) return `${name}: ${words.join('; ')}`;
  }
  if (change === 'replaced') {
    const why = props.filter((p) => p.replacement === 'yes').map((p) => p.path);
    const data = type === 'AWS::S3::Bucket' ? ': a new, empty bucket (the old one is retained with its data)' : type === 'AWS::KMS::Key' ? ': a new key (the old one is retained; data encrypted with it still needs it)' : type === 'AWS::EC2::Instance' ? ': a new instance (new root disk; the node must rejoin)' : '';
    return `${why.join(', ')} of ${name} → replacement${data}`;
  }
  // DependsOn alone orders the resource's future updates (infra/aws/stacks.ts fixedNodeOrder); no property changes.
  if (props.every((p) => p.path === 'DependsOn')) return `${name}: update order only (${list(props)}): no property changes, nothing happens to it`;
  const maybe = props.filter((p) => p.replacement === 'maybe');
  if (maybe.length > 0) {
    // One sentence per property: the user data's content and encoding are one property (UserData) to CloudFormation.
    const said = maybe.filter((p) => userDataPart(p.path) !== 'encoding' || !maybe.some((x) => userDataPart(x.path) === 'content'));
    return said.map((p) => `${p.path} of ${name} (${shownChange(p)})${userDataPart(p.path) === 'encoding' ? `: ${ENCODING_ONLY}` : userDataPart(p.path) === 'content' && said.length < maybe.length ? ', now carried gzip-compressed' : ''} → ${maybeText(type, p.path, spec, fixedUserData)}`).join('; ');
  }
  return `${name}: ${list(props)} updated in place`;
}

/**
 * A failed instance refresh (AWS: "An instance refresh might fail for several reasons, such as EC2 launch failures,
 * misconfigured health checks…", EC2 Auto Scaling API reference, StartInstanceRefresh) fails the stack update, which
 * CloudFormation rolls back to the previous template: the group's launch template version included. Its documentation
 * of the AutoScalingInstanceRefresh policy does not say that the rollback replaces the instances already replaced, so
 * a pool may stay split between two versions; `deploy.sh roll-pool` replaces every instance with the group's version.
 */
const refreshFails = (pools: readonly string[]): string =>
  `; a failed refresh fails the stack update, which rolls back to the previous version: the instances already replaced may stay on the new one (a split pool; aws autoscaling describe-auto-scaling-instances shows each one's LaunchTemplate.Version) until aws/deploy.sh roll-pool ${pools.join(' / ')} replaces them`;

/**
 * A group's own changes in words: its subnets (VPCZoneIdentifier; the specification's documentation: "When you
 * update VPCZoneIdentifier, this retains the same Auto Scaling group and replaces old instances with new ones,
 * according to the specified subnets. You can optionally specify how CloudFormation handles these updates by using
 * an UpdatePolicy attribute" — the AutoScalingInstanceRefresh policy names LaunchTemplate and MixedInstancesPolicy as
 * what starts a refresh, not the subnets; Auto Scaling itself rebalances across Availability Zones, launching
 * before terminating, up to 10 % above the group's maximum: EC2 Auto Scaling User Guide, "Rebalancing activities"),
 * and its roll (UpdatePolicy: infra/aws/roll.ts).
 */
function groupChange(pool: string, p: AwsPropertyChange): string | undefined {
  if (p.path.startsWith('VPCZoneIdentifier'))
    return `subnets (${show(p.old)} → ${show(p.new)}): instances launched from now on go to the new subnets; the running ones in a removed subnet are not moved by the one-at-a-time instance refresh (a subnet change does not start one) — Auto Scaling may rebalance them across Availability Zones itself (launching first, terminating through the drain hook, several at once), or leave a subnet of the same zone alone: after the deploy, run aws/deploy.sh roll-pool ${pool} to move every instance one at a time, each new one joined before an old one is drained`;
  if (p.path === 'UpdatePolicy') {
    const max = (v: unknown) => (isMap(v) && isMap(v.AutoScalingInstanceRefresh) && isMap(v.AutoScalingInstanceRefresh.Preferences) ? v.AutoScalingInstanceRefresh.Preferences.MaxHealthyPercentage : undefined);
    const [b, h] = [max(p.old), max(p.new)];
    if (typeof h === 'number') return `the instance refresh's maximum healthy percentage ${show(b)} → ${h} %: no instance changes now; the next launch template change rolls it ${b === undefined || typeof b !== 'number' || h < b ? 'in smaller batches' : 'in larger batches'}`;
  }
  return undefined;
}

/** Pools rolled by each launch template: the auto-scaling groups that use it, with their size and batch (./roll.ts). */
function poolsByTemplate(resources: Record<string, unknown>): Map<string, { pool: string; group: string; size: string; words?: string }[]> {
  const out = new Map<string, { pool: string; group: string; size: string; words?: string }[]>();
  for (const r of Object.values(resources)) {
    if (!isMap(r) || r.Type !== 'AWS::AutoScaling::AutoScalingGroup' || !isMap(r.Properties)) continue;
    const lt = r.Properties.LaunchTemplate;
    const ref = isMap(lt) && isMap(lt.LaunchTemplateId) ? lt.LaunchTemplateId.Ref : undefined;
    if (typeof ref !== 'string') continue;
    const tags = Array.isArray(r.Properties.Tags) ? r.Properties.Tags : [];
    const pool = (tags.find((t) => isMap(t) && t.Key === 'odp:pool') as { Value?: string } | undefined)?.Value ?? String(r.Properties.AutoScalingGroupName ?? ref);
    const size = String(r.Properties.DesiredCapacity ?? r.Properties.MinSize ?? '?');
    const up = isMap(r.UpdatePolicy) && isMap(r.UpdatePolicy.AutoScalingInstanceRefresh) && isMap(r.UpdatePolicy.AutoScalingInstanceRefresh.Preferences) ? r.UpdatePolicy.AutoScalingInstanceRefresh.Preferences : undefined;
    const words = up && up.MinHealthyPercentage === 100 && typeof up.MaxHealthyPercentage === 'number' && /^\d+$/.test(size) ? rollWords(Number(size), up.MaxHealthyPercentage) : undefined;
    out.set(ref, [...(out.get(ref) ?? []), { pool, group: String(r.Properties.AutoScalingGroupName ?? ''), size, ...(words ? { words } : {}) }]);
  }
  return out;
}

/**
 * AWS impact of one environment (paths relative to rendered/<env>/); empty when no template changed. \`controlPlanesDown\`:
 * what its control planes down together take with them, in its distribution's words (Distribution.diff.controlPlanesDown:
 * its datastore's); without it, words that hold for any datastore. \`fixedUserData\`: what a fixed instance's changed user
 * data does, in its distribution's words (Distribution.diff.fixedUserData); without it, the generic MAYBE text.
 */
export function awsImpacts(base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>, controlPlanesDown = CONTROL_PLANES_DOWN, fixedUserData?: string): AwsResourceImpact[] {
  const templates = [...new Set([...base.keys(), ...head.keys()])].filter((p) => TEMPLATE.test(p)).sort();
  const changed = templates.filter((t) => {
    const dep = (files: ReadonlyMap<string, string>) => JSON.stringify(parametersFor(files, t.slice(4)));
    return base.get(t) !== head.get(t) || dep(base) !== dep(head);
  });
  if (changed.length === 0) return [];
  const spec = cfnSpec();
  const out: AwsResourceImpact[] = [];
  for (const file of changed) {
    const bt = parse(base.get(file));
    const ht = parse(head.get(file));
    if ((bt && !isMap(bt.Resources)) || (ht && !isMap(ht.Resources))) continue;
    const bres = bindParameters(bt?.Resources ?? {}, parametersFor(base, file.slice(4))) as Record<string, Record<string, unknown>>;
    const hres = bindParameters(ht?.Resources ?? {}, parametersFor(head, file.slice(4))) as Record<string, Record<string, unknown>>;
    const pools = poolsByTemplate(hres);
    for (const id of [...new Set([...Object.keys(bres), ...Object.keys(hres)])].sort()) {
      const b = bres[id];
      const h = hres[id];
      const r = (h ?? b)!;
      const type = String(r.Type);
      const name = nameOf(id, r);
      if (!b || !h) {
        const change: AwsChange = b ? 'removed' : 'added';
        const removedProtected = change === 'removed' && type === 'AWS::EC2::Instance' && isMap(r.Properties) && r.Properties.DisableApiTermination === true;
        out.push({ file, logicalId: id, type, name, change, properties: [], consequence: consequence(type, name, change, [], spec, pools, id, undefined, removedProtected) });
        continue;
      }
      if (deepEqual(b, h)) continue;
      if (b.Type !== h.Type) {
        out.push({ file, logicalId: id, type, name, change: 'replaced', properties: [{ path: 'Type', replacement: 'yes', old: b.Type, new: h.Type }], consequence: `${name}: type ${String(b.Type)} → ${type}: a new resource replaces the old one` });
        continue;
      }
      const specProps = spec.resource(type)?.properties ?? {};
      const props: AwsPropertyChange[] = [];
      const bp = decodedUserData(isMap(b.Properties) ? b.Properties : {});
      const hp = decodedUserData(isMap(h.Properties) ? h.Properties : {});
      for (const c of diffValues(bp, hp)) {
        // One entry per top-level property and nested path, with the worst behaviour along it.
        const path = formatFieldPath(c.path);
        const ref = c.path.findIndex((s) => s === 'value');
        const shown = ref > 0 ? c.path.slice(0, ref) : c.path;
        props.push({ path: ref > 0 ? formatFieldPath(shown) : path, replacement: resolved(type, shown, behaviour(spec, specProps, shown)), ...('old' in c ? { old: c.old } : {}), ...('new' in c ? { new: c.new } : {}) });
      }
      for (const attr of ['UpdatePolicy', 'DeletionPolicy', 'UpdateReplacePolicy', 'DependsOn'])
        if (!deepEqual(b[attr], h[attr])) props.push({ path: attr, replacement: 'no', old: b[attr], new: h[attr] });
      const change: AwsChange = props.some((p) => p.replacement === 'yes') ? 'replaced' : 'modified';
      // A parameter read at a node's boot (a fixed node's config, the release): who reads it is in its Description.
      const readers = type === 'AWS::SSM::Parameter' && props.some((p) => p.path === 'Value') && typeof hp.Description === 'string' ? ` — ${hp.Description}` : '';
      out.push({ file, logicalId: id, type, name, change, properties: props, consequence: consequence(type, name, change, props, spec, pools, id, fixedUserData) + readers });
    }
  }
  foldRenamedInstances(out);
  const headResources = (i: AwsResourceImpact) => (parse(head.get(i.file))?.Resources ?? {}) as Record<string, { DependsOn?: unknown; Properties?: Record<string, unknown> }>;
  sameAddress(out, headResources);
  fixedNodesStopped(out, (i) => tagValue(headResources(i)[i.logicalId]?.Properties ?? {}, 'odp:role') === 'controlplane');
  exportedValues(out, base);
  // CloudFormation updates independent resources in parallel: several control planes stopped or
  // replaced by one stack update are down together (what goes with them is the datastore's: controlPlanesDown),
  // unless a DependsOn chain orders them (infra/aws/stacks.ts fixedNodeOrder): then one after another.
  const roleOf = (i: AwsResourceImpact): string | undefined => tagValue(headResources(i)[i.logicalId]?.Properties ?? {}, 'odp:role');
  // A new instance type alone has its step (fixedNodesStopped): node-update, one node at a time, gated.
  const typeOnly = (i: AwsResourceImpact) => i.fixedNode !== undefined && !i.fixedNode.replaced && i.fixedNode.stops.length === 1 && i.fixedNode.type !== undefined;
  const disrupted = out.filter((i) => i.type === 'AWS::EC2::Instance' && (i.change === 'replaced' || i.properties.some((p) => p.replacement !== 'no')) && roleOf(i) === 'controlplane');
  if (disrupted.length > 1) {
    const others = `with ${disrupted.length - 1} other control plane${disrupted.length > 2 ? 's' : ''} in the same update`;
    const chained = disrupted.every((a) => disrupted.every((b) => a === b || dependsOn(headResources(a), a.logicalId, b.logicalId) || dependsOn(headResources(b), b.logicalId, a.logicalId)));
    for (const i of disrupted)
      i.consequence += chained
        ? `; ${others}: CloudFormation updates them one after another (the control planes' DependsOn chain), the next once the previous one's instance update is done, not once its node is back in the cluster (a slow start still overlaps the next stop: ${controlPlanesDown}) — ${typeOnly(i) ? 'unless aws/deploy.sh node-update changed each one first' : 'change one control plane per merge where the change allows it'}`
        : `; ${others}, which CloudFormation runs in parallel: they go down together (${controlPlanesDown}) — change one control plane per merge`;
  }
  return out;
}

/** A literal value that became a reference to a stack parameter the deployment file gives the same value: no change. */
export function movedIntoParameter(p: AwsPropertyChange): boolean {
  return isMap(p.new) && typeof p.new.Ref === 'string' && 'value' in p.new && deepEqual(p.new.value, p.old);
}

/**
 * The fixed nodes an update stops or replaces (AwsResourceImpact.fixedNode). A stopping property whose value only moved
 * into a parameter (a literal instance type → the node's type parameter of the same value: infra/aws/stacks.ts
 * nodeTypeParameter) stops nothing: said so in its words instead. A new instance type is what `deploy.sh nodes` refuses
 * and `deploy.sh node-update` applies one node at a time (infra/aws/deploy.ts); user data has no such step.
 */
function fixedNodesStopped(out: AwsResourceImpact[], controlPlane: (i: AwsResourceImpact) => boolean): void {
  for (const i of out) {
    if (i.type !== 'AWS::EC2::Instance' || (i.change !== 'modified' && i.change !== 'replaced')) continue;
    const moved = i.properties.filter((p) => stopsInstance(p.path) && movedIntoParameter(p));
    for (const p of moved) {
      p.replacement = 'no';
      i.consequence = i.consequence.replace(
        `${p.path} of ${i.name} (${show(p.old)} → ${show(p.new)}) → ${MAYBE[`AWS::EC2::Instance.${p.path.split(/[.[]/)[0]}`]}`,
        `${p.path} of ${i.name}: the same value ${show(p.new)}, now from the stack parameter ${String((p.new as { Ref: string }).Ref)}: CloudFormation compares the resolved values, so no stop is expected (not verified against an AWS text: deploy this merge at a quiet time)`,
      );
    }
    const stops = [...new Set(i.properties.filter((p) => stopsInstance(p.path) && !moved.includes(p)).map((p) => p.path.split(/[.[]/)[0]!))];
    if (i.change === 'modified' && stops.length === 0) continue;
    const type = i.properties.find((p) => p.path.split(/[.[]/)[0] === 'InstanceType' && !moved.includes(p));
    i.fixedNode = { stops, ...(type ? { type: { from: show(type.old), to: show(type.new) } } : {}), replaced: i.change === 'replaced', controlPlane: controlPlane(i) };
    if (i.change === 'modified' && stops.includes('InstanceType'))
      i.consequence += `; undrained, and the next one along the chain as soon as this instance runs again: deploy.sh nodes refuses this update, run aws/deploy.sh node-update ${i.name} first (drained, alone in its stack update, Ready again before the next node), then the merge stops nothing`;
  }
}

/** Whether resource `from` waits for `to` through DependsOn, directly or along a chain. */
function dependsOn(resources: Record<string, { DependsOn?: unknown }>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    const d = resources[x]?.DependsOn;
    const next = typeof d === 'string' ? [d] : Array.isArray(d) ? d.filter((v): v is string => typeof v === 'string') : [];
    if (next.includes(to)) return true;
    stack.push(...next);
  }
  return false;
}

/** Export names a template imports (`Fn::ImportValue` of a literal name) anywhere in its resources or outputs. */
export function importsOf(t: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isMap(v)) return;
    if (typeof v['Fn::ImportValue'] === 'string') out.add(v['Fn::ImportValue']);
    Object.values(v).forEach(walk);
  };
  walk(t?.Resources);
  walk(t?.Outputs);
  return out;
}

/**
 * A replaced resource behind an export another running stack imports (a node security group, an instance profile):
 * its new physical id changes the export's value, which CloudFormation refuses while it is imported ("After another
 * stack imports an output value, you can't … modify the exported output value": template reference,
 * "Fn::ImportValue"), so the update fails and rolls back. Read off the base tree: the stacks as they run.
 */
function exportedValues(out: AwsResourceImpact[], base: ReadonlyMap<string, string>): void {
  const imported = new Map<string, string>();
  for (const [path, text] of base) if (TEMPLATE.test(path)) for (const name of importsOf(parse(text))) imported.set(name, path);
  for (const i of out) {
    if (i.change !== 'replaced') continue;
    const outputs = parse(base.get(i.file))?.Outputs;
    for (const o of Object.values(isMap(outputs) ? outputs : {})) {
      if (!isMap(o) || !isMap(o.Export) || typeof o.Export.Name !== 'string' || !imported.has(o.Export.Name)) continue;
      const v = o.Value;
      const names = isMap(v) && (v.Ref === i.logicalId || (Array.isArray(v['Fn::GetAtt']) && v['Fn::GetAtt'][0] === i.logicalId));
      if (names) i.consequence += `; its export ${o.Export.Name} changes value while ${imported.get(o.Export.Name)} imports it, which CloudFormation refuses: this stack's update fails and rolls back (keep the resource's replacing properties, or move the importer off the export first)`;
    }
  }
}

/**
 * A fixed node replaced by a property change (ImageId, a root volume) keeps its PrivateIpAddress: CloudFormation
 * creates the replacement first (AWS CloudFormation user guide, "Understand update behaviors of stack resources" →
 * Replacement), which EC2 refuses while the old instance still holds the address, so the update fails and rolls
 * back unless the old instance was terminated first — the same steps as a raised `replacement` (foldRenamedInstances).
 */
function sameAddress(out: AwsResourceImpact[], headResources: (i: AwsResourceImpact) => Record<string, { Properties?: Record<string, unknown> }>): void {
  for (const i of out) {
    if (i.type !== 'AWS::EC2::Instance' || i.change !== 'replaced' || i.properties.some((p) => p.path === '(logical id)' || p.path.startsWith('PrivateIpAddress'))) continue;
    const ip = headResources(i)[i.logicalId]?.Properties?.PrivateIpAddress;
    if (typeof ip !== 'string') continue;
    i.consequence += `; the new instance takes the same address ${ip}, which EC2 refuses while the old instance holds it (CloudFormation creates the replacement first: the update fails and rolls back): run aws/deploy.sh terminate-node ${i.name} and the distribution's cluster side (the README's replacement step) before merging`;
  }
}

/**
 * A fixed node whose `replacement` was raised: its instance resource is renamed (infra/aws/stacks.ts nodeLogicalId),
 * which the item list would show as one instance added and one deleted. Folded into one replacement under the new
 * id: CloudFormation creates the new instance during the update and deletes the old resource in its cleanup (AWS
 * CloudFormation user guide, "Understand update behaviors of stack resources").
 */
function foldRenamedInstances(out: AwsResourceImpact[]): void {
  const isInstance = (i: AwsResourceImpact, c: AwsChange) => i.type === 'AWS::EC2::Instance' && i.change === c;
  for (const added of out.filter((i) => isInstance(i, 'added'))) {
    const k = out.findIndex((i) => isInstance(i, 'removed') && i.file === added.file && i.name === added.name && i.name !== i.logicalId);
    if (k < 0) continue;
    const removed = out[k]!;
    added.change = 'replaced';
    added.properties = [{ path: '(logical id)', replacement: 'yes', old: removed.logicalId, new: added.logicalId }];
    added.consequence = `node ${added.name}: replacement (its \`replacement\` was raised): a new instance with the same address, then the old resource ${removed.logicalId} is deleted; EC2 refuses the address while the old instance still holds it (the update then rolls back): run aws/deploy.sh terminate-node ${added.name} before merging; the new node must join the cluster (the README's replacement step)`;
    out.splice(k, 1);
  }
}

/** What control planes down together take with them when the distribution does not say (any datastore). */
export const CONTROL_PLANES_DOWN = 'the API, and the datastore when it runs on them';

export const AWS_MARK: Record<AwsChange, string> = { added: '+', removed: '-', modified: '~', replaced: '!' };

export const awsImpactLines = (i: AwsResourceImpact): string[] => [
  `${AWS_MARK[i.change]} ${i.type} ${i.logicalId}${i.name !== i.logicalId ? ` (${i.name})` : ''}: ${i.change}  [${i.file}]`,
  `    ${i.consequence}`,
  ...i.properties.map((p) => `    ${p.path}: ${p.replacement === 'yes' ? 'replacement' : p.replacement === 'maybe' ? 'may interrupt or replace' : 'in place'}`),
];
