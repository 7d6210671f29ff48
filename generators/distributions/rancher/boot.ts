/**
 * First-boot pieces the distributions of this family share (both run the same supervisor): cloud-init files, the POSIX
 * shell prelude (IMDSv2, SSM SecureStrings through the instance profile, URL encoding), the Kine
 * PostgreSQL DSN assembled at boot, and the limits of EC2 user-data. Nothing secret is in any of it.
 */
import type { Datastore } from '../../model/types.js';
import { toYaml } from '../../lib/yaml.js';
import { DEFAULTS } from '../../model/defaults.js';
import { findPlaceholders } from '../../lib/placeholder.js';
import { shellValue } from '../../lib/shapes.js';
import type { RancherKeys } from './model.js';
import { usedFunctions, type ShellFunction } from '../../lib/shell-functions.js';
import { LITERAL, type BootValues } from './boot-settings.js';

/** Where the boot script fetches the RDS CA bundle (kine-postgres). */
export const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';
/** EC2 limits raw user-data to 16 KB (the AWS layer's fact). */
export { USER_DATA_LIMIT } from '../../infra/aws/template.js';

/**
 * How the nodes' user data is carried (DistributionAwsFacts.userDataEncoding; infra/aws/user-data.ts): gzip, which
 * cloud-init, the reader of these images' user data (Ubuntu Server 24.04, the Ubuntu 22.04 DLAMI: ./aws.ts), takes as
 * it takes the text. canonical/cloud-init at 0044c83512d915137ccc79553b57c0250b0f474f: cloudinit/sources/__init__.py
 * DataSource.get_userdata passes the raw user data (IMDS's bytes on EC2) to UserDataProcessor.process, whose
 * cloudinit/user_data.py convert_string does `bdata = util.decomp_gzip(bdata, decode=False)` before reading the
 * `#cloud-config`; doc/rtd/explanation/format.rst, "Gzip compressed content": "Content found to be gzip compressed
 * will be uncompressed. The uncompressed data will then be used as if it were not compressed. This is typically useful
 * because user data is limited to ~16384 bytes". The review copy (<dist>/userdata/<target>.yaml) stays the text.
 */
export const USER_DATA_ENCODING = 'gzip' as const;

/** POSIX shell single-quoting (the one implementation: render/delivery/bootstrap.ts). */
export { shQuote } from '../../render/delivery/bootstrap.js';
import { shQuote } from '../../render/delivery/bootstrap.js';

export interface WriteFile {
  path: string;
  owner: string;
  permissions: string;
  content: string;
}

export const writeFile = (path: string, permissions: string, content: string): WriteFile => ({ path, owner: 'root:root', permissions, content });

export interface UserData {
  write_files: WriteFile[];
  runcmd: string[][];
  /** What the boot script reads from the base stack (a fixed node's config: ./node-config.ts): not written, but checked for placeholders. */
  reads?: string[];
}

export const cloudConfigText = (data: UserData): string => {
  const { reads: _, ...doc } = guardPlaceholders(data);
  return `#cloud-config\n${toYaml(doc)}`;
};

/**
 * The line arming a boot script's EXIT trap (a pool instance's: ./pool-join.ts, which answers its
 * launch lifecycle hook with ABANDON when the script exits non-zero). Anything that stops a boot on
 * purpose goes after it, so the trap reports the stop at once.
 */
export const EXIT_TRAP_LINE = 'trap abandon_on_failure EXIT';

/**
 * A user-data that carries an SSM placeholder (npm run new-env's, until --refresh-ssm locks the
 * real values; lib/placeholder.ts) refuses to boot: its boot script stops at its first command,
 * before it reads a secret, installs or joins anything, and says why. cloud-init runs runcmd in its
 * final stage, whose output goes to the instance console (canonical/cloud-init
 * systemd/cloud-final.service.tmpl: StandardOutput=journal+console) and to
 * /var/log/cloud-init-output.log: `aws ec2 get-console-output` shows the message. A user-data
 * without placeholders is unchanged.
 *
 * A pool instance's script first defines its launch-hook functions and arms the EXIT trap
 * (EXIT_TRAP_LINE; nothing of that runs a command): the guard goes right after the trap, so the refusal
 * (exit 1, its message kept) also abandons the instance at once instead of after the hook's
 * heartbeat timeout. Elsewhere it goes right after the shebang.
 */
