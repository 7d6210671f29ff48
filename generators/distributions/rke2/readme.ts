/** README sections of an RKE2 environment: what runs where, the SSM parameters, and the runbooks. */
import { nodeSubnetCidrs } from '../../catalog/network-policies.js';
import { upgradeReadmeText } from '../rancher/addons/system-upgrade-controller.js';
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import { RDS_CA_BUNDLE_URL, SERVICE_READY_SECONDS, startRefusalsText, type RefusalUpstream } from '../rancher/boot.js';
import { DEFAULTS } from '../../model/defaults.js';
import { roleOf } from '../rancher/config.js';
import { caBundleText, POSTGRES_PREREQUISITES } from '../rancher/readme.js';
import { DATASTORE_PASSWORD_SCRIPT } from '../rancher/datastore-password.js';
import { DATASTORE_RESTORE_SCRIPT } from '../rancher/datastore-restore.js';
import { tokenRotationText } from '../rancher/token-rotate.js';
import { rke2TokenRotate } from './token-rotate.js';
import { configDropInDir, NODE_DROP_IN } from '../rancher/host.js';
import type { ReadmeContext, ReadmeSection } from '../../render/readme/sections.js';
import { RKE2_DIR } from './render.js';
import { RESTORE_SCRIPT } from './restore.js';
import { RKE2_DISABLED_COMPONENTS, RKE2_PATHS, rke2Cni, SUPERVISOR_PORT, supervisorUrl } from './config.js';
import { RKE2_FLAGS_RELEASE } from './flags.js';
import { RKE2_BOOT_SCRIPT_PATH } from './userdata.js';
import { rke2Cluster, rke2Pool } from './model.js';

/**
 * How START_REFUSALS (../rancher/boot.ts) cites upstream for RKE2: its supervisor is not rancher/rke2's own code but the
 * module its go.mod requires (rancher/rke2@00337ece go.mod, the require of the supervisor module, which it runs as
 * pkg/cli/server and pkg/agent); the files are that module's, the issue its tracker's. A joining server's `/config` 401
 * was reported for RKE2 in rancher/rke2#3656 (v1.23.14+rke2r1).
 */
export const RKE2_UPSTREAM: RefusalUpstream = {
  code: (path, commit) => `the supervisor module's ${path}@${commit}`,
  issue: (n) => `the supervisor repository's issue #${n}`,
  kine: (path, commit) => `Kine's ${path}@${commit} (the module the supervisor requires)`,
  supervisor: "the supervisor module rancher/rke2's go.mod requires (rancher/rke2@00337ece go.mod), not rancher/rke2's own code",
  configSeen: 'rancher/rke2#3656 (v1.23.14+rke2r1)',
};

