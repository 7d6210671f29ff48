/**
 * Checker over the rendered files of a distribution of this family, for `npm run validate`: every key of every rendered config
 * (standalone and inside the user-data) is a flag of the pinned release for the target's role with a
 * value of the right type; every user-data is a `#cloud-config` YAML document within EC2's size
 * limit that embeds exactly the standalone config; no config carries a token or a datastore password.
 */
import { CONFIG_PARAM_SETTING, configFromParameter, configParameterName } from './node-config.js';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { parseTaint } from '../../lib/scheduling.js';
import type { NodeConfig } from '../../validate/rendered/gpu.js';
import { isMap as isMapValue, type ParsedFile } from '../../validate/rendered/tree.js';
import { didYouMean } from '../../lib/suggest.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { Diagnostic } from '../../validate/diagnostics.js';
import { USER_DATA_ENCODING, USER_DATA_LIMIT } from './boot.js';
import { carryUserData, compressedFrom } from '../../infra/aws/user-data.js';
import { withoutHashHeader } from '../../render/header.js';
import { BOOT_SETTINGS_PATH, parseBootSettings } from './boot-settings.js';
import { roleOf, type NodeRole } from './config.js';
import { checkFlagIn, type FlagCatalog } from './flags.js';

/** What differs between the distributions for the checker. */
export interface RenderedCheckSpec {
  /** Rule prefix, e.g. `<name>` → rules `<name>-rendered`, `<name>-secret`, `<name>-userdata`. */
  rule: string;
  /** Product name in messages. */
  product: string;
  /** Folder under rendered/<env>/ (the distribution's name). */
  dir: string;
  /** Host path of config.yaml, which the user-data writes. */
  configPath: string;
  flags: FlagCatalog;
  /** Environment variable the boot script assembles the DSN in (for the hint). */
  datastoreVariable: string;
}

/** Keys that must never appear in a rendered config (their secrets are read at boot). */
const SECRET_KEYS = ['token', 't', 'agent-token', 'vpn-auth', 'etcd-s3-access-key', 'etcd-s3-secret-key', 'etcd-s3-session-token'];

/** Check one rendered config text; `file` is the path reported (relative to the repo). */
export function checkConfigText(spec: RenderedCheckSpec, file: string, text: string, role: NodeRole): Diagnostic[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, version: '1.1' });
  const out: Diagnostic[] = [];
  const at = (offset: number | undefined) => lc.linePos(offset ?? 0);
  const rendered = `${spec.rule}-rendered`;
  const secret = `${spec.rule}-secret`;
  if (doc.errors.length > 0) {
    const { line, col } = at(doc.errors[0]!.pos[0]);
    return [{ severity: 'error', rule: rendered, file, line, col, path: [], message: `not YAML: ${doc.errors[0]!.message.split('\n')[0]}` }];
  }
  if (!isMap(doc.contents)) return [{ severity: 'error', rule: rendered, file, line: 1, col: 1, path: [], message: `a ${spec.product} config must be a YAML map` }];
  const js = doc.toJS() as Record<string, unknown>;
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const { line, col } = at(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
    const value = js[key];
    const issue = checkFlagIn(spec.flags, role, key, value, (w, c) => didYouMean(w, c));
    if (issue) out.push({ severity: 'error', rule: rendered, file, line, col, path: [key], message: issue.message, hint: issue.hint });
    if (SECRET_KEYS.includes(key)) out.push({ severity: 'error', rule: secret, file, line, col, path: [key], message: `'${key}' puts a secret into the rendered tree`, hint: 'read it from SSM at boot into a *-file key, or use the instance profile' });
    if (key === 'datastore-endpoint' && typeof value === 'string' && /^[a-z]+:\/\/[^/@]*:[^/@]*@/.test(value))
      out.push({ severity: 'error', rule: secret, file, line, col, path: [key], message: 'datastore-endpoint carries a password', hint: `assemble the DSN at boot from SSM (${spec.datastoreVariable})` });
  }
  return out;
}

