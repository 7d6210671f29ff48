/** README sections of a K3s environment: what runs where, the SSM parameters, and the runbooks. */
import { upgradeReadmeText } from '../rancher/addons/system-upgrade-controller.js';
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { ReadmeSection } from '../../render/readme/sections.js';
import { K3S_DISABLED_COMPONENTS, K3S_PATHS, roleOf } from './config.js';
import { K3S_FLAGS_RELEASE } from './flags.js';
import { K3S_LITESTREAM_DROP_IN, LITESTREAM_METRICS_PORT, LITESTREAM_RESTORE_PATH, LITESTREAM_RESTORED_MARK, litestreamMarkerKey, litestreamMarkerReset, litestreamReplicaUrl } from './litestream.js';
import { litestreamAlertRules, litestreamScraped } from './addons/litestream-alerts.js';
import { BOOT_SCRIPT_PATH, RDS_CA_BUNDLE_URL } from './userdata.js';
import { caBundleText, POSTGRES_PREREQUISITES } from '../rancher/readme.js';
import { SERVICE_READY_SECONDS, startRefusalsText, type RefusalUpstream } from '../rancher/boot.js';
import { DATASTORE_PASSWORD_SCRIPT } from '../rancher/datastore-password.js';
import { DATASTORE_RESTORE_SCRIPT } from '../rancher/datastore-restore.js';
import { tokenRotationText } from '../rancher/token-rotate.js';
import { k3sTokenRotate } from './token-rotate.js';
import { K3S_DIR } from './render.js';
import { configDropInDir, NODE_DROP_IN } from '../rancher/host.js';
import { DEFAULTS } from '../../model/defaults.js';
import { k3sCluster, k3sPool } from './model.js';
import { LITESTREAM_HAND_RESTORE_SCRIPT } from './litestream-hand-restore.js';

/** How START_REFUSALS (../rancher/boot.ts) cites upstream for K3s: the supervisor code is K3s' own repository. */
export const K3S_UPSTREAM: RefusalUpstream = {
  code: (path, commit) => `k3s-io/k3s@${commit} ${path}`,
  issue: (n) => `k3s-io/k3s#${n}`,
  kine: (path, commit) => `k3s-io/kine@${commit} ${path}`,
  supervisor: 'k3s-io/k3s, the K3s repository itself',
};

const nodes = compileTemplate(`K3s {{code version}} on EC2. Each config target has a K3s config (\`k3s/<target>.yaml\`) and an
EC2 user-data document (\`k3s/userdata/<target>.yaml\`, \`#cloud-config\`) that writes that config to
{{code paths.config}}, reads the secrets from SSM through the instance profile, installs the pinned
K3s release and starts it (boot script {{code bootScript}}).

| Target | Role | Pool | Arch | User-data |
|---|---|---|---|---|
{{#each targets}}| {{name}} | {{role}} | {{pool}} | {{arch}} | {{code userdata}} |
{{/each}}

- The AWS layer (section *AWS layer*) launches every instance with this user data, IMDSv2 required and
  the hop limit each role needs: the add-ons read the instance profile's credentials from pods.
- Servers: built-in cloud controller disabled (\`disable-cloud-controller\`), kubelets run with
  \`cloud-provider=external\`: the AWS cloud controller manager (a platform add-on) initialises nodes.
  Node names are the EC2 private DNS names, set at boot from the instance metadata.
- Packaged components disabled in favour of platform add-ons: {{join disabled ", "}} (the AWS Load
  Balancer Controller replaces ServiceLB and Traefik, the EBS CSI driver local-storage).
- Hardening (K3s CIS guide): \`secrets-encryption\`, \`protect-kernel-defaults\` (sysctls in
  {{code paths.sysctl}}), Pod Security \`restricted\` by default ({{code paths.psa}}; \`kube-system\`
  exempt; add-on namespaces that need more carry their own PSS labels), EventRateLimit, audit log
  {{code paths.auditLog}} with policy {{code paths.auditPolicy}}.
- Kubeconfig (the GitOps engine's bootstrap needs one): K3s writes it on each server to {{code paths.kubeconfig}},
  root only (\`write-kubeconfig-mode: "0600"\`), with \`server: https://127.0.0.1:6443\`; copy it and set \`server:\`
  to {{code endpoint}} (a name in the servers' \`tls-san\`).
- Servers are tainted \`node-role.kubernetes.io/control-plane:NoSchedule\` when workers exist; K3s
  labels them \`node-role.kubernetes.io/control-plane=true\` (value \`true\`, not empty: chart
  nodeSelectors must match it).
{{#if gpu}}- GPU pools run the NVIDIA GPU AMI (driver and nvidia-container-toolkit installed). K3s detects
  \`nvidia-container-runtime\` when it starts and adds the \`nvidia\` runtime; the pool's config makes it
  the default runtime (\`default-runtime: nvidia\`) and labels nodes \`nvidia.com/gpu.present=true\`.
{{/if}}- Config keys are checked against the flags of K3s {{code flagsRelease}} (K3s itself only warns about an
  unknown key and ignores it).
`);

