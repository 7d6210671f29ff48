/**
 * The release a node of this family installs at its first boot is not in its user data: the environment's base stack
 * owns an SSM String parameter (not secret) holding the release and the sha256s the boot verifies, from the
 * distribution's artifacts lock (./artifacts.ts), and every boot script (fixed servers and agents, pool launch
 * templates) reads it once, at first boot.
 *
 * Why: EC2 user data cannot change on a running instance. A changed AWS::EC2::Instance UserData is an update with
 * "Update requires: Some interruptions" (AWS CloudFormation user guide, AWS::EC2::Instance, UserData: CloudFormation
 * stops the instance, sets the attribute, starts it), and CloudFormation updated every changed instance of a stack in
 * one parallel update (now one after another along the control planes' DependsOn chain, each still stopped); a changed launch template is a new version, which the auto-scaling group's instance refresh
 * rolls. With the release in the user data, a release bump's merge (Git sync) stopped and started every fixed server
 * at once while the system-upgrade-controller's server Plan upgraded them one at a time (on embedded etcd: the
 * quorum lost), and refreshed every pool with instances booting the new release before the servers ran it. Now a bump
 * changes the parameter's value only: no node's user data changes, the nodes stack is untouched, the Plans upgrade
 * the running nodes (./addons/system-upgrade-controller.ts), and an instance launched later boots the current release.
 *
 * cloud-init runs the user data's runcmd (the boot script) once per instance (canonical/cloud-init@0167c1b9
 * cloudinit/config/cc_runcmd.py:39-41,60 and cc_scripts_user.py:34: PER_INSTANCE): a reboot or a stop and start
 * reads nothing and installs nothing; only a new instance reads the parameter.
 *
 * The value is one line, `version=<release> install.sh=<sha256> amd64=<sha256> arm64=<sha256>` (`unrecorded` for a
 * hash the lock does not hold). The boot validates it before it downloads anything: the release against the schema's
 * pattern of the version key, each hash it uses as 64 lower-case hex digits; a missing, unreadable or malformed value
 * stops the boot with a console message, an `unrecorded` hash with the command that records it (they fail closed, as
 * ./artifacts.ts refuseUnpinned did in the user data).
 */
import type { EnvironmentModel } from '../../model/types.js';
import { artifactOf, RECORD_COMMAND, type ArtifactFacts, type ArtifactKey, type ArtifactProduct } from './artifacts.js';
import { shQuote } from './boot.js';
import { LITERAL, type BootValues } from './boot-settings.js';
import type { RancherKeys } from './model.js';

/** The parameter's name: `/odp/<env>/<distribution>/release`. */
export const releaseParameterName = (keys: Pick<RancherKeys, 'name'>, m: Pick<EnvironmentModel, 'name'>): string => `/odp/${m.name}/${keys.name}/release`;

/** What the value holds for a hash the lock does not have (never a hash: the boot refuses it). */
export const RELEASE_UNRECORDED = 'unrecorded';

/** The fields of the value, in their order. */
const FIELDS: readonly ArtifactKey[] = ['install.sh', 'amd64', 'arm64'];

/** The parameter's value for `version` of `product` (from the lock). */
export function releaseRecord(facts: ArtifactFacts, product: string, version: string): string {
  return [`version=${version}`, ...FIELDS.map((k) => `${k}=${artifactOf(facts, product, version, k).sha256 ?? RELEASE_UNRECORDED}`)].join(' ');
}

/** The shell variables the read sets: the release, its URL form, and the two hashes this node uses. */
export const RELEASE_VARS = { version: 'RELEASE_VERSION', tag: 'RELEASE_TAG', installer: 'RELEASE_SHA_INSTALLER', artifact: 'RELEASE_SHA_ARTIFACT' } as const;

/** A sample release whose URL form shows where the release goes in an artifact's URL (no release has it). */
const SAMPLE = 'v0.0.0+sample0';

/**
 * An artifact's URL with the release read at boot, as one shell word: the product's URL of the sample release with
 * its URL form (encodeURIComponent: `+` → `%2B`, the only character of a validated release it changes) replaced by
 * "$RELEASE_TAG".
 */
export function releaseUrlWord(product: ArtifactProduct, key: ArtifactKey): string {
  const spec = product.assets(SAMPLE).find((a) => a.key === key);
  if (!spec) throw new Error(`${product.title} has no artifact '${key}'`);
  const parts = spec.url.split(encodeURIComponent(SAMPLE));
  if (parts.length !== 2) throw new Error(`${product.title} ${key}: the URL must name the release once (${spec.url})`);
  return `${shQuote(parts[0]!)}"$${RELEASE_VARS.tag}"${shQuote(parts[1]!)}`;
}