export function guardPlaceholders(data: UserData): UserData {
  const found = findPlaceholders([...data.write_files.map((f) => f.content), ...(data.reads ?? [])].join('\n'));
  const script = data.runcmd[0]?.[0];
  if (found.length === 0 || script === undefined) return data;
  const message = `odp-gitops: refusing to boot: this user data carries SSM placeholders of npm run new-env (${found.join(', ')}), locked before the AWS account existed. Create the SSM parameters, run npm run synth -- --env <environment> --refresh-ssm, commit, and launch the node with the user data rendered then.`;
  const guard = ['# SSM placeholders (npm run new-env) below: this node must not boot with them.', `echo ${shQuote(message)} >&2`, 'exit 1'];
  const write_files = data.write_files.map((f) => {
    if (f.path !== script) return f;
    const lines = f.content.split('\n');
    const at = lines.indexOf(EXIT_TRAP_LINE) + 1 || 1;
    return { ...f, content: [...lines.slice(0, at), ...guard, ...lines.slice(at)].join('\n') };
  });
  return { ...data, write_files };
}

/** How a member's nodes refuse placeholders (Distribution.checks.placeholders): their user data refuses to boot (guardPlaceholders). */
export const rancherPlaceholders = (keys: Pick<RancherKeys, 'name' | 'title'>): { refusal: string; guard(path: string): string | undefined } => ({
  refusal: 'user data carrying one refuses to boot',
  guard: (path) => (path.startsWith(`${keys.name}/userdata/`) ? 'its boot script refuses to start the node' : path.startsWith(`${keys.name}/`) ? 'the user data that carries it refuses to boot' : undefined),
});

/** The prelude's shell functions (`tag` prefixes the log lines). */
const preludeFunctions = (tag: string): ShellFunction[] => [
  { name: 'log', text: `log() { echo "${tag}: $*" >&2; }` },
  {
    name: 'imds',
    text: `imds() {
  t=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -sf -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}`,
  },
  {
    name: 'ssm_parameter',
    text: `# An SSM parameter (more arguments go to get-parameter), retried while the instance profile's credentials arrive.
ssm_parameter() {
  n=0
  ssm_name=$1
  shift
  until v=$(aws ssm get-parameter --region "$REGION" "$@" --name "$ssm_name" --query Parameter.Value --output text); do
    n=$((n + 1))
    [ "$n" -lt 30 ] || { log "cannot read SSM parameter $ssm_name"; exit 1; }
    sleep 10
  done
  printf '%s' "$v"
}`,
  },
  {
    name: 'ssm_secret',
    text: `# Read an SSM SecureString, decrypted.
ssm_secret() {
  ssm_parameter "$1" --with-decryption
}`,
  },
  {
    name: 'start_watched',
    // Its own variable names (sw, sw_rc): a shell function has no locals, and its callers keep their status in rc.
    text: `# Start $1 afresh; wait for READY=1, at most $2 windows of ${START_WINDOW_SECONDS} s. 0 ready, 3 token refused, 124 not ready.
start_watched() {
  systemctl stop "$1"
  cursor=$(journalctl -u "$1" -n 1 --show-cursor -o cat 2>/dev/null | sed -n 's/^-- cursor: //p')
  sw=0
  until timeout ${START_WINDOW_SECONDS} systemctl start "$1"; do
    sw_rc=$?
    [ "$sw_rc" -eq 124 ] || return "$sw_rc"
    start_cause "$1" >/dev/null || return 3
    sw=$((sw + 1))
    [ "$sw" -lt "$2" ] || return 124
  done
}`,
  },
  {
    name: 'start_journal',
    text: `start_journal() { journalctl -u "$1" \${cursor:+--after-cursor "$cursor"} -o cat 2>/dev/null || :; }`,
  },
  {
    name: 'start_cause',
    // The journal's words for why the start of $1 is not ready (START_REFUSALS, in order); 3 when they refuse the token.
    text: `start_cause() {
  r=0
  case "$(start_journal "$1")" in
${START_REFUSALS.map((r) => `    *${shQuote(r.text)}*) ${r.token ? 'r=3; ' : ''}c=${shQuote(r.cause)} ;;`).join('\n')}
    *) echo "see journalctl -u $1"; return 0 ;;
  esac
  echo "its journal says $c"; return "$r"
}`,
  },
  { name: 'urlencode', text: `# Percent-encode every byte (safe in any part of a URL).
urlencode() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \\n' | sed 's/../%&/g'; }` },
];