const nodes = compileTemplate(`RKE2 {{code version}} on EC2, CIS profile. Each config target has an RKE2 config (\`rke2/<target>.yaml\`)
and an EC2 user-data document (\`rke2/userdata/<target>.yaml\`, \`#cloud-config\`) that writes that config
to {{code paths.config}}, prepares the host, reads the secrets from SSM through the instance profile,
installs the pinned release with its own \`install.sh\` (which verifies the tarball against the
release's \`sha256sum-<arch>.txt\`) and starts \`rke2-server\` or \`rke2-agent\` (boot script {{code bootScript}}).

| Target | Role | Pool | Arch | User-data |
|---|---|---|---|---|
{{#each targets}}| {{name}} | {{role}} | {{pool}} | {{arch}} | {{code userdata}} |
{{/each}}

- The AWS layer (section *AWS layer*) launches every instance with this user data, IMDSv2 required and
  the hop limit each role needs. The load balancer behind {{code endpointHost}} forwards 6443 (API)
  **and {{supervisorPort}} (RKE2 supervisor)** to the servers: every joining node registers at {{code supervisor}}.
  The API certificate's SANs (\`tls-san\`) cover that name and the server IPs.
- **CIS profile** (\`profile: cis\`, the value of this release): RKE2 refuses to start unless the kernel
  parameters of {{code paths.sysctl}} hold (written by the user-data, applied before start) and, on servers,
  the host user and group \`etcd\` exist (created by the boot script); it sets \`protect-kernel-defaults\`,
  {{#if etcd}}runs etcd as \`etcd\`, {{/if}}adds the audit log flags (log {{code paths.auditLog}}, policy {{code paths.auditPolicy}}:
  metadata of every request) and installs NetworkPolicies in \`kube-system\`, \`kube-public\` and \`default\`
  that admit only same-namespace traffic. The API server reaches metrics-server (10250) and the AWS Load
  Balancer Controller webhook (9443) from the nodes only: {{#if cilium}}\`odp-allow-*\` policies admit the node subnets
  ({{join nodeSubnets ", "}}; Cilium's \`policyCIDRMatchMode: nodes\` lets an ipBlock match nodes){{else}}RKE2's own
  \`rke2-flannel-host-networking\` policy admits every node's flannel address (Canal), so no add-on policy opens
  them{{/if}}; a pod's own node is always admitted. Prometheus enters from the monitoring namespace
  (\`odp-allow-prometheus-scrape\`).
- **Pod Security** \`restricted\` everywhere ({{code paths.psa}}), exempt: \`kube-system\` only (RKE2's
  own default also exempts \`compliance-operator-system\` and \`tigera-operator\`, which this platform
  does not run); add-on namespaces that need more carry their own PSS labels. EventRateLimit is on.
- **Secrets encryption** is always on in RKE2 (no flag needed).
- **AWS**: built-in cloud controller disabled (\`disable-cloud-controller\`), kubelets run with
  \`cloud-provider=external\`, the AWS cloud controller manager ({{engine}} add-on) initialises nodes.
  Node names are the EC2 private DNS names, read from IMDSv2 at boot (\`RKE2_NODE_NAME\`).
- Packaged components replaced by add-ons: \`ingress-controller: none\` (the AWS Load Balancer
  Controller serves Ingresses), \`disable: {{join disabled ", "}}\` (the catalog's metrics-server).
- **CNI**: {{#if cilium}}Cilium from the catalog (\`cni: none\`, \`disable-kube-proxy: true\`; Cilium replaces
  kube-proxy and enforces NetworkPolicies). Cilium is not part of RKE2's FIPS build.{{else}}Canal (\`cni: {{cni}}\`,
  RKE2's default: flannel VXLAN with Calico's policy engine, which enforces NetworkPolicies).{{/if}}
- Servers are tainted \`node-role.kubernetes.io/control-plane:NoSchedule\` when workers exist; RKE2
  labels them \`node-role.kubernetes.io/control-plane=true\`.
{{#if gpu}}- GPU pools run the NVIDIA GPU AMI (driver and nvidia-container-toolkit). RKE2 detects
  \`nvidia-container-runtime\` at start and adds the \`nvidia\` runtime; the pool's config makes it the
  default (\`default-runtime: nvidia\`). RKE2 ships and owns the \`nvidia\` RuntimeClass (its
  \`rke2-runtimeclasses\` chart), so the catalog renders none.
{{/if}}- Config keys are checked against the flags of RKE2 {{code flagsRelease}}; supervisor flags RKE2 dropped
  (\`cluster-init\`, \`flannel-*\`, …) are refused.
`);

const secrets = compileTemplate(`Create these SSM parameters before the first boot (SecureString; never in this repository):

| Parameter | Read by | Content |
|---|---|---|
| {{code token}} | servers | RKE2 server token (\`openssl rand -hex 32\`) |
| {{code agentToken}} | servers, agents | agent token: joins agents, cannot join servers |
{{#if pg}}| {{code pg.password.secret}} | servers | password of the PostgreSQL role {{code pg.user}} |
{{/if}}

The instance profile of every node needs \`ssm:GetParameter\` on these parameters (and \`kms:Decrypt\`
on a customer-managed key){{#if s3}}; the servers' also needs \`s3:PutObject\`, \`s3:GetObject\`,
\`s3:DeleteObject\` on {{code s3}} and \`s3:ListBucket\` on its whole bucket (etcd snapshots; no access keys anywhere: RKE2
first checks the bucket exists, a HEAD request that carries no prefix){{/if}}.
Keep the token: servers encrypt their bootstrap data (CA keys) with it, so a restored {{#if s3}}snapshot or
{{/if}}datastore needs the same token.
`);

