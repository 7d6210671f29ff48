/** Acknowledged warnings (generators/validate/acknowledge.ts), on an environment written next to the fixtures. */
import { describe, expect, it } from 'vitest';
import { SCHEMA_COMMENT } from '../generators/load/loader.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';

/** The fixture base has no etcd backup: a warning every environment extending it inherits. */
const ETCD = 'environments/_fixture.yaml:19:14  cluster.datastore: warning: etcd has no backup: snapshots to S3 are the only way back after losing the control plane  (add backup: { bucket: … })';

/** And node-exporter on the control planes' host network, whose role assumes the stores' roles (rule host-network-role). */
const HOST_NETWORK = "environments/_fixture.yaml:22:5  nodePools[0]: warning: namespace monitoring wears node role fixture-controlplane from the host network of pool cp (prometheus-node-exporter): no NetworkPolicy or IMDS hop limit applies to a host-network pod; that role may assume role fixture-external-secrets-monitoring, so it can read /odp/ack/grafana/admin-password, /odp/ack/grafana/admin-user  (give the stores a web identity (aws.iam.mode irsa), take the pod off the host network (addons.kube-prometheus-stack.values.prometheus-node-exporter.hostNetwork: false; node-exporter's network collectors then report the pod's interfaces, not the node's), keep it off the pool with a taint it does not tolerate (node-exporter tolerates NoSchedule taints only, not NoExecute ones; the pool's nodes then go unmonitored), or acknowledge the warning with the reason)";

const RELOADER = `addons:
  reloader:
    chart: { repoURL: https://stakater.github.io/stakater-charts, name: reloader, version: 2.2.7 }
    namespace: reloader
    clusterResources: [rbac.authorization.k8s.io/ClusterRole, rbac.authorization.k8s.io/ClusterRoleBinding]
    values: { reloader: { watchGlobally: true } }
`;

function prepare(body: string) {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set('environments/ack.yaml', `${SCHEMA_COMMENT}\nname: ack\nextends: _fixture\n${body}`);
  sources.set('environments/ack.ssm.lock.json', sources.get('environments/_fixture.ssm.lock.json')!);
  return prepareEnvironment('ack', sources);
}

describe('acknowledge', () => {
  it('without one, the unchecked values are a warning that names its rule and path', () => {
    const r = prepare(RELOADER);
    expect(r.diagnostics.map((d) => [d.severity, d.rule, d.file, d.line, d.col])).toStrictEqual([
      ['warning', 'etcd-backup', 'environments/_fixture.yaml', 19, 14],
      ['warning', 'addon-values-unchecked', 'environments/ack.yaml', 9, 5],
      ['warning', 'host-network-role', 'environments/_fixture.yaml', 22, 5],
    ]);
    expect(r.acknowledged).toBe(0);
  });

  it('an acknowledgement by rule id and document path silences exactly that warning', () => {
    const r = prepare(`${RELOADER}acknowledge:\n  - { rule: addon-values-unchecked, path: addons.reloader.values, reason: no key table for reloader 2.2.7 }\n`);
    expect(formatted(r)).toStrictEqual([ETCD, HOST_NETWORK]);
    expect(r.acknowledged).toBe(1);
    expect(r.prepared?.model.name).toBe('ack');
  });

  it('an acknowledgement of an error is refused: errors cannot be acknowledged', () => {
    const e = prepare(`addons:\n  cert-manager:\n    values: { replicaCont: 2 }\nacknowledge:\n  - { rule: addon-values, path: addons.cert-manager.values.replicaCont, reason: x }\n`);
    expect(e.prepared).toBeUndefined();
    expect(formatted(e)).toStrictEqual([
      ETCD,
      "environments/ack.yaml:6:15  addons.cert-manager.values.replicaCont: unknown key 'replicaCont': chart cert-manager v1.21.1 has no value replicaCont  (did you mean 'replicaCount'?)",
      'environments/ack.yaml:8:33  acknowledge[0].path: acknowledges no warning: there is no addon-values warning at addons.cert-manager.values.replicaCont  (an error cannot be acknowledged: fix it)',
    ]);
  });

  it('a stale acknowledgement is refused, naming the warnings there are', () => {
    const r = prepare('acknowledge:\n  - { rule: capacity, path: nodePools, reason: old }\n');
    expect(formatted(r)).toStrictEqual([
      ETCD,
      HOST_NETWORK,
      'environments/ack.yaml:5:29  acknowledge[0].path: acknowledges no warning: there is no capacity warning at nodePools  (warnings of this run: etcd-backup at cluster.datastore; host-network-role at nodePools[0])',
    ]);
  });
});