const secrets = compileTemplate(`Create these SSM parameters before the first boot (SecureString; never in this repository):

| Parameter | Read by | Content |
|---|---|---|
| {{code token}} | servers | K3s server token (\`openssl rand -hex 32\`) |
| {{code agentToken}} | servers, agents | agent token: joins agents, cannot join servers |
{{#if pg}}| {{code pg.password.secret}} | servers | password of the PostgreSQL role {{code pg.user}} |
{{/if}}

The instance profile of every node needs \`ssm:GetParameter\` on these parameters (and \`kms:Decrypt\`
on a customer-managed key){{#if sqlite}}; the server's also needs \`s3:GetObject\`, \`s3:PutObject\`,
\`s3:DeleteObject\` on {{code sqlite.url}} and \`s3:ListBucket\` on {{code sqlite.bucket}} (the whole bucket: the replica
marker's check needs it){{/if}}. Keep the token: servers
encrypt their bootstrap data (CA keys) with it, so a restored datastore needs the same token.
`);

const postgres = compileTemplate(`Kine (embedded in K3s) stores the cluster state in PostgreSQL {{code host}}, database {{code database}}, as
role {{code user}}. All {{servers}} servers are peers on that database (no embedded etcd, no \`cluster-init\`);
agents join through {{code endpoint}}.

TLS: the DSN has \`sslmode=verify-full\` and \`datastore-cafile: {{caBundlePath}}\` (Kine passes it as
\`sslrootcert\`); {{caText}}. The DSN with the password (URL-encoded) is assembled at boot from SSM and
written only to the root-only config drop-in {{code dropIn}} (\`datastore-endpoint\`), which install.sh never touches.

${POSTGRES_PREREQUISITES}Bootstrap: the servers boot together (none is told to go first) and K3s orders them: each has the server
token before it starts, so the first to reach the empty database takes the bootstrap key as a lock and writes the
bootstrap data (CA keys, encrypted with the token); the others wait for it and start on that CA (k3s-io/k3s#7215). A
server whose token is not that one is refused. Each boot waits at most {{readySeconds}} s for K3s; a server that cannot
start (PostgreSQL unreachable, the password refused, another token) stops its boot with the cause in the console
(\`aws ec2 get-console-output\`) while systemd keeps retrying; once fixed, run {{code bootScript}} again as root.
Agents join once a server answers; an agent not ready within {{readySeconds}} s (nothing running behind the endpoint, or its
token refused) stops its boot the same way, and a pool instance is abandoned (its group launches another).

**Backup and restore are the database's own** (K3s docs, *Backup and Restore with External Datastore*: "handled outside
of K3s"): on Kine K3s takes no snapshots and restores none of its own. Back up with RDS: automated backups
(point-in-time recovery) or manual snapshots. A restore puts the whole cluster back to that time; with {{restore}} (a
copy on each server, as root): \`sh datastore-restore.sh stop\` on every server; restore the database (RDS restores into
a new instance, with a new endpoint: rename the old instance and give the restored one its identifier, or repoint the
DNS name, so that {{code host}} reaches the restored database); then \`sh datastore-restore.sh start\` on one server
and, once it is Ready, on the others. The restored bootstrap data opens only with the server token of the backup's
time: after a token rotation since the backup, put that earlier value (\`aws ssm get-parameter-history
--with-decryption\` of {{code token}}) into every server's token-file ({{code tokenFile}}) and back into the parameter
first; \`start\` names it when it is refused. A server
rebooted during the restore stays stopped (\`stop\` disabled its unit; \`start\` enables it again): run \`stop\` again
on it after a reboot if in doubt, it does nothing more.
`);