const etcd = compileTemplate(`Embedded etcd on the {{servers}} servers (odd, so a majority survives a failure).
{{#if backup}}RKE2 snapshots etcd on {{code backup.schedule}} into {{code snapshots}} and uploads each
snapshot to {{code s3}} (region {{code region}}) with the instance profile's credentials. Retention is **per
server**: every server takes its own snapshots (named \`etcd-snapshot-<node>-<time>\`) and keeps its newest
{{backup.retention}} locally and {{backup.retention}} in S3, so the bucket holds up to {{inS3}}. The bucket's default encryption applies
(RKE2 has no server-side-encryption option for \`etcd-s3\`).{{else}}**No snapshots to S3 are configured**
(add \`cluster.datastore.backup\`).{{/if}}

**First server and joining.** Every server's config has \`server: {{supervisor}}\`. At boot {{first}}
bootstraps a new etcd only when SSM still holds the short token (no cluster has published its secure one)
and nothing answers on the supervisor port of the endpoint; it then publishes RKE2's secure \`K10…\` tokens
to SSM, and every other node waits for them, so it verifies the cluster CA before it sends credentials.
Start {{first}} first, then the other servers one at a time, then the worker pools.
Each boot waits at most {{readySeconds}} s for RKE2 to be ready (its unit's start has no timeout), then stops naming
what keeps it on the console (\`aws ec2 get-console-output\`): nothing running behind
{{supervisor}}, etcd refusing the member, or a token refused. systemd keeps retrying:
once fixed, run the boot script again as root. A pool instance is abandoned instead (its group launches another).

**Replacing a server** (same name, same address): terminate the old instance, then run
\`sh {{replaceServer}} <server>\` from the repository root where kubectl reaches the cluster: it removes the
old etcd member (annotation \`etcd.rke2.cattle.io/remove=true\`) and deletes the Node, because etcd refuses
a second member with the node's name ("duplicate node name found"). Then raise the server's \`replacement\`
(AWS layer, "Replacing a lost fixed node"): its new instance runs the server's user data and joins the running cluster.

On-demand snapshot: \`sudo rke2 etcd-snapshot save --name pre-change\` (uploaded like the scheduled ones).

**Restore from a snapshot** (\`cluster-reset\`; rke2-docs datastore/backup_restore.md, Multiple Servers): copy
\`{{restore}}\` to the servers and run it as root, step by step:

\`\`\`sh
sh restore-etcd.sh list              # on any server: {{#if backup}}the snapshots in {{s3}} and {{/if}}this server's own (works while RKE2 is stopped)
sh restore-etcd.sh stop              # on EVERY server
sh restore-etcd.sh restore <name>    # on ONE server: rke2 server --cluster-reset --cluster-reset-restore-path=<name>, then start
sh restore-etcd.sh rejoin            # on each other server, one at a time: moves {{dataDir}}/server/db away, starts RKE2
\`\`\`

List before anything else: \`rke2 etcd-snapshot ls\` asks the running server, so once RKE2 is stopped everywhere it
only fails; \`list\` reads the bucket{{#if backup}} with the instance profile{{/if}}. The other servers must not start
on their old database: they are no members of the reset cluster, so \`rejoin\` moves it away (kept) and refuses
while nothing answers at {{code supervisor}} (run on the restored server, it would throw the restored data away).
The restored cluster needs the token it was created with ({{code token}}). \`stop\` also disables RKE2 on the server
(\`restore\` and \`rejoin\` enable it again): a server rebooted in between stays stopped instead of starting on its old
database; carry on with its step.
`);