const PRELUDE_TAIL = `REGION=$(imds placement/region)
command -v aws >/dev/null 2>&1 || snap install aws-cli --classic
`;

/**
 * The shell prelude of a script run on a node; \`tag\` prefixes its log lines. It holds only the functions \`body\` (the
 * rest of the script) uses (lib/shell-functions.ts): no rendered script, runbook or boot user data, carries dead code.
 * (The user data's boot scripts carried the whole prelude until the ssm_parameter change of the release parameter
 * changed every member's boot prelude anyway: trimming it with that change replaced no instance more.)
 */
export const bootPrelude = (tag: string, body: string): string => `set -eu
umask 077
${usedFunctions(preludeFunctions(tag), `${body}\n${PRELUDE_TAIL}`).join('\n')}
${PRELUDE_TAIL}`;

/** A script run on a node: its header lines, the prelude with the functions \`body\` uses, then \`body\`. */
export const bootScriptOf = (tag: string, head: readonly string[], body: readonly string[]): string => [...head, bootPrelude(tag, body.join('\n')).trimEnd(), ...body].join('\n');

/** Shell lines setting `variable` to the node name the AWS cloud controller manager expects (IMDSv2). */
export const nodeNameLines = (variable: string): string[] => ['# The AWS cloud controller manager finds instances by their private DNS name.', `${variable}=$(imds local-hostname)`];

/**
 * Shell lines that fetch the RDS CA bundle and set `variable` to the Kine PostgreSQL DSN, with the
 * password read from SSM and percent-encoded (it never reaches the rendered tree), TLS verify-full.
 *
 * `replace`: on a running server (a runbook step), the bundle its service verifies the database with is replaced only
 * by a complete download: curl keeps what it received of a transfer that fails part-way in its output file (its manual,
 * `--remove-on-error`: "prevents curl from leaving a partial file in the case of an error during transfer", off by
 * default; exit 18, CURLE_PARTIAL_FILE), and a truncated bundle would keep the service from reaching its datastore at
 * its next start (a reboot, an upgrade Plan), long after the failed step. At first boot there is no bundle to keep.
 */
