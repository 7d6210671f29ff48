/** README sections for Talos environments: nodes, images, hardening, runbook. */
import { nvidiaDevicePlugin } from '../../catalog/nvidia-device-plugin.js';
import { etcdBackupRoleArn } from '../../catalog/irsa.js';
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import { clusterSteps, setupSteps, targetSteps, workDir, type CommandStep } from './operations.js';
import { classImages } from './nodeclass.js';
import { ETCD_BACKUP_NAMESPACE, talosRelease } from './release.js';
import { schematicPath, talosConfigPath } from './render.js';
import { readmeContext } from '../../render/readme/readme.js';
import type { ReadmeContext, ReadmeSection } from '../../render/readme/sections.js';
import { talosCluster, talosPool } from './model.js';

const nodes = compileTemplate(`Talos {{code talos}}, Kubernetes {{code k8s}}. One machine config per node (per pool for auto-scaled pools) under \`talos/\`; secret fields hold \`\${talos-secrets:<bundle path>}\` references to the SSM SecureString {{code parameter}} and are filled only by \`npm run talos -- config\`.

| Config | Role | Pool | Node class | Address | Zone |
|---|---|---|---|---|---|
{{#each rows}}| [{{code file}}]({{file}}) | {{role}} | {{pool}} | {{cls}} | {{address}} | {{zone}} |
{{/each}}{{#if workerTaints}}
Worker taints are registered by the kubelet (\`--register-with-taints\`): NodeRestriction forbids a node to change its own taints later, so a changed taint reaches new nodes only; existing ones need \`kubectl taint\`.
{{/if}}`);

const images = compileTemplate(`One [Image Factory](https://factory.talos.dev) schematic per node class; IDs are computed offline exactly as the factory does (sha256 of the go-yaml schematic) and are reproduced by \`curl -X POST --data-binary @<canonical> https://factory.talos.dev/schematics\`.

| Class | Schematic | Extensions | Installer (\`machine.install.image\`) | AMI source |
|---|---|---|---|---|
{{#each rows}}| [{{name}}]({{file}}) | {{code short}} | {{extensions}} | {{code installer}} | {{code disk}} |
{{/each}}{{#if gpu}}
GPU nodes load {{code modules}} (the NVIDIA extension blacklists autoloading){{#if sysctl}} and set {{code sysctl}} (Talos 1.12 NVIDIA guide; the 1.13 guide dropped it){{/if}}. Driver tier {{code tier}}: open kernel modules {{driver}}, container toolkit {{toolkit}}; the \`nvidia\` containerd runtime comes with the toolkit. Kubernetes side: the \`nvidia-device-plugin\` add-on (chart {{code devicePlugin}}, not the GPU Operator: the extensions already provide driver and toolkit) with the RuntimeClass \`nvidia\`; its DaemonSet runs on nodes labelled \`nvidia.com/gpu.present=true\`, which the configs set on GPU nodes only, and offers \`nvidia.com/gpu\`.
{{/if}}`);