const postgres = compileTemplate(`Kine (embedded in RKE2) stores the cluster state in PostgreSQL {{code host}}, database {{code database}},
as role {{code user}} (rke2-docs datastore/external.md). All {{servers}} servers are peers on that database
(no etcd, no \`server\` key on servers); agents join through {{code supervisor}}.

**Support status**: RKE2's docs no longer call external datastores experimental (the warning was removed
in June 2025), but their backup and restore section is still titled *External DB Backups (Experimental)*,
and the datastore RKE2 officially supports is its embedded one: back up the database with RDS snapshots, and keep the token.

TLS: the DSN has \`sslmode=verify-full\` and \`datastore-cafile: {{caBundlePath}}\`; {{caText}}. The DSN with the URL-encoded password is assembled at boot from
SSM and written only to the root-only config drop-in {{code dropIn}} (\`datastore-endpoint\`), which install.sh never touches.

${POSTGRES_PREREQUISITES}Bootstrap: the nodes stack launches the servers together and their boot scripts order them: {{first}} writes
the bootstrap data (CA keys, encrypted with the server token) into the empty database and then publishes RKE2's secure
\`K10…\` tokens to SSM; every other server waits for that token (up to 30 minutes) before it starts RKE2 on the same
database and CA. A server whose token is not that one is refused. Each boot waits at most {{readySeconds}} s for RKE2; a
server that cannot start (PostgreSQL unreachable, the password refused, another token) stops its boot with the cause
in the console (\`aws ec2 get-console-output\`) while systemd keeps retrying; once fixed, run {{code bootScript}} again
as root. Agents join once a server answers.

**Backup and restore are the database's own** (rke2-docs datastore/backup_restore.md, *Backup and Restore with
External Datastore*): on Kine RKE2 takes no snapshots and restores none of its own. Back up with RDS: automated backups (point-in-time recovery) or manual snapshots. A restore puts the
whole cluster back to that time; with {{restore}} (a copy on each server, as root): \`sh datastore-restore.sh stop\` on
every server; restore the database (RDS restores into a new instance, with a new endpoint: rename the old instance and
give the restored one its identifier, or repoint the DNS name, so that {{code host}} reaches the restored database);
then \`sh datastore-restore.sh start\` on one server and, once it is Ready, on the others. The restored bootstrap data
opens only with the server token of the backup's time: after a token rotation since the backup, put that earlier value
(\`aws ssm get-parameter-history --with-decryption\` of {{code token}}) into every server's token-file
({{code tokenFile}}) and back into the parameter first; \`start\` names it when it is refused. A server
rebooted during the restore stays stopped (\`stop\` disabled its unit; \`start\` enables it again): run \`stop\` again
on it after a reboot if in doubt, it does nothing more.
`);

const upgrades = compileTemplate(`{{upgrade}}- **Config changes**: RKE2 reads {{code config}} at start: edit it on the node (or replace the node with
  the new user-data) and restart the service. User-data runs once per instance. \`npm run diff\` says
  per node what a change takes. Labels and taints apply only when a node registers; a CNI change
  needs the cluster rebuilt.
- **FIPS**: RKE2's release artifacts are built with the FIPS 140-2 validated BoringCrypto module
  (rke2-docs security/fips_support.md): the Kubernetes components, etcd, containerd, runc, the
  kubelet, Canal and CoreDNS. It does not cover the host (run a FIPS-enabled AMI and kernel for the
  OS side){{#if cilium}}, Cilium,{{/if}} nor the catalog's add-ons ({{engine}}, the AWS controllers, cert-manager,
  External Secrets, Prometheus …), which are upstream builds.
`);