export function postgresEndpointLines(pg: Extract<Datastore, { type: 'kine-postgres' }>['postgres'], variable: string, replace = false, s: BootValues = LITERAL): string[] {
  const v = postgresValues(pg, s);
  const caPath = v.caBundlePath;
  const ca = shQuote(caPath);
  const caNew = shQuote(`${caPath}.new`);
  // The RDS bundle goes to the default path only: a caBundlePath the environment chose is its own
  // CA file (on the AMI), never overwritten; the boot stops when it is missing.
  const caLines =
    pg.caBundlePath === DEFAULTS.rdsCaBundlePath
      ? [
          // Retried like every other download, and named when it fails: curl -s alone would stop the boot (set -e)
          // without a word in the console log. User data runs once per instance (canonical/cloud-init@0167c1b9
          // cloudinit/config/cc_runcmd.py:39-41,60 and cc_scripts_user.py:34: PER_INSTANCE): the node keeps this bundle.
          ...(replace
            ? [
                `curl -sfL --retry 5 ${shQuote(RDS_CA_BUNDLE_URL)} -o ${caNew} || { rm -f ${caNew}; log ${shQuote(`cannot download the RDS CA bundle ${RDS_CA_BUNDLE_URL}; ${caPath} is unchanged`)}; exit 1; }`,
                `chmod 0644 ${caNew}`,
                `mv -f ${caNew} ${ca}`,
              ]
            : [`curl -sfL --retry 5 ${shQuote(RDS_CA_BUNDLE_URL)} -o ${ca} || { log ${shQuote(`cannot download the RDS CA bundle ${RDS_CA_BUNDLE_URL}`)}; exit 1; }`, `chmod 0644 ${ca}`]),
        ]
      : [`[ -s ${ca} ] || { log ${shQuote(`caBundlePath ${caPath} is missing: put the database's CA bundle there (in the AMI), or remove caBundlePath to use the RDS bundle`)}; exit 1; }`];
  return [
    ...caLines,
    `PGPASSWORD=$(ssm_secret ${shQuote(v.password)})`,
    'PGPASSWORD_ENC=$(urlencode "$PGPASSWORD")',
    'unset PGPASSWORD',
    // Every value validated to its shape (rule shell-shape) and single-quoted; only the encoded password is expanded.
    `${variable}=${shQuote(`postgres://${v.user}:`)}"$PGPASSWORD_ENC"${shQuote(`@${v.host}:${v.port}/${v.database}?sslmode=verify-full`)}`,
  ];
}

/**
 * What a node of the family logs when its start fails, by cause, in upstream's words, read from the journal of the start
 * (start_cause) so that a bounded start that gives up says why. The rows with `token: true` are the refusals of the
 * node's token: start_watched returns 3 on any of them at the end of the window it shows in, instead of waiting out the
 * bound (the start is the same start with the same token: it never becomes ready). Checked in this order: a refused
 * password is logged inside Kine's ping error. test/start-refusals.test.ts runs start_watched on each row against a
 * journal printing exactly that line, and checks the text against the pinned upstream source when
 * ../shared/upstream holds the supervisor's source.
 *
 * How each reaches the journal (the shared supervisor, which the family's second member builds on: its go.mod requires the
 * supervisor's module and runs its pkg/cli/server and pkg/agent):
 * - a server on Kine whose token's key is not the bootstrap data's: pkg/cluster/storage.go getBootstrapKeyFromStorage;
 * - a server joining embedded etcd through the supervisor URL (the embedded-etcd member's second and third servers) with a password the
 *   servers refuse: pkg/cluster/bootstrap.go bootstrap → httpBootstrap, `c.clientAccessInfo.Get("/v1-"+version.Program+
 *   "/server-bootstrap", ...)` with user `server` (shouldBootstrapLoad's WithUser("server")); the supervisor answers 401
 *   and pkg/clientaccess/token.go get returns `fmt.Errorf("%s: %s", u, resp.Status)` (net/http's Status: "401
 *   Unauthorized"); Bootstrap returns it, pkg/daemons/control/server.go prepare wraps it ("failed to bootstrap cluster
 *   data") and the server exits fatal: "Error: preparing server: failed to bootstrap cluster data:
 *   https://<server>:9345/v1-<name>/server-bootstrap: 401 Unauthorized" (the line of supervisor issue #2463; supervisor issue #2310
 *   made a wrong password a 401 rather than a 500). Releases whose compareConfig stopped the join at its own request
 *   (`/v1-<name>/config` with the agent token, user `node`) logged "failed to validate server configuration:
 *   https://<server>:9345/v1-<name>/config: 401 Unauthorized" (the second member's issue #3656, its v1.23.14 release); the newer ones log
 *   "Skipping cluster configuration validation" there and go on to server-bootstrap;
 * - an agent with an agent token the servers refuse: pkg/agent/config/config.go get → getConfig, `info.Get("/v1-" +
 *   version.Program + "/config")` wrapped "failed to retrieve configuration from server", logged at error level and
 *   retried every 5 s (Get): the agent never exits and never sends READY=1, so only its journal says why;
 * - a secure (K10) token whose CA hash is not the cluster's (a token of another cluster), on a joining server or an
 *   agent: pkg/clientaccess/token.go validateCAHash, "token CA hash does not match the Cluster CA certificate hash".
 * (Not a refusal: "failed to get CA certs" is the /cacerts download failing, which needs no token: getCACerts; the
 * server URL reaching no server, which start_cause leaves to the journal.)
 */
/**
 * How a member cites the upstream code START_REFUSALS rests on, supplied by its own folder (this shared folder names
 * neither member nor their repositories): `code(path, commit)` one file of the supervisor code at a commit read
 * (pkg/cluster, pkg/clientaccess, pkg/agent), `issue(n)` an issue of the supervisor's tracker, `kine(path, commit)` one
 * file of Kine; `supervisor` says once where the supervisor code is (the member's own repository, or the module the
 * member's go.mod requires); `configSeen`, where a joining server's `/config` refusal was reported for the member, if
 * anywhere.
 */
export interface RefusalUpstream {
  code(path: string, commit: string): string;
  issue(n: number): string;
  kine(path: string, commit: string): string;
  supervisor: string;
  configSeen?: string;
}

/**
 * The journal texts of a refused start. `source` is the citation with the member's repositories in it (RefusalUpstream):
 * files are cited at the commit read (read_file on the stored upstream versions); the wrapping messages around a row's
 * text differ between releases, so a row matches the text alone.
 */
export const START_REFUSALS: readonly { text: string; cause: string; token: boolean; source: (u: RefusalUpstream) => string }[] = [
  {
    text: 'bootstrap data already found and encrypted with different token',
    cause: 'the bootstrap data is under another server token',
    token: true,
    source: (u) =>
      `${u.code('pkg/cluster/storage.go', '8fed810c')} getBootstrapKeyFromStorage (\`errors.New("bootstrap data already found and encrypted with different token")\`: the datastore holds a bootstrap key, none of this token), returned through storageBootstrap (same file) to the server, which exits fatal; the prefix of the journal line ("failed to bootstrap cluster data: …") differs between releases`,
  },
  {
    text: '/server-bootstrap: 401 Unauthorized',
    cause: 'the servers refuse the server token (401)',
    token: true,
    source: (u) =>
      `${u.code('pkg/cluster/bootstrap.go', '9977f0e6')} httpBootstrap (\`c.clientAccessInfo.Get("/v1-" + version.Program + "/server-bootstrap")\`, as user \`server\`: shouldBootstrapLoad's ParseAndValidateTokenForUser) and ${u.code('pkg/clientaccess/token.go', 'db5fc989')} get (\`return nil, fmt.Errorf("%s: %s", u, resp.Status)\`); the joiner's fatal line in ${u.issue(2463)}: "https://centos01.lan.khaus:6443/v1-<name>/server-bootstrap: 401 Unauthorized"`,
  },
  {
    text: '/config: 401 Unauthorized',
    cause: 'the servers refuse the token (401)',
    token: true,
    source: (u) =>
      `${u.code('pkg/agent/config/config.go', 'eaaf1f84')} Get → get → getConfig (Get "/v1-"+version.Program+"/config"; get wraps it "failed to retrieve configuration from server", Get logs "Failed to configure agent: %v" at error level and retries every 5 s), the status text from ${u.code('pkg/clientaccess/token.go', 'db5fc989')} get; a joining server's compareConfig (pkg/cluster/bootstrap.go, user \`node\`) asks the same URL${u.configSeen ? ` (its refusal seen in ${u.configSeen}: "failed to validate server configuration: https://<IP_ADDR>:9345/v1-<name>/config: 401 Unauthorized")` : ''}`,
  },
  {
    text: 'token CA hash does not match the Cluster CA certificate hash',
    cause: 'the token CA hash is of another cluster',
    token: true,
    source: (u) =>
      `${u.code('pkg/clientaccess/token.go', 'db5fc989')} validateCAHash (\`fmt.Errorf("token CA hash does not match the Cluster CA certificate hash: %s != %s", ...)\`) through setAndValidateServer, from ParseAndValidateToken(ForUser): on a joining server (${u.code('pkg/cluster/bootstrap.go', '9977f0e6')} shouldBootstrapLoad) and on an agent (${u.code('pkg/agent/config/config.go', 'eaaf1f84')} get)`,
  },
  {
    text: 'password authentication failed for user',
    cause: 'PostgreSQL refuses the password',
    token: false,
    source: () => `PostgreSQL src/backend/libpq/auth.c auth_failed (SQLSTATE 28P01, "password authentication failed for user"), inside Kine's ping error (the next row)`,
  },
  {
    text: 'Failed to ping database connection',
    cause: 'Kine cannot reach PostgreSQL',
    token: false,
    source: (u) => `${u.kine('pkg/drivers/generic/generic.go', '0058529d')} Open: logrus.Errorf("Failed to ping database connection: %v") for each of 300 one-second attempts`,
  },
];

/**
 * The README text of START_REFUSALS for one member (`title`), its citations with the member's repositories: what a
 * watched start (start_watched) reads in the journal and what it says then.
 */
export function startRefusalsText(title: string, u: RefusalUpstream): string {
  const rows = START_REFUSALS.map((r) => `| \`${r.text}\` | ${r.cause}${r.token ? ' (the start stops at the end of its window)' : ''} | ${r.source(u).replace(/\|/g, '\\|')} |`);
  return [
    `**What a watched start names.** A boot script, a token rotation and the join of a pool's node start ${title} in ${START_WINDOW_SECONDS} s windows and read its journal for these upstream texts (the first that matches is the cause it logs):`,
    '',
    '| Journal text | Cause | Where upstream logs it |',
    '|---|---|---|',
    ...rows,
    '',
    `The supervisor code cited: ${u.supervisor}.`,
    '',
  ].join('\n');
}

/** The rows start_watched stops at (a token refused: the start never becomes ready with it). */
export const TOKEN_REFUSALS = START_REFUSALS.filter((r) => r.token);

/** One wait of start_watched: a token refusal shows in the journal within seconds of a start, so it is seen within one window. */
export const START_WINDOW_SECONDS = 60;

/**
 * How long a script waits for one of the family's services to report ready. `systemctl start|restart` returns once
 * the unit sends READY=1 (Type=notify), and the units have TimeoutStartSec=0 and Restart=always (each member's unit
 * files, cited beside its boot script: ../<member>/userdata.ts): a service that exits before it is ready (a server's datastore unreachable, its password refused, bootstrap
 * data under another token; a release that does not start) is restarted every 5 s while the start job stays pending,
 * and systemctl waits for ever without a word (systemd/systemd#33890). 900 s gives Kine its 300 one-second pings of
 * the database per attempt twice over (Kine@caf32704 pkg/drivers/generic/generic.go:163-175, OpenDB). `timeout` kills
 * only systemctl: the job stays queued and the service keeps trying.
 */
export const SERVICE_READY_SECONDS = 900;

/**
 * The boot's bounds on the datastore, one table: a server on Kine PostgreSQL waits this long for its database at
 * first boot (a database created with the cluster may come up late), and a node that waits for the first server's
 * secure token waits as long (the member's boot script), so that the first server never gives up on a late database
 * before the others stop waiting for it.
 */
export const BOOT_WAITS = { datastoreSeconds: 1800, tokenSeconds: 1800 } as const;

/** start_watched's windows for a bound in seconds (START_WINDOW_SECONDS). */
export const startWindows = (seconds: number): number => Math.ceil(seconds / START_WINDOW_SECONDS);

/**
 * The shell line after `rc=0; start_watched UNIT N || rc=$?`: unless the start succeeded, stop the script saying `name` is
 * not ready within `seconds` and why in the journal's words (start_cause: a refused token at the end of its window, any
 * other cause after the bound), then `why` (what keeps it from starting and what to do); another exit of systemctl is
 * named as such.
 */
export const watchedStartFailLine = (unit: string, name: string, seconds: number, why: string): string =>
  `[ "$rc" -eq 0 ] || { if [ "$rc" -eq 3 ] || [ "$rc" -eq 124 ]; then log "${name} is not ready (${seconds} s): $(start_cause ${unit}); "${shQuote(why)}; else log "systemctl start of ${unit} failed (exit $rc)"; fi; exit 1; }`;

/**
 * Shell lines that start `unit` watched (start_watched: bounded by `seconds` in windows, a refused token ends it at the
 * end of its window) and stop the script as watchedStartFailLine says when it does not become ready. A node with one
 * token (an agent, a runbook's restart with the token it was given): no second chance.
 */
export const watchedStartLines = (unit: string, seconds: number, why: string, name: string = unit.replace(/\.service$/, '')): string[] => [
  `# Watched: systemctl waits for ever while the service is not ready (TimeoutStartSec=0, Restart=always); a refused token shows in its journal.`,
  `rc=0; start_watched ${unit} ${startWindows(seconds)} || rc=$?`,
  watchedStartFailLine(unit, name, seconds, why),
];

/**
 * Shell lines that `verb` (start or restart) `unit` (a name, or a quoted shell expression such as "$UNIT") and, when
 * it is not ready within SERVICE_READY_SECONDS, stop the script saying `name` is not ready and `why` (what keeps it from
 * starting and what to do).
 */
export function boundedStartLines(verb: 'start' | 'restart', unit: string, why: string, name: string = unit): string[] {
  return [
    `# Bounded: systemctl waits for ever while the service exits and systemd restarts it (TimeoutStartSec=0, Restart=always).`,
    `timeout ${SERVICE_READY_SECONDS} systemctl ${verb} ${unit} || { rc=$?; if [ "$rc" -eq 124 ]; then log ${shQuote(`${name} is not ready after ${SERVICE_READY_SECONDS} s: ${why}`)}; else log ${shQuote(`systemctl ${verb} of ${name} failed`)}" (exit $rc)"; fi; exit 1; }`,
  ];
}

/**
 * A server stopped for a datastore restore stays stopped across a reboot. The family's server units are enabled at
 * install and have [Install] WantedBy=multi-user.target with Restart=always (each member's unit file, cited beside its
 * boot script: ../<member>/userdata.ts), so a plain `systemctl stop` lasts only until the next boot: a server rebooted
 * (by hand, by a kernel update, by EC2 maintenance) while the database is being restored would start against the
 * half-restored one. `disable --now` removes the boot link and stops it; the start that ends the restore enables it
 * again before its bounded start. Both are idempotent, so a re-run `stop` or `start` does the same again. (Not `mask`:
 * it refuses a unit whose file is in /etc/systemd/system, where one member's installer writes it; not a drop-in
 * condition: it needs a daemon-reload and leaves a file to clean up.)
 */
export const restoreStopLine = (unit: string): string => `systemctl disable --now ${unit}`;
export const restoreStartLines = (unit: string, why: string): string[] => [
  '# Enabled again: the restore\'s stop disabled the unit so that a reboot meanwhile would not start it.',
  `systemctl enable ${unit}`,
  ...boundedStartLines('start', unit, why),
];

/**
 * The end of a first boot's message when its service is not ready (boundedStartLines' \`why\`): where its journal is,
 * and what happens next. A fixed node keeps its service retrying and its boot script is run again once the cause is
 * fixed; a pool instance's failed boot is abandoned by its EXIT trap (./pool-join.ts): the group terminates it and
 * launches another, which boots from the start.
 */
export const bootRetryHint = (unit: string, script: string, pool: boolean): string =>
  `journalctl -u ${unit}. ${pool ? 'This pool instance is abandoned and its group launches another: fix the cause and the next one boots' : `systemd keeps restarting it; once the cause is fixed, run ${script} again`}`;

/**
 * What keeps an agent from becoming ready (it sends READY=1 only once it validated its token through the server URL and
 * its Node is registered: each member's userdata.ts cites the supervisor's source): nothing answering at the server
 * URL, or its token refused.
 */
export const agentStartCauses = (url: string, tokenParam: string): string =>
  `it waits for a running server behind ${url} (unreachable from this node: the API endpoint's load balancer, its security groups, or no server up yet), or the agent token in ${tokenParam} is not the cluster's`;

/** What keeps a server on Kine PostgreSQL from starting, for serverStartLines' message. */
export const postgresStartCauses = (pg: Extract<Datastore, { type: 'kine-postgres' }>['postgres'], s: BootValues = LITERAL): string => {
  const v = postgresValues(pg, s);
  return `PostgreSQL ${v.host}:${v.port} unreachable, the password of role ${v.user} (${v.password}) refused, or the bootstrap data in database ${v.database} encrypted with another server token`;
};

/** The datastore's values a script carries, each validated to its shape (rule shell-shape), through `s` (a boot script's settings). */
function postgresValues(pg: Extract<Datastore, { type: 'kine-postgres' }>['postgres'], s: BootValues) {
  return {
    caBundlePath: s.ref('PG_CA_BUNDLE', shellValue('path', pg.caBundlePath, 'postgres.caBundlePath')),
    password: s.ref('PG_PASSWORD_PARAM', shellValue('ssm-name', pg.password.secret, 'postgres.password.secret')),
    user: s.ref('PG_USER', shellValue('database', pg.user, 'postgres.user')),
    host: s.ref('PG_HOST', shellValue('host', pg.host, 'postgres.host')),
    port: s.ref('PG_PORT', String(Number(pg.port))),
    database: s.ref('PG_DATABASE', shellValue('database', pg.database, 'postgres.database')),
  };
}

/** GPU nodes need the NVIDIA container runtime on the host (the GPU AMI has driver and toolkit). */
export const NVIDIA_RUNTIME_CHECK = 'command -v nvidia-container-runtime >/dev/null 2>&1 || { log "nvidia-container-runtime not found: use the NVIDIA GPU AMI (driver + container toolkit)"; exit 1; }';

/** A sysctl.d file. */
export const sysctlConf = (values: Readonly<Record<string, string>>): string =>
  Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';