const hardening = compileTemplate(`Each default is written out in the configs, not left to Talos' built-in defaults:

- **PodSecurity admission**: enforce \`baseline\`, audit and warn \`restricted\`, only \`kube-system\` exempt. Baseline blocks host namespaces, privileged containers and hostPath escapes everywhere; the restricted warnings show what a workload would need to tighten. Namespaces that must run privileged (CNI, NVIDIA device plugin) are labelled by their add-on.
- **Audit policy**: no logging of health probes, events, leases and node self-reads (volume without value); Secrets, ConfigMaps, token requests and TokenReviews only at \`Metadata\` (bodies would put secrets in the log); every other write at \`Request\` (who changed what, with the body); everything else at \`Metadata\`. Logs: \`/var/log/audit/kube/\` on the control planes.
- **Encryption at rest**: secretbox (XSalsa20-Poly1305) with the bundle's \`secretboxencryptionsecret\`; Talos writes the EncryptionConfiguration itself.
- **Kubelet serving certificates**: \`rotate-server-certificates: "true"\` — kubelets request serving certificates from the cluster CA; the \`kubelet-csr-approver\` add-on approves them (only for node names and IPs inside the VPC), so metrics-server verifies kubelets (no \`--kubelet-insecure-tls\`). Pending CSRs mean the approver is not running.
- **Seccomp**: \`defaultRuntimeSeccompProfileEnabled: true\` — every container runs with \`RuntimeDefault\` unless it asks otherwise.
- **KubePrism** on port 7445: a local, load-balanced API endpoint on every node, so kubelets and host-network components survive the loss of the external endpoint.
- **hostDNS** with \`forwardKubeDNSToHost\`: node-local DNS cache, CoreDNS forwards to it.
- **Discovery**: enabled through the Sidero discovery service (encrypted with \`cluster.secret\`; the service sees only opaque data); the Kubernetes registry is disabled (it leaks node data into annotations and breaks when the API is down).
- **Workers** carry no CA keys (\`machine.ca.key\` and \`cluster.ca.key\` empty), no etcd, no control-plane components; only control planes may grant Talos API access from Kubernetes, and only \`os:etcd:backup\` to namespace {{code backupNs}}{{#unless backup}} (not granted here: no backup configured){{/unless}}.
- **Disk quotas** (\`diskQuotaSupport\`) so ephemeral-storage limits are enforced.
- **Time**: a \`TimeSyncConfig\` document points NTP at the Amazon Time Sync Service (\`169.254.169.123\`), reachable without internet egress.
- **Cloud provider**: \`externalCloudProvider.enabled\` — kubelets start with \`--cloud-provider=external\` and wait for the AWS cloud controller ({{addon}}) to initialise nodes; \`registerWithFQDN\` registers nodes under their EC2 private DNS name, as the controller expects. Zone and region labels are written for nodes whose subnet is known.
{{#if cilium}}- **CNI**: Cilium — \`cluster.network.cni.name: none\` and \`cluster.proxy.disabled: true\`; Cilium replaces kube-proxy, must reach the API through KubePrism (\`k8sServiceHost: localhost\`, \`k8sServicePort: 7445\`), and enforces NetworkPolicies. It is installed by the bootstrap script before anything else (nodes stay NotReady until it runs).
{{else}}{{#if kubeNetworkPolicies}}- **CNI**: flannel and kube-proxy as deployed by Talos, with \`cluster.network.cni.flannel.kubeNetworkPoliciesEnabled: true\`: Talos adds kube-network-policies to the flannel DaemonSet, which enforces NetworkPolicies.
{{else}}- **CNI**: flannel and kube-proxy as deployed by Talos. Talos {{talosMinor}}'s flannel does **not** enforce NetworkPolicies (kube-network-policies comes with Talos 1.13); the generator refuses workloads here.
{{/if}}{{/if}}- **Changing the CNI** (\`cluster.network.cni\`) on a running cluster: applying the configs only stores it, since Talos creates missing bootstrap objects but never updates them; run \`talosctl upgrade-k8s --to {{k8s}}\` to sync flannel, kube-network-policies and kube-proxy{{#if prunes}} (it prunes what is no longer rendered){{else}}; Talos {{talosMinor}} does not prune, so delete the \`kube-flannel\` and \`kube-proxy\` DaemonSets in \`kube-system\` yourself after Cilium runs{{/if}}. \`npm run diff\` marks such changes \`sync-manifests\`.
{{#if irsa}}- **IRSA**: \`service-account-issuer\` is {{code issuer}}; tokens are signed with the bundle's RSA service-account key, whose public JWKS must be published at the issuer (\`npm run talos -- irsa documents --env {{env}} --out-dir DIR\` writes both documents). Replacing the bundle rotates that key and breaks IRSA.
{{/if}}`);