/** The value of a base-stack SSM parameter (aws/base.yaml) by name; undefined when there is none. */
function baseParameter(files: ReadonlyMap<string, string>, name: string): string | undefined {
  const base = files.get('aws/base.yaml');
  if (base === undefined) return undefined;
  const resources = (parseDocument(base).toJS() as { Resources?: Record<string, { Type?: string; Properties?: { Name?: string; Value?: unknown } }> }).Resources ?? {};
  const r = Object.values(resources).find((x) => x.Type === 'AWS::SSM::Parameter' && x.Properties?.Name === name);
  return typeof r?.Properties?.Value === 'string' ? r.Properties.Value : undefined;
}

/**
 * Whether a fixed node's boot script reads its config parameter, by structure: its settings file (BOOT_SETTINGS_PATH)
 * defines CONFIG_PARAM as the node's parameter name, and a boot script (a `#!` file of the user data) calls
 * `ssm_parameter "$CONFIG_PARAM"` in code (not a comment). One message per way it fails.
 */
export function checkConfigRead(rule: string, file: string, node: string, name: string, written: readonly { path: string; content: string }[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = { severity: 'error' as const, rule, file, path: ['write_files'] };
  const settings = written.find((f) => f.path === BOOT_SETTINGS_PATH);
  const value = settings === undefined ? undefined : parseBootSettings(settings.content)[CONFIG_PARAM_SETTING];
  if (value === undefined) out.push({ ...at, message: `the boot settings (${BOOT_SETTINGS_PATH}) of fixed node ${node} define no ${CONFIG_PARAM_SETTING}: it names the config parameter ${name}` });
  else if (value !== name) out.push({ ...at, message: `${CONFIG_PARAM_SETTING} in the boot settings of fixed node ${node} is '${value}'; its config parameter is ${name}` });
  const call = new RegExp(`(?:^|[\\s;&|(\`])ssm_parameter\\s+"\\$\\{?${CONFIG_PARAM_SETTING}\\}?"(?=$|[\\s;&|)\`])`);
  const code = written.filter((f) => f.content.startsWith('#!')).flatMap((f) => f.content.split('\n')).map((l) => l.trim()).filter((l) => !l.startsWith('#'));
  if (!code.some((l) => call.test(l))) out.push({ ...at, message: `the boot script of fixed node ${node} does not call ssm_parameter "$${CONFIG_PARAM_SETTING}": it does not read its config parameter ${name}` });
  return out;
}

/** Check the config and user-data files of one rendered environment (`files`: path relative to rendered/<env>/ → text). */
export function checkRenderedTargets(spec: RenderedCheckSpec, m: EnvironmentModel, files: ReadonlyMap<string, string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const repoPath = (p: string): string => `${m.renderedDir}/${p}`;
  const rendered = `${spec.rule}-rendered`;
  const userdata = `${spec.rule}-userdata`;
  for (const t of m.configTargets) {
    const role = roleOf(t);
    const configPath = `${spec.dir}/${t.name}.yaml`;
    const config = files.get(configPath);
    if (config === undefined) out.push({ severity: 'error', rule: rendered, file: repoPath(configPath), path: [], message: `missing ${spec.product} config` });
    else out.push(...checkConfigText(spec, repoPath(configPath), config, role));
    const udPath = `${spec.dir}/userdata/${t.name}.yaml`;
    const ud = files.get(udPath);
    const udFile = repoPath(udPath);
    if (ud === undefined) {
      out.push({ severity: 'error', rule: userdata, file: udFile, path: [], message: 'missing user-data' });
      continue;
    }
    if (!ud.startsWith('#cloud-config\n')) out.push({ severity: 'error', rule: userdata, file: udFile, line: 1, col: 1, path: [], message: "user-data must start with the line '#cloud-config'" });
    // The bytes EC2 holds: the review copy's text (without its header) as the template carries it, gzip (./boot.ts).
    const carried = carryUserData(withoutHashHeader(ud), USER_DATA_ENCODING);
    if (carried.bytes.length > USER_DATA_LIMIT) out.push({ severity: 'error', rule: userdata, file: udFile, line: 1, col: 1, path: [], message: `user-data is ${carried.bytes.length} bytes${compressedFrom(carried)}; EC2 accepts ${USER_DATA_LIMIT}` });
    const doc = parseDocument(ud, { version: '1.1' });
    if (doc.errors.length > 0) {
      out.push({ severity: 'error', rule: userdata, file: udFile, path: [], message: `not YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
      continue;
    }
    const data = doc.toJS() as { write_files?: { path: string; content: string }[] };
    const written = data.write_files?.find((f) => f.path === spec.configPath);
    // A fixed node's config is its base-stack parameter (./node-config.ts), which its boot script reads: the user data
    // must not carry it (a settings change would stop the instance for nothing) and the parameter must be the config.
    let embedded = written;
    if (configFromParameter(t)) {
      const name = configParameterName({ name: spec.dir }, m, t.node);
      if (written) out.push({ severity: 'error', rule: userdata, file: udFile, path: ['write_files'], message: `the user-data of fixed node ${t.name} writes ${spec.configPath}: it reads it from SSM parameter ${name}` });
      out.push(...checkConfigRead(userdata, udFile, t.name, name, data.write_files ?? []));
      // (Checked where the base stack is among the files: npm run check, not a distribution's own files alone.)
      const value = baseParameter(files, name);
      embedded = value === undefined ? undefined : { path: spec.configPath, content: `${value}\n` };
      if (value === undefined && files.has('aws/base.yaml')) out.push({ severity: 'error', rule: userdata, file: repoPath('aws/base.yaml'), path: ['Resources'], message: `the base stack has no config parameter ${name} for fixed node ${t.name}` });
    } else if (!written) out.push({ severity: 'error', rule: userdata, file: udFile, path: ['write_files'], message: `user-data does not write ${spec.configPath}` });
    if (embedded) {
      out.push(...checkConfigText(spec, `${udFile} (${spec.configPath})`, embedded.content, role));
      const standalone = config === undefined ? undefined : parseDocument(config, { version: '1.1' }).toJS();
      const inner = parseDocument(embedded.content, { version: '1.1' }).toJS();
      if (standalone !== undefined && JSON.stringify(standalone) !== JSON.stringify(inner))
        out.push({ severity: 'error', rule: userdata, file: udFile, path: ['write_files'], message: `the config the ${written ? 'user-data writes' : 'base stack\'s parameter holds'} differs from ${repoPath(configPath)}` });
    }
  }
  return out;
}

/** A rendered node config as the GPU device-plugin check reads it: a GPU node runs the nvidia runtime by default. */
export function nodeConfigOf(file: ParsedFile): NodeConfig | undefined {
  const doc = file.docs[0];
  if (!doc || !isMapValue(doc.value) || !('token-file' in doc.value || 'server' in doc.value || 'cluster-init' in doc.value)) return undefined;
  const v = doc.value;
  const list = (k: string): string[] => (Array.isArray(v[k]) ? (v[k] as unknown[]).map(String) : typeof v[k] === 'string' ? [v[k]] : []);
  const labels: Record<string, string> = {};
  for (const l of list('node-label')) {
    const i = l.indexOf('=');
    labels[i === -1 ? l : l.slice(0, i)] = i === -1 ? '' : l.slice(i + 1);
  }
  const taints: NodeConfig['taints'] = [];
  list('node-taint').forEach((t, i) => {
    const taint = parseTaint(t);
    if (taint) taints.push({ ...taint, path: ['node-taint', i] });
  });
  return { file, doc, gpu: v['default-runtime'] === 'nvidia', labels, labelsPath: 'node-label' in v ? ['node-label'] : [], taints };
}
