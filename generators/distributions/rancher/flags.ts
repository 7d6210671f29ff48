/**
 * Flag-table checking shared by the distributions of this family: both read config.yaml keys as the
 * long names of their CLI flags (the supervisor's configfilearg parser), and both only warn about an
 * unknown key, so the generator refuses them. Each distribution brings its own tables (<name>/flags.ts).
 */
import type { NodeRole } from './config.js';

export type FlagType = 'string' | 'bool' | 'int' | 'duration' | 'list';

export interface FlagSpec {
  type: FlagType;
  /** Single-letter aliases, accepted in config.yaml too. */
  aliases?: readonly string[];
  /** Hidden in `--help`. */
  hidden?: boolean;
  experimental?: boolean;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

export interface FlagIssue {
  key: string;
  /** Whether the key itself is wrong (unknown, alias, other role) or its value. */
  on: 'key' | 'value';
  message: string;
  hint?: string;
}

export type DidYouMean = (word: string, candidates: string[]) => string | undefined;

/** One distribution's flags: its command name, pinned release, the two tables, and value checks. */
export interface FlagCatalog {
  /** Command name in messages (the binary). */
  command: string;
  /** Its indefinite article (`a <command> flag`, `an <command> flag`). */
  article: 'a' | 'an';
  /** Product name with the release the tables describe, e.g. `<Product> v1.35.7+r1`. */
  release: string;
  tables: Record<NodeRole, FlagTable>;
  /** Where a server flag set on an agent pool belongs instead. */
  serverHint: string;
  /** Flags the distribution dropped (name → hint), refused with that hint. */
  removed?: Readonly<Record<string, string>>;
  /**
   * Whether the member's CLI splits a list flag's string value at commas (urfave/cli v2's StringSlice.Set does unless
   * the app sets DisableSliceFlagSeparator, urfave/cli v2.27.7 flag.go:405-416 separatorSpec.flagSplitMultiValues):
   * false, a string is ONE argument; true, one per comma; undefined, not confirmed at the pinned release. With the
   * source it was read from.
   */
  sliceSeparator: { splits: boolean | undefined; source: string };
  /** Extra value checks (enumerations) after the type matched. */
  valueCheck?: (role: NodeRole, key: string, value: unknown, didYouMean: DidYouMean) => FlagIssue | undefined;
}

const isDuration = (v: string): boolean => /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(v);

/** Whether `value` has the shape the supervisor accepts for a flag of `type` in config.yaml. */
export function valueMatches(type: FlagType, value: unknown): boolean {
  switch (type) {
    case 'bool':
      return typeof value === 'boolean';
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'duration':
      return typeof value === 'string' && isDuration(value);
    case 'string':
      return typeof value === 'string';
    case 'list':
      return typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
  }
}

const TYPE_EXAMPLE: Record<FlagType, string> = { bool: 'true', int: '10', duration: '10m', string: 'value', list: '[a, b]' };

export const TYPE_TEXT: Record<FlagType, string> = {
  bool: 'true or false',
  int: 'an integer',
  duration: 'a Go duration such as 10m or 1h30m',
  string: 'a string',
  list: 'a string or a list of strings',
};

/**
 * The supervisor's string flags that take one of a few values, and where it refuses the others (a
 * server that fails to start, or one that starts with a setting the user did not mean). Both
 * distributions of the family pass these flags to the supervisor unchanged.
 */
export const SUPERVISOR_FLAG_VALUES: Readonly<Record<string, { values: readonly string[]; source: string }>> = {
  // pkg/daemons/config/types.go EgressSelectorMode* constants; pkg/cli/server/server.go
  // validateNetworkConfiguration: "invalid egress-selector-mode".
  'egress-selector-mode': { values: ['agent', 'cluster', 'disabled', 'pod'], source: 'pkg/cli/server/server.go validateNetworkConfiguration' },
  // pkg/secretsencrypt (AESCBCProvider, SecretBoxProvider); pkg/cli/server/server.go refuses any other
  // ("unsupported secrets-encryption-provider"). These two are not pinned to a commit: the stored server.go (238dc208)
  // predates both checks, and the pinned tags' copies could not be read.
  'secrets-encryption-provider': { values: ['aescbc', 'secretbox'], source: 'pkg/cli/server/server.go (secretsencrypt.AESCBCProvider, SecretBoxProvider)' },
  // The minio client's bucket lookup (the supervisor's pkg/etcd/s3/s3.go:590-602 @ 0d0a789a, bucketLookupType, called by
  // GetClient at :232): dns and path (any case) pick DNS or path style, anything else is auto (DNS for an aliyun
  // endpoint), so a misspelt value silently starts with a lookup the user did not mean.
  'etcd-s3-bucket-lookup-type': { values: ['auto', 'dns', 'path'], source: "the supervisor's pkg/etcd/s3/s3.go:590-602 @ 0d0a789a (bucketLookupType: minio.BucketLookupAuto, DNS, Path)" },
};

/**
 * kube-proxy's modes on Linux, the value of a `proxy-mode=` item of `kube-proxy-arg`: kubernetes
 * pkg/proxy/apis/config/validation/validation.go validateProxyModeLinux accepts iptables, ipvs,
 * nftables (NFTablesProxyMode, on by default since 1.31, GA in 1.33) or blank; kube-proxy exits on
 * any other, and no Service is routed on that node.
 */
export const KUBE_PROXY_MODES = ['iptables', 'ipvs', 'nftables'] as const;

const isIPv4 = (s: string): boolean => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
const isIPv6 = (s: string): boolean => /^[0-9a-fA-F:]+$/.test(s) && s.includes(':') && (s.match(/::/g) ?? []).length <= 1 && s.split(':').every((g) => g.length <= 4);

/**
 * List flags whose items the checks compare exactly as written, so an item with spaces around it is refused instead of
 * trimmed (the checks trimmed them while the distribution does not, everywhere):
 * - node-ip, node-external-ip: the supervisor splits each value on commas and parses every piece as it is, untrimmed
 *   (the supervisor's pkg/util/net.go ParseStringSliceToIPs @ 28224f45: `strings.Split(unparsedIP, ",")` then
 *   `net.ParseIP(v)`, "invalid ip format"; the stored copy, the pinned tag's could not be read), so
 *   '10.0.0.5, fd00::5' stops the node.
 * - kube-proxy-arg: the CLI trims a whole argument (urfave/cli v2.27.7, the version the members' go.mod require:
 *   flag_string_slice.go:48-53 StringSlice.Set, TrimSpace unless KeepSpace), but not around the '=' or inside a
 *   comma-separated string (with DisableSliceFlagSeparator, set by a member's CLI app, ../<member>/flags.ts, a string is
 *   one argument: urfave/cli flag.go:405-416), and GetArgs hands kube-proxy the value after the first '=' unchanged (the
 *   supervisor's pkg/util/args.go GetArgs @ 0aa32d56). Which spaces survive depends on where they are; refusing them
 *   all keeps one rule.
 */
const SPACE_EXACT_FLAGS = ['kube-proxy-arg', 'node-ip', 'node-external-ip'];
const SPACE_EXACT_FLAGS_WHY: Record<string, string> = {
  'kube-proxy-arg': 'spaces inside a comma-separated string or after the = reach kube-proxy',
  'node-ip': 'it splits on commas and parses each address as written: invalid ip format',
  'node-external-ip': 'it splits on commas and parses each address as written: invalid ip format',
};

/**
 * Value shapes the supervisor refuses when it starts (both distributions pass these flags to it
 * unchanged): a `proxy-mode` kube-proxy does not have; a `service-node-port-range` that
 * k8s.io/apimachinery util/net ParsePortRange cannot read ("N-M", "N+offset" or one port, 1–65535,
 * pkg/cli/server/server.go run @ 238dc208, a 2021 copy: "invalid port range"); node IPs that are not IP addresses
 * (pkg/util ParseStringSliceToIPs @ 28224f45: "invalid ip format"). The pinned tags' copies could not be read.
 */
function supervisorShape(cat: FlagCatalog, key: string, value: unknown, didYouMean: DidYouMean): FlagIssue | undefined {
  const packed = key.endsWith('-arg') ? packedArguments(cat, key, value) : undefined;
  if (packed) return packed;
  const spaced = SPACE_EXACT_FLAGS.includes(key) ? listItems(value).find((i) => i !== i.trim()) : undefined;
  if (spaced !== undefined) {
    const comma = typeof value === 'string' && value.includes(',') ? ': no space after a comma, or a YAML list' : '';
    return { key, on: 'value', message: `'${spaced}' has spaces around it: ${cat.release} does not trim every ${key} item (${SPACE_EXACT_FLAGS_WHY[key]}), and the items are checked only as written`, hint: `write '${spaced.trim()}'${comma}` };
  }
  if (key === 'kube-proxy-arg') {
    for (const item of listItems(value)) {
      const m = /^(?:--)?proxy-mode=(.*)$/.exec(item);
      if (m && m[1] !== '' && !(KUBE_PROXY_MODES as readonly string[]).includes(m[1]!)) {
        const dm = didYouMean(m[1]!, [...KUBE_PROXY_MODES]);
        return { key, on: 'value', message: `kube-proxy has no proxy-mode '${m[1]}' on Linux (kube-proxy exits; ${cat.release} passes the argument unchanged)`, hint: dm ? `did you mean '${dm}'?` : `one of: ${KUBE_PROXY_MODES.join(', ')}` };
      }
    }
  }
  if (key === 'service-node-port-range' && typeof value === 'string') {
    const m = /^(\d+)(?:([-+])(\d+))?$/.exec(value.trim());
    const lo = m ? Number(m[1]) : NaN;
    const hi = !m ? NaN : m[2] === '+' ? lo + Number(m[3]) : m[2] ? Number(m[3]) : lo;
    if (!m || lo < 1 || hi > 65535 || hi < lo)
      return { key, on: 'value', message: `service-node-port-range '${value}' is not a port range (${cat.release} refuses to start: invalid port range)`, hint: 'write it as low-high within 1-65535, e.g. 30000-32767' };
  }
  // pkg/cli/server/server.go writeKubeConfig: strconv.ParseInt(KubeConfigMode, 8, 0); a value that does not
  // parse is only logged ("failed to set … to mode"), and the admin kubeconfig keeps the mode it was written with.
  // The file holds the cluster-admin client key: bits for others make it readable by every local user.
  if (key === 'write-kubeconfig-mode' && typeof value === 'string') {
    if (!/^0?[0-7]{3}$/.test(value.trim()))
      return { key, on: 'value', message: `write-kubeconfig-mode '${value}' is not an octal file mode (${cat.release} parses it with base 8, only logs the error and leaves the admin kubeconfig's mode as it was)`, hint: 'an octal mode such as 0600 (owner only) or 0640 (its group may read)' };
    if ((parseInt(value.trim(), 8) & 0o007) !== 0)
      return { key, on: 'value', message: `write-kubeconfig-mode '${value}' lets every local user read or change the admin kubeconfig (it holds the cluster-admin client key)`, hint: 'keep 0600 (owner only), or 0640 to let only its group read it' };
  }
  if (key === 'node-ip' || key === 'node-external-ip') {
    const bad = listItems(value).find((i) => !isIPv4(i) && !isIPv6(i));
    if (bad !== undefined) return { key, on: 'value', message: `'${bad}' is not an IP address (${cat.release} refuses to start: invalid ip format)`, hint: 'one IPv4 address, or an IPv4 and an IPv6 address for dual stack' };
  }
  return undefined;
}

/** An item that starts a component argument of its own: a lowercase flag name and '=' (`ipvs-scheduler=rr`, `--v=2`). */
const ARGUMENT_START = /^(?:--)?[a-z][a-z0-9-]*=/;

/**
 * Several component arguments packed into one string of a `*-arg` flag (`kube-proxy-arg: "proxy-mode=ipvs,ipvs-scheduler=rr"`).
 * A member whose CLI does not split it (sliceSeparator.splits false) hands the component ONE argument, the value
 * after the first '=' with the commas in it (kube-proxy reads proxy-mode 'ipvs,ipvs-scheduler=rr' and exits); one
 * whose reading is not confirmed is refused the same way, since a YAML list means the same under either reading.
 * A comma inside one argument's value is left alone: a value that is itself a map (`system-reserved=cpu=1,memory=1Gi`,
 * `feature-gates=A=true,B=false`: the first item's value holds a '=') or a list (`enable-admission-plugins=A,B`: the
 * later items are no `name=`).
 */
function packedArguments(cat: FlagCatalog, key: string, value: unknown): FlagIssue | undefined {
  if (typeof value !== 'string' || cat.sliceSeparator.splits === true) return undefined;
  const items = value.split(',');
  if (items.length < 2 || !ARGUMENT_START.test(items[0]!.trim()) || items[0]!.slice(items[0]!.indexOf('=') + 1).includes('=')) return undefined;
  // The arguments: each starts at an item that starts one; an item that does not (`EventRateLimit` after
  // `enable-admission-plugins=NodeRestriction`) belongs to the value of the argument before it.
  const args = items.slice(1).reduce<string[]>((acc, i) => (ARGUMENT_START.test(i.trim()) ? [...acc, i.trim()] : [...acc.slice(0, -1), `${acc[acc.length - 1]},${i}`]), [items[0]!.trim()]);
  if (args.length < 2) return undefined;
  const first = items[0]!.trim();
  const component = key.slice(0, -'-arg'.length);
  const reading = cat.sliceSeparator.splits === false
    ? `${cat.release} does not split a string at commas (${cat.sliceSeparator.source}), so ${component} gets ONE argument --${first.replace(/^--/, '')},${items.slice(1).join(',')}`
    : `whether ${cat.release} splits a string at commas is not confirmed (${cat.sliceSeparator.source}); unsplit, ${component} would get ONE argument --${first.replace(/^--/, '')},${items.slice(1).join(',')}`;
  // An argument whose value holds a comma is quoted: in a YAML flow list a bare comma starts the next item.
  const item = (a: string): string => (a.includes(',') ? JSON.stringify(a) : a);
  return {
    key,
    on: 'value',
    message: `'${value}' packs ${args.length} ${component} arguments into one string: ${reading}`,
    hint: `write a YAML list, one argument per item: ${key}: [${args.map(item).join(', ')}]`,
  };
}

const aliasOf = (table: FlagTable, key: string): string | undefined => Object.entries(table).find(([, s]) => s.aliases?.includes(key))?.[0];

/** Items of a list flag's value (a comma-separated string or a list). */
export const listItems = (value: unknown): string[] => (typeof value === 'string' ? value.split(',') : (value as string[]));

/**
 * The entry of `allowed` an item matches only after trimming spaces or folding case, and how it differs. The
 * generator takes each item exactly as the table writes it: the supervisor trims `disable` items but compares them
 * case-sensitively (the supervisor's pkg/cli/server/server.go run @ 238dc208: `strings.TrimSpace(v)` into `Disables[v]`, so a
 * capitalised item disables nothing), and a member's own list flags may not trim at all (where: next to its tables, in
 * its flags.ts); one spelling everywhere keeps the rendered config what the nodes read.
 */
export function nearMiss(item: string, allowed: readonly string[]): { entry: string; how: string } | undefined {
  const spaced = item.trim() !== item;
  const entry = allowed.find((a) => a === item.trim()) ?? allowed.find((a) => a.toLowerCase() === item.trim().toLowerCase());
  if (entry === undefined) return undefined;
  const cased = entry !== item.trim();
  return { entry, how: spaced && cased ? 'spaces around it and letter case' : spaced ? 'spaces around it' : 'letter case' };
}

/** The issue of an item that is `entry` but for spaces or case (see nearMiss), or undefined. */
export function nearMissIssue(key: string, value: unknown, item: string, allowed: readonly string[], what: string): FlagIssue | undefined {
  const near = nearMiss(item, allowed);
  if (!near) return undefined;
  const comma = typeof value === 'string' && value.includes(',') && item.trim() !== item ? ': no space after a comma, or a YAML list' : '';
  return { key, on: 'value', message: `'${item}' is not exactly ${what}: it differs from '${near.entry}' in ${near.how}, and items are taken only as written`, hint: `write '${near.entry}'${comma}` };
}

/** The first item of a list value outside `allowed`, as an issue. */
export function checkListItems(key: string, value: unknown, allowed: readonly string[], what: string, didYouMean: DidYouMean): FlagIssue | undefined {
  const bad = listItems(value).find((i) => !allowed.includes(i));
  if (bad === undefined) return undefined;
  const near = nearMissIssue(key, value, bad, allowed, what);
  if (near) return near;
  const m = didYouMean(bad, [...allowed]);
  return { key, on: 'value', message: `'${bad}' is not ${what}`, hint: m ? `did you mean '${m}'?` : `one of: ${allowed.join(', ')}` };
}

/**
 * Check one config key for a role: removed by the distribution, unknown (with did-you-mean), an
 * alias, a flag of the other role only, or a value of the wrong type.
 */
export function checkFlagIn(cat: FlagCatalog, role: NodeRole, key: string, value: unknown, didYouMean: DidYouMean): FlagIssue | undefined {
  const spec = cat.tables[role][key];
  const other: NodeRole = role === 'server' ? 'agent' : 'server';
  if (!spec) {
    const removed = cat.removed?.[key];
    if (removed !== undefined) return { key, on: 'key', message: `'${key}' is not ${cat.article} ${cat.command} flag (${cat.release} removed it)`, hint: removed };
    const alias = aliasOf(cat.tables[role], key);
    if (alias) return { key, on: 'key', message: `'${key}' is the short alias of '${alias}'`, hint: `write the long name '${alias}'` };
    if (cat.tables[other][key])
      return { key, on: 'key', message: `'${key}' is ${cat.article} ${cat.command} ${other} flag, not ${cat.article} ${cat.command} ${role} flag (${cat.release})`, hint: role === 'agent' ? cat.serverHint : `set it in the extraArgs of a worker pool (the ${other}s' ${cat.command} ${other} flags)` };
    const m = didYouMean(key, Object.keys(cat.tables[role]));
    return { key, on: 'key', message: `'${key}' is not ${cat.article} ${cat.command} ${role} flag (${cat.release})`, hint: m ? `did you mean '${m}'?` : `see \`${cat.command} ${role} --help\`` };
  }
  if (!valueMatches(spec.type, value)) {
    const quoted = typeof value === 'string' && ((spec.type === 'bool' && /^(true|false)$/.test(value)) || (spec.type === 'int' && /^-?[0-9]+$/.test(value)));
    return { key, on: 'value', message: `'${key}' takes ${TYPE_TEXT[spec.type]}, not ${JSON.stringify(value)}`, hint: quoted ? 'remove the quotes' : `write ${key}: ${TYPE_EXAMPLE[spec.type]}` };
  }
  const allowed = SUPERVISOR_FLAG_VALUES[key];
  if (allowed && typeof value === 'string' && !allowed.values.includes(value)) {
    const m = didYouMean(value, [...allowed.values]);
    return { key, on: 'value', message: `${key} '${value}' is not one of the values ${cat.release} accepts: ${allowed.values.join(', ')}`, hint: m ? `did you mean '${m}'?` : `one of: ${allowed.values.join(', ')}` };
  }
  return supervisorShape(cat, key, value, didYouMean) ?? cat.valueCheck?.(role, key, value, didYouMean);
}