const runbook = compileTemplate(`Scripts per phase, safe to pipe to sh: \`npm run -s talos -- commands --env {{env}} <bootstrap|apply|upgrade|upgrade-k8s|restore>\`; every command for a node: \`npm run talos -- commands --env {{env}} [--node N]\`. Materialized configs, the talosconfig and kubeconfig live in {{code dir}}, outside the repository (the \`config\` command refuses paths inside it); the apply and upgrade scripts fetch a fresh kubeconfig there through the Talos API of the first control plane that answers, so their kubectl asks this cluster whatever \`KUBECONFIG\` the shell has. A changed config goes in live when Talos can (\`--mode no-reboot\`); otherwise the node is drained (\`kubectl drain\`, as PodDisruptionBudgets allow, at most \`ODP_DRAIN_TIMEOUT\`, 5m, which may not exceed 45m: a budget that allows no eviction stops the script with the node uncordoned and nothing staged), the config staged and the node rebooted with \`talosctl reboot\`, which waits until the node is back (\`--mode auto\` would return with the reboot only scheduled, and a health check right after it can pass on the node still up), one node at a time, each gated.

### First bootstrap

1. Once per environment: \`talosctl gen secrets -o secrets.yaml\`, then \`npm run talos -- secrets import --env {{env}} --from secrets.yaml\`; delete the local file. Import refuses to replace an existing bundle without \`--force\`: new secrets lock everyone out of a running cluster.
2. The AWS layer (section *AWS layer*, its runbook) registers one AMI per node class from the schematics' disk images and launches the instances (IMDSv2, the hop limit each role needs). No instance gets user data: a Talos config holds the cluster's join secrets, so each node boots into maintenance mode and waits for its config, applied below.

The client setup, in the shell that runs any step below: its talosconfig reaches every node through every control plane, and \`any_cp\` runs a one-node command (the kubeconfig) through the first control plane that answers, \`etcd_cp\` one that needs etcd (health, \`upgrade-k8s\`, the etcd snapshot) through the first whose etcd is healthy (else, said, through one that answers), so the steps work with one of them down; only the first bootstrap names the first control plane (a second bootstrap would start a second etcd cluster).

{{setup}}

{{first}}

{{bootstrap}}

Then apply every other node the same way (control planes before workers){{#if pools}}; the instances of the auto-scaled pools wait under a launch lifecycle hook until their pool's config is applied: {{#each pools}}{{code this}}{{#unless @last}}, {{/unless}}{{/each}}{{/if}}. Then bootstrap the GitOps engine (below).

### Adding a node

Fixed node: add it to its pool in \`environments/{{env}}.yaml\`, \`npm run synth\`, review and commit; once the nodes stack has created its instance, materialize and apply it with \`--insecure\` (first apply). Control-plane nodes join etcd by themselves; keep the count odd. Auto-scaled pool: change \`count\`; the new instances wait in maintenance mode until \`sh {{renderedDir}}/aws/talos-join.sh <pool>\` applies the pool's config and lets each go once its Node is Ready (run it whenever the pool launches instances: scale-out, instance refresh, replacement; it names each instance it could not join and exits 1: run it again to retry those).

### Upgrading Talos

Change \`cluster.talosVersion\`, synth{{#if pools}}: every config's install image changes, and so does the AMI of the pools' launch templates (\`/odp/images/talos/<version>/…\`). Before the merge, register the new version's AMIs and lock them (the AWS layer's runbook, Images step: \`sh {{renderedDir}}/aws/images/<class>.sh\`, then \`npm run synth -- --env {{env}} --refresh-ssm\`): synth warns while one is missing, and the nodes stack cannot be updated without it. Commit and merge: the nodes stack update (Git sync at the merge, or \`deploy.sh nodes\`) starts each pool's instance refresh, whose replacements boot the new version in maintenance mode and wait under the launch hook \`talos-apply\` (abandoned after 2 hours). Then, right away{{else}}, commit; then{{/if}}, run the upgrade script: \`npm run -s talos -- commands --env {{env}} upgrade | sh\` (\`-s\`: npm's own banner must not reach the shell). It takes the fixed nodes one at a time, control planes first. Each, once the cluster has passed a gate: drained (\`kubectl drain\`, as PodDisruptionBudgets allow, at most \`ODP_DRAIN_TIMEOUT\`, 5m, which may not exceed 45m; Talos' own drain would reboot through a budget after 5 minutes on 1.12, and a node that cannot be drained stops the script, uncordoned and not upgraded), upgraded with the config it runs (\`talosctl upgrade\`, which waits until it is back: a Talos refuses a config with fields of a newer one, so the new config comes after), uncordoned and gated; then its new config, live when Talos can, else drained, staged and the node rebooted alone with \`talosctl reboot\`, which waits until it is back, then uncordoned and gated. talosctl reaches every node through any control plane (the talosconfig's endpoints are all of them); a node whose Talos API does not answer is named and skipped, and the next gate stops the script (a control plane down fails it). The gate: etcd has a leader on every control plane (\`talosctl etcd members\`) and \`talosctl health\` passes through a control plane (the first that answers; workers serve no health API; Talos 1.13's upgrade API does not check etcd quorum itself), expecting the control planes and the workers the Kubernetes API lists (not the discovery service's members, among which a terminated pool instance lingers for 30 minutes){{#if pools}}; the pools are never upgraded in place (the refresh terminates their old instances): it joins each pool's replacements (\`talos-join.sh\` once, then again whenever a poll finds replacements waiting) until every Node of the pool reports the new version, the refresh retiring (draining) an old instance as each replacement goes in service{{/if}}. The script stops at the first failure; a \`talosctl upgrade\` that fails is diagnosed: the script asks the node where it was left (running the new version, not answering, its upgrade sequence stopped part way, the image installed but not booted, or nothing installed), uncordons it unless it must stay cordoned, and prints the exact next step. One fixed node alone, with the same gates, drain and diagnosis (the script with \`--node\`; a pool is upgraded only through its refresh):

{{upgrade}}

### Upgrading Kubernetes

Change \`cluster.kubernetesVersion\` (within the Talos minor's supported range), synth, commit, then run \`upgrade-k8s\` once: it rolls the five images node by node and updates the bootstrap manifests, which applying the configs alone would not.{{#if pools}} Run it right after the merge: the pools' configs carry the new kubelet, and a kubelet must never be newer than the API server (Kubernetes' version skew policy), so \`talos-join.sh\` joins no new instance while the API server runs another minor than the configs (the instances wait under the launch hook; it names the step to run).{{/if}}

{{k8s}}

### etcd snapshot and restore

{{#if backup}}The \`etcd-backup\` add-on uploads encrypted snapshots to {{code backup}} on \`{{schedule}}\`; the bucket's lifecycle expires them after {{expireAfterDays}} days (\`cluster.datastore.backup.expireAfterDays\`). S3 encrypts them server-side with {{#if kms}}KMS key {{code kms}}{{else}}the environment's KMS key{{/if}}: talos-backup sends no encryption header of its own, so the bucket's default encryption, which the base stack sets, applies to every upload. The uploading role ({{uploader}}) has \`s3:PutObject\` on the prefix and \`kms:GenerateDataKey\` and \`kms:Decrypt\` on the key (snapshots over 10 MiB go up as multipart uploads, which need both).

{{/if}}An ad-hoc snapshot:

{{dr}}

**Restore** when etcd has lost quorum or all control planes are gone (Talos disaster-recovery guide): \`npm run -s talos -- commands --env {{env}} restore | ODP_CONFIRM_RESTORE={{env}} SNAPSHOT=<file> sh\`. It stops before anything is reset if a control plane not named in \`REPLACED\` does not answer (it names it), re-creates every control plane named in \`REPLACED\` (new instances in maintenance mode get their config) and resets every other one, waits until etcd is \`Preparing\` on all of them, bootstraps one of them from the snapshot (the first kept one in \`Preparing\`, else a replaced one: no particular control plane is needed; one node only, a second bootstrap would start a second etcd cluster) and waits for every member, restarts the kubelet of every worker (discovery's members other than the control planes, the pools' instances included: a kubelet registers its Node only when it starts, so a worker that joined after the snapshot would otherwise stay out of the cluster) and waits for the cluster's health. For a \`db\` copied out of a data directory (\`talosctl cp /var/lib/etcd/member/snap/db\`) add \`SNAPSHOT_FROM_DB_COPY=1\` (\`--recover-skip-hash-check\`). Snapshots of the etcd-backup add-on are age-encrypted: decrypt first (\`age -d -i age-key.txt <file> > db.snapshot\`).
`);

