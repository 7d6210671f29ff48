/**
 * First-boot pieces the distributions of this family share (both run the same supervisor): cloud-init files, the POSIX
 * shell prelude (IMDSv2, SSM SecureStrings through the instance profile, URL encoding), the Kine
 * PostgreSQL DSN assembled at boot, and the limits of EC2 user-data. Nothing secret is in any of it.
 */
import type { Datastore } from '../../model/types.js';
import { toYaml } from '../../lib/yaml.js';
import { DEFAULTS } from '../../model/defaults.js';

/** Where the boot script fetches the RDS CA bundle (kine-postgres). */
export const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';
/** EC2 limits raw user-data to 16 KB. */
export const USER_DATA_LIMIT = 16384;

/** POSIX shell single-quoting. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

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
}

export const cloudConfigText = (data: UserData): string => `#cloud-config\n${toYaml(data)}`;

/** The shell prelude of a boot script; `tag` prefixes its log lines. */
export const bootPrelude = (tag: string): string => `set -eu
umask 077
log() { echo "${tag}: $*" >&2; }
imds() {
  t=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -sf -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}
# Read an SSM SecureString through the instance profile; retry while its credentials arrive.
ssm_secret() {
  n=0
  until v=$(aws ssm get-parameter --region "$REGION" --with-decryption --name "$1" --query Parameter.Value --output text); do
    n=$((n + 1))
    [ "$n" -lt 30 ] || { log "cannot read SSM parameter $1"; exit 1; }
    sleep 10
  done
  printf '%s' "$v"
}
# Percent-encode every byte (safe in any part of a URL).
urlencode() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \\n' | sed 's/../%&/g'; }
REGION=$(imds placement/region)
command -v aws >/dev/null 2>&1 || snap install aws-cli --classic
`;

/** Shell lines setting `variable` to the node name the AWS cloud controller manager expects (IMDSv2). */
export const nodeNameLines = (variable: string): string[] => ['# The AWS cloud controller manager finds instances by their private DNS name.', `${variable}=$(imds local-hostname)`];

/**
 * Shell lines that fetch the RDS CA bundle and set `variable` to the Kine PostgreSQL DSN, with the
 * password read from SSM and percent-encoded (it never reaches the rendered tree), TLS verify-full.
 */
export function postgresEndpointLines(pg: Extract<Datastore, { type: 'kine-postgres' }>['postgres'], variable: string): string[] {
  const ca = shQuote(pg.caBundlePath);
  // The RDS bundle goes to the default path only: a caBundlePath the environment chose is its own
  // CA file (on the AMI), never overwritten; the boot stops when it is missing.
  const caLines =
    pg.caBundlePath === DEFAULTS.rdsCaBundlePath
      ? [`curl -sfL ${shQuote(RDS_CA_BUNDLE_URL)} -o ${ca}`, `chmod 0644 ${ca}`]
      : [`[ -s ${ca} ] || { log ${shQuote(`caBundlePath ${pg.caBundlePath} is missing: put the database's CA bundle there (in the AMI), or remove caBundlePath to use the RDS bundle`)}; exit 1; }`];
  return [
    ...caLines,
    `PGPASSWORD=$(ssm_secret ${shQuote(pg.password.secret)})`,
    'PGPASSWORD_ENC=$(urlencode "$PGPASSWORD")',
    'unset PGPASSWORD',
    `${variable}="postgres://${pg.user}:$PGPASSWORD_ENC@${pg.host}:${pg.port}/${pg.database}?sslmode=verify-full"`,
  ];
}

/** GPU nodes need the NVIDIA container runtime on the host (the GPU AMI has driver and toolkit). */
export const NVIDIA_RUNTIME_CHECK = 'command -v nvidia-container-runtime >/dev/null 2>&1 || { log "nvidia-container-runtime not found: use the NVIDIA GPU AMI (driver + container toolkit)"; exit 1; }';

/** A sysctl.d file. */
export const sysctlConf = (values: Readonly<Record<string, string>>): string =>
  Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';