const sqlite = compileTemplate(`Kine stores the cluster state in SQLite on the single server {{first}} ({{code db}}), through Kine's
Litestream compatibility driver (\`datastore-endpoint: litestream://…\`: Kine leaves WAL checkpoints
to Litestream). Litestream {{code version}} runs on that server as \`litestream.service\` and replicates
the database continuously to {{code url}} with the instance profile's credentials (config
{{code config}}, rendered as \`k3s/litestream.yaml\`). SQLite means exactly one server: for several
servers use \`kine-postgres\`.

Restore runs before K3s starts, in K3s' unit (\`ExecStartPre={{restoreHook}}\`, drop-in {{code dropIn}}):
it restores the replica into a new file (\`litestream restore -if-replica-exists -o …\`), moves whatever was at
{{code db}} aside and marks the node done ({{code mark}}), so a replacement server (same token in SSM) comes back
with the replicated state, a retried first boot restores again, and a new cluster (no replica yet) starts empty.

**A missing replica is refused, not started empty.** \`litestream restore -if-replica-exists\` succeeds when there
is no replica, so the hook keeps a marker object holding the replica path:
{{code marker}}. The first start writes it (the hook runs before K3s and cannot wait for the first replication).
Later a server with no replica and a marker refuses to start K3s: "the replica … vanished" when the marker names
{{code url}}, "the replica moved" with the \`aws s3 sync\` to run when it names another path (a restore from the new path then adopts the copy). Any
error reading the marker other than NoSuchKey (network, permissions) refuses too. The servers' role may read and
write that object and list the Litestream bucket (S3 answers AccessDenied, not NoSuchKey, for a missing key otherwise).

When the hook refused because there is no replica (it vanished, or the first server was lost before its first
replication: the marker exists, the replica never did) and a NEW, EMPTY cluster is what you want, delete the marker,
then restart k3s on the server (or let the replacement boot again):

\`\`\`sh
{{reset}}
\`\`\`

The marker decides only when there is no replica: while one exists the hook restores it, and a server past its first
start ({{code mark}}) runs no restore at all. So deleting it empties no running cluster, and a replacement still comes
back with the replicated state. To give a cluster's state up on purpose, point it at an empty place (a new \`prefix\`)
and replace the server: its boot refuses ("the replica moved"), then delete the marker as above.

A change of **bucket** still slips past the marker: the new bucket has none, so a server booting with it starts
empty. \`npm run diff\` reports the replica's place as a setting fixed at creation; follow its steps.

**Replication is watched**{{#if alerts}}: Prometheus scrapes Litestream on the server (\`:{{port}}\`, ScrapeConfig
\`litestream\` in \`monitoring\`, the node security group admits it from the nodes Prometheus runs on) and the
PrometheusRule \`litestream-alerts\` fires: {{#each alerts}}\`{{this}}\`{{#unless @last}}, {{/unless}}{{/each}}. Kine
checkpoints nothing itself: while Litestream is stopped the WAL grows without bound and nothing reaches S3.{{else}}
**not**: the \`litestream-alerts\` add-on is off (or kube-prometheus-stack is), so a stopped Litestream (no
replication, a WAL that grows without bound) goes unnoticed.{{/if}}

To restore by hand (the latest state, or a point in time): copy \`rendered/{{env}}/k3s/{{script}}\` to the
server and run, as root, \`sh {{script}} [<time, RFC 3339>]\` (e.g. \`2026-01-02T03:04:05Z\`). It stops and
disables Litestream and K3s, restores into a new file (a time with no backup leaves the database as it was), moves the
old database and Litestream's local state aside (\`*.before-restore-<time>\`), starts K3s (bounded: it names the cause
when K3s does not start) and only then Litestream, which goes on replicating from the restored state. A state from
before a token rotation opens only with the server token of that time (K3s: "bootstrap data already found and encrypted
with different token"): \`aws ssm get-parameter-history --with-decryption --name {{token}}\` has it; the script says
where to put it. Both units stay disabled until K3s runs on the restored database: after a reboot mid-restore, run the
script again.

Never run two servers against the same replica. Its place ({{code url}}) is the cluster's for good: a server that
boots with another place and nothing there starts an empty cluster, and the running server keeps its own config (user
data runs once) while the base stack's policy follows the new place. \`npm run diff\` gives the steps that move it
(copy the replica after the base stack update, then point the running server's Litestream at the copy).
`);