export function rke2Sections(m: EnvironmentModel, ctx: ReadmeContext): ReadmeSection[] {
  if (m.cluster.distribution !== 'rke2') return [];
  const d = m.cluster.datastore;
  const first = m.controlPlaneNodes[0]?.name ?? '(no server)';
  const backup = d.type === 'etcd' ? d.backup : undefined;
  const s3 = backup ? `s3://${backup.bucket}/${backup.prefix.replace(/^\/+|\/+$/g, '')}` : false;
  const cilium = m.cluster.network.cni === 'cilium';
  const sections: ReadmeSection[] = [
    {
      order: 20,
      title: 'RKE2 nodes',
      inputs: [['cluster'], ['nodePools'], ['aws', 'vpc']],
      body: nodes({
        version: rke2Cluster(m).version,
        flagsRelease: RKE2_FLAGS_RELEASE,
        engine: ctx.engine.title,
        etcd: d.type === 'etcd',
        paths: RKE2_PATHS,
        bootScript: RKE2_BOOT_SCRIPT_PATH,
        restore: `\`${m.renderedDir}/${RKE2_DIR}/${DATASTORE_RESTORE_SCRIPT}\``,
        disabled: RKE2_DISABLED_COMPONENTS,
        endpointHost: m.cluster.endpointHost,
        supervisorPort: SUPERVISOR_PORT,
        supervisor: supervisorUrl(m),
        cilium,
        nodeSubnets: nodeSubnetCidrs(m),
        cni: rke2Cni(m),
        gpu: m.hasGpu,
        targets: m.configTargets.map((t) => ({ name: t.name, role: roleOf(t), pool: t.pool.name, arch: t.pool.arch, userdata: `rke2/userdata/${t.name}.yaml` })),
      }),
    },
    {
      order: 21,
      title: 'RKE2 secrets (SSM)',
      inputs: [['name'], ['cluster', 'rke2'], ['cluster', 'datastore'], ['cluster', 'rke2Version']],
      body: `${secrets({ token: rke2Cluster(m).token.secret, agentToken: rke2Cluster(m).agentToken.secret, pg: d.type === 'kine-postgres' ? d.postgres : false, s3 })}\n${tokenRotationText(m, { name: 'rke2', title: 'RKE2' }, rke2TokenRotate(m))}\n${startRefusalsText('RKE2', RKE2_UPSTREAM)}`,
    },
  ];
  if (d.type === 'etcd')
    sections.push({
      order: 22,
      title: 'Datastore: embedded etcd, snapshots to S3',
      inputs: [['cluster', 'datastore'], ['cluster', 'endpoint'], ['aws', 'region'], ['nodePools']],
      body: etcd({ servers: m.controlPlaneNodes.length, inS3: backup ? `${backup.retention * m.controlPlaneNodes.length} (${backup.retention} × ${m.controlPlaneNodes.length} servers)` : '', backup: backup ?? false, s3, region: m.aws.region, snapshots: RKE2_PATHS.snapshots, first, supervisor: supervisorUrl(m), dataDir: RKE2_PATHS.dataDir, token: rke2Cluster(m).token.secret, replaceServer: `${m.renderedDir}/${RKE2_DIR}/replace-server.sh`, restore: `${m.renderedDir}/${RKE2_DIR}/${RESTORE_SCRIPT}`, readySeconds: SERVICE_READY_SECONDS }),
    });
  if (d.type === 'kine-postgres')
    sections.push({
      order: 22,
      title: 'Datastore: Kine on PostgreSQL',
      inputs: [['cluster', 'datastore'], ['cluster', 'endpoint'], ['nodePools']],
      body: postgres({
        ...d.postgres,
        password: d.postgres.password.secret,
        servers: m.controlPlaneNodes.length,
        first,
        supervisor: supervisorUrl(m),
        caText: caBundleText(d.postgres.caBundlePath, DEFAULTS.rdsCaBundlePath, RDS_CA_BUNDLE_URL),
        dropIn: `${configDropInDir('rke2')}/${NODE_DROP_IN}`,
        rotate: `\`${m.renderedDir}/${RKE2_DIR}/${DATASTORE_PASSWORD_SCRIPT}\``,
        readySeconds: SERVICE_READY_SECONDS,
        bootScript: RKE2_BOOT_SCRIPT_PATH,
        restore: `\`${m.renderedDir}/${RKE2_DIR}/${DATASTORE_RESTORE_SCRIPT}\``,
        tokenFile: RKE2_PATHS.token,
        token: rke2Cluster(m).token.secret,
      }),
    });
  sections.push({ order: 23, title: 'RKE2 upgrades, changes and FIPS', inputs: [['cluster', 'rke2Version'], ['cluster', 'network', 'cni'], ['addons']], body: upgrades({ upgrade: upgradeReadmeText(m), etcd: d.type === 'etcd', cilium, config: RKE2_PATHS.config, engine: ctx.engine.title }) });
  return sections;
}