function fence(steps: CommandStep[]): string {
  return steps.map((s) => `\`\`\`sh\n# ${s.title}\n${s.lines.join('\n')}\n\`\`\``).join('\n\n');
}

export function talosSections(m: EnvironmentModel, ctx: ReadmeContext = readmeContext(m)): ReadmeSection[] {
  const release = talosRelease(talosCluster(m).minor);
  const t = talosCluster(m);
  const ds = m.cluster.datastore;
  const backup = ds.type === 'etcd' && ds.backup ? ds.backup : undefined;
  const backupRole = etcdBackupRoleArn(m);
  const gpuClass = talosCluster(m).nodeClasses.find((c) => c.gpu);
  const first = m.configTargets.find((x) => x.node && x.node.name === m.controlPlaneNodes[0]?.name);
  const cluster = clusterSteps(m, ctx.engine);
  const inputs = [['cluster'], ['aws'], ['nodePools']] as ReadmeSection['inputs'];
  return [
    {
      order: 20,
      title: 'Talos nodes',
      inputs,
      body: nodes({
        talos: talosCluster(m).version,
        k8s: m.cluster.kubernetesVersion,
        parameter: t.secretsBundle.parameter,
        workerTaints: m.pools.some((p) => p.role === 'worker' && p.taints.length > 0),
        rows: m.configTargets.map((x) => ({
          file: talosConfigPath(x.name),
          role: x.pool.role,
          pool: x.pool.name,
          cls: talosPool(x.pool).nodeClass.name,
          address: x.node ? x.node.ip : `${x.pool.count} × auto-scaled (user data)`,
          zone: (x.node?.subnet ?? x.pool.subnet)?.zone ?? '—',
        })),
      }),
    },
    {
      order: 21,
      title: 'Talos images',
      inputs,
      body: images({
        rows: talosCluster(m).nodeClasses.map((c) => {
          const img = classImages(m, c);
          return {
            name: c.name,
            file: schematicPath(c.name),
            short: img.id.slice(0, 12),
            extensions: img.schematic.customization.systemExtensions?.officialExtensions?.map((e) => `\`${e}\``).join(', ') ?? '—',
            installer: img.installer,
            disk: img.diskImage,
          };
        }),
        gpu: Boolean(gpuClass),
        modules: 'nvidia, nvidia_uvm, nvidia_drm, nvidia_modeset',
        sysctl: Object.entries(release.nvidiaSysctls).map(([k, v]) => `${k}=${v}`).join(', ') || false,
        tier: t.nvidiaDriver,
        driver: release.nvidia[t.nvidiaDriver],
        toolkit: release.nvidia.toolkit,
        devicePlugin: `${nvidiaDevicePlugin.chart!.name} ${nvidiaDevicePlugin.chart!.version}`,
      }),
    },
    {
      order: 22,
      title: 'Talos hardening',
      inputs,
      body: hardening({
        backupNs: ETCD_BACKUP_NAMESPACE,
        backup: Boolean(backup),
        cilium: m.cluster.network.cni === 'cilium',
        kubeNetworkPolicies: release.flannelNetworkPolicies,
        talosMinor: release.minor,
        prunes: release.manifestSyncPrunes,
        k8s: m.cluster.kubernetesVersion,
        irsa: m.aws.iam.mode === 'irsa',
        issuer: m.aws.iam.issuerURL ?? '',
        env: m.name,
        addon: ctx.engine.addon,
      }),
    },
    {
      order: 23,
      title: 'Talos runbook',
      inputs: [...inputs, ['addons', 'etcd-backup']],
      body: runbook({
        env: m.name,
        dir: workDir(m.name),
        setup: fence(setupSteps(m)),
        first: first ? fence(targetSteps(m, first).slice(0, 1)) : '',
        bootstrap: fence(cluster.filter((s) => s.phase === 'bootstrap')),
        upgrade: fence(m.configTargets.flatMap((x) => targetSteps(m, x).filter((s) => s.title.endsWith('upgrade Talos')))),
        k8s: fence(cluster.filter((s) => s.phase === 'upgrade-k8s')),
        dr: fence(cluster.filter((s) => s.phase === 'snapshot')),
        backup: backup ? `s3://${backup.bucket}/${backup.prefix}` : false,
        schedule: backup?.schedule ?? '',
        kms: backup?.kmsKeyId ?? false,
        expireAfterDays: talosCluster(m).snapshotExpireAfterDays ?? '',
        pools: m.pools.filter((p) => p.count !== undefined).map((p) => `sh ${m.renderedDir}/aws/talos-join.sh ${p.name}`),
        renderedDir: m.renderedDir,
        uploader: backupRole ? `the etcd-backup IRSA role \`${backupRole}\`` : 'the control-plane instance profile',
      }),
    },
  ];
}