const limits = (m: EnvironmentModel): string => `- User-data runs once per instance: changing a config here means replacing (or re-provisioning) the
  node. Labels and taints apply only when a node registers.
${upgradeReadmeText(m)}`;

export function k3sSections(m: EnvironmentModel): ReadmeSection[] {
  if (m.cluster.distribution !== 'k3s') return [];
  const d = m.cluster.datastore;
  const first = m.controlPlaneNodes[0]?.name ?? '(no server)';
  const sections: ReadmeSection[] = [
    {
      order: 20,
      title: 'K3s nodes',
      inputs: [['cluster'], ['nodePools']],
      body: nodes({
        version: k3sCluster(m).version,
        flagsRelease: K3S_FLAGS_RELEASE,
        paths: K3S_PATHS,
        bootScript: BOOT_SCRIPT_PATH,
        disabled: K3S_DISABLED_COMPONENTS,
        endpoint: m.cluster.endpoint,
        gpu: m.hasGpu,
        targets: m.configTargets.map((t) => ({ name: t.name, role: roleOf(t), pool: t.pool.name, arch: t.pool.arch, userdata: `k3s/userdata/${t.name}.yaml` })),
      }),
    },
    {
      order: 21,
      title: 'K3s secrets (SSM)',
      inputs: [['name'], ['cluster', 'k3s'], ['cluster', 'datastore'], ['cluster', 'k3sVersion']],
      body: `${secrets({
        token: k3sCluster(m).token.secret,
        agentToken: k3sCluster(m).agentToken.secret,
        pg: d.type === 'kine-postgres' ? d.postgres : false,
        sqlite: d.type === 'kine-sqlite' ? { url: litestreamReplicaUrl(m, d), bucket: `s3://${d.litestream.bucket}` } : false,
      })}\n${tokenRotationText(m, { name: 'k3s', title: 'K3s' }, k3sTokenRotate(m))}\n${startRefusalsText('K3s', K3S_UPSTREAM)}`,
    },
  ];
  if (d.type === 'kine-postgres')
    sections.push({
      order: 22,
      title: 'Datastore: Kine on PostgreSQL',
      inputs: [['cluster', 'datastore'], ['cluster', 'endpoint'], ['nodePools']],
      body: postgres({
        ...d.postgres,
        password: d.postgres.password.secret,
        servers: m.controlPlaneNodes.length,
        endpoint: m.cluster.endpoint,
        readySeconds: SERVICE_READY_SECONDS,
        bootScript: BOOT_SCRIPT_PATH,
        caText: caBundleText(d.postgres.caBundlePath, DEFAULTS.rdsCaBundlePath, RDS_CA_BUNDLE_URL),
        dropIn: `${configDropInDir('k3s')}/${NODE_DROP_IN}`,
        rotate: `\`${m.renderedDir}/${K3S_DIR}/${DATASTORE_PASSWORD_SCRIPT}\``,
        restore: `\`${m.renderedDir}/${K3S_DIR}/${DATASTORE_RESTORE_SCRIPT}\``,
        tokenFile: K3S_PATHS.token,
        token: k3sCluster(m).token.secret,
      }),
    });
  if (d.type === 'kine-sqlite')
    sections.push({
      order: 22,
      title: 'Datastore: Kine on SQLite, Litestream to S3',
      inputs: [['cluster', 'datastore'], ['cluster', 'name'], ['nodePools'], ['addons']],
      body: sqlite({
        first,
        env: m.name,
        script: LITESTREAM_HAND_RESTORE_SCRIPT,
        token: k3sCluster(m).token.secret,
        db: K3S_PATHS.sqliteDb,
        config: K3S_PATHS.litestreamConfig,
        version: d.litestream.version,
        url: litestreamReplicaUrl(m, d),
        restoreHook: LITESTREAM_RESTORE_PATH,
        dropIn: K3S_LITESTREAM_DROP_IN,
        mark: LITESTREAM_RESTORED_MARK,
        marker: `s3://${d.litestream.bucket}/${litestreamMarkerKey(m)}`,
        reset: litestreamMarkerReset(m, d),
        port: LITESTREAM_METRICS_PORT,
        alerts: litestreamScraped(m) ? litestreamAlertRules().map((r) => r.alert) : false,
      }),
    });
  sections.push({ order: 23, title: 'K3s limits and upgrades', inputs: [['cluster', 'k3sVersion'], ['addons']], body: limits(m) });
  return sections;
}