/** The shell line that downloads an artifact of the release read at boot to `dest` and verifies it (fetch_verified). */
export const releaseFetchLine = (product: ArtifactProduct, key: ArtifactKey, dest: string, sha: 'installer' | 'artifact'): string =>
  `fetch_verified ${releaseUrlWord(product, key)} ${dest} "$${RELEASE_VARS[sha]}"`;

/** How a boot script fetches the installer (`installer`) or its architecture's artifact (anything else) of the release read at boot. */
export const releaseFetcher =
  (product: ArtifactProduct, arch: 'amd64' | 'arm64') =>
  (what: string, dest: string): string =>
    what === 'installer' ? releaseFetchLine(product, 'install.sh', dest, 'installer') : releaseFetchLine(product, arch, dest, 'artifact');

/** An ERE of the schema's version pattern (a JSON-schema pattern anchored with ^…$, POSIX-extended as is). */
const ere = (pattern: string): string => pattern.replace(/^\^/, '').replace(/\$$/, '');

/**
 * The value's shape, unanchored: a POSIX ERE (the boot's `grep -Ex`) that is also a Java regular expression, which SSM
 * checks every write against once anchored (AWS::SSM::Parameter AllowedPattern).
 */
export function releaseShape(keys: Pick<RancherKeys, 'releasePattern'>): string {
  const sha = `([0-9a-f]{64}|${RELEASE_UNRECORDED})`;
  return `version=${ere(keys.releasePattern())} install\\.sh=${sha} amd64=${sha} arm64=${sha}`;
}

/** The release parameter of an environment, for the base stack (../../infra/aws/facts.ts BootParameter). */
export function releaseParameter(keys: Pick<RancherKeys, 'name' | 'title' | 'releasePattern' | 'artifacts'>, m: EnvironmentModel, version: string) {
  return {
    name: releaseParameterName(keys, m),
    value: releaseRecord(keys.artifacts(), keys.name, version),
    allowedPattern: `^${releaseShape(keys)}$`,
    description: `odp-gitops: the ${keys.title} release every ${keys.title} node of environment ${m.name} installs at its first boot, with the sha256s it verifies (version=<release> install.sh=<sha256> amd64=<sha256> arm64=<sha256>). Generated; do not edit.`,
    source: 'distributions/rancher/release.ts',
  };
}

/**
 * Shell lines that read the release parameter (ssm_parameter: retried while the instance profile's credentials arrive,
 * then the boot stops naming the parameter; a String, read without decryption), validate it and set RELEASE_VARS for the node's architecture. Nothing before them
 * installs anything.
 */
export function releaseReadLines(keys: Pick<RancherKeys, 'name' | 'title' | 'releasePattern'>, m: EnvironmentModel, arch: 'amd64' | 'arm64', s: BootValues = LITERAL): string[] {
  const o = { keys, arch };
  const param = s.ref('RELEASE_PARAM', releaseParameterName(keys, m));
  const shape = releaseShape(keys);
  const field = (key: string): string => `$(printf '%s\\n' "$RELEASE" | sed 's/.* ${key.replace('.', '\\.')}=\\([^ ]*\\).*/\\1/')`;
  const v = RELEASE_VARS;
  return [
    // Not this user data (a release bump changes no node's), read once at first boot, its shape checked before any download.
    `# The ${o.keys.title} release: SSM parameter ${param} of the base stack, its shape checked first.`,
    `RELEASE=$(ssm_parameter ${shQuote(param)})`,
    `{ [ "$(printf '%s\\n' "$RELEASE" | wc -l)" -eq 1 ] && printf '%s\\n' "$RELEASE" | grep -Eqx ${shQuote(shape)}; } || { log ${shQuote(`SSM parameter ${param} does not hold a release record of ${o.keys.title} (version=<release> install.sh=<sha256> amd64=<sha256> arm64=<sha256>): refusing to install anything; the base stack writes it (npm run synth, deploy the base stack)`)}; exit 1; }`,
    `${v.version}=$(printf '%s\\n' "$RELEASE" | sed 's/^version=\\([^ ]*\\) .*/\\1/')`,
    `${v.tag}=$(printf '%s' "$${v.version}" | sed 's/+/%2B/g')`,
    `${v.installer}=${field('install.sh')}`,
    `${v.artifact}=${field(o.arch)}`,
    `[ "$${v.installer}" != ${RELEASE_UNRECORDED} ] && [ "$${v.artifact}" != ${RELEASE_UNRECORDED} ] || { log ${shQuote(`refusing to install ${o.keys.title} `)}"$${v.version}"${shQuote(`: no sha256 is recorded for its install.sh or ${o.arch} artifact (${param})`)}; log ${shQuote(`record the hashes (${RECORD_COMMAND}, needs network), run npm run synth, commit, deploy the base stack, and replace this instance`)}; exit 1; }`,
  ];
}
