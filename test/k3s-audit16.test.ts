/**
 * audit16: the valid fixture k3s-audit16 (K3s under Argo CD, three servers on Kine + PostgreSQL, an x86 pool, a
 * Graviton pool, a tainted NVIDIA pool, an internet-facing ingress, a workload Secret from SSM through External Secrets,
 * kube-prometheus-stack values), written from the README and docs/ as a newcomer would, and the mistakes such a newcomer
 * makes in it, one at a time: each is refused at its file:line:col before anything is written (prepareEnvironment
 * returns no prepared environment), with the value, what was expected and a hint, and with no other error beside it.
 */
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { expectFixturePrepares, expectMistakeRefused } from './support/mistakes.js';

const FILE = 'environments/k3s-audit16.yaml';

describe('k3s-audit16: a newcomer\'s mistakes, one at a time, are refused at their line before anything is written', () => {
  it('the environment as written validates (warnings only) and prepares', () => expectFixturePrepares('k3s-audit16.yaml'));

  it('the device plugin switched off beside a GPU pool is a warning at its line (no workload asks for GPUs yet)', () => {
    // Not an error: another chart may provide the plugin (the GPU Operator as a third-party chart), then acknowledged.
    const { name, sources } = fixtureSources('valid', 'k3s-audit16.yaml');
    const text = sources.get(`environments/${name}.yaml`)!;
    sources.set(`environments/${name}.yaml`, text.replace('addons:\n', 'addons:\n  nvidia-device-plugin: { enabled: false }\n'));
    const lines = formatted(prepareEnvironment(name, sources));
    expect(lines.filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
    expect(lines).toContain(
      `${FILE}:71:36  addons.nvidia-device-plugin.enabled: warning: nvidia-device-plugin is disabled, but GPU pool gpu has no other way to advertise nvidia.com/gpu: no pod can request its GPUs  (remove enabled: false; or, if another chart provides the device plugin (the GPU Operator as a third-party chart), acknowledge this warning with that reason)`,
    );
    // Acknowledged with its reason, it is gone.
    sources.set(`environments/${name}.yaml`, `${sources.get(`environments/${name}.yaml`)!}acknowledge:\n  - { rule: addon-dependencies, path: addons.nvidia-device-plugin.enabled, reason: the GPU Operator provides the device plugin }\n`);
    const acknowledged = formatted(prepareEnvironment(name, sources));
    expect(acknowledged.filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
    expect(acknowledged.filter((l) => l.includes('nvidia-device-plugin is disabled'))).toStrictEqual([]);
  });

  it.each([
    ['a typo in a key', '    instanceType: m7g.xlarge', '    instanceTyp: m7g.xlarge', [
      `${FILE}:53:5  nodePools[2]: missing required key 'instanceType'  (add instanceType: here`,
      `${FILE}:56:5  nodePools[2].instanceTyp: unknown key 'instanceTyp'; expected one of: name, role, arch, instanceType,`,
    ]],
    ['an x86 instance type on the Graviton pool', '    instanceType: m7g.xlarge', '    instanceType: m7i.xlarge', [
      `${FILE}:55:11  nodePools[2].arch: arm64 does not match instance type m7i.xlarge, which is amd64  (m7i.xlarge is an x86_64 type; set arch: amd64, or use a Graviton type such as m7g.xlarge)`,
    ]],
    ['the GPU pool on a type without a GPU', 'instanceType: g6.xlarge', 'instanceType: m7i.xlarge', [
      `${FILE}:63:19  nodePools[3].instanceType: GPU pool 'gpu' uses m7i.xlarge, which has no NVIDIA GPU  (NVIDIA GPU families:`,
    ]],
    ['a password pasted into a workload variable', 'DB_PASSWORD: { secret: /odp/k3s-audit16/catalog/db-password }', 'DB_PASSWORD: Sup3rS3cretPassw0rd!', [
      `${FILE}:87:20  workloads[0].env.DB_PASSWORD: env DB_PASSWORD looks like a secret written in plain: env values are rendered into the Deployment, in git  (store it as an SSM SecureString`,
    ]],
    ['the Kine password pasted inline', 'password: { secret: /odp/k3s-audit16/kine/password }', 'password: Sup3rS3cretPassw0rd!', [
      `${FILE}:32:17  cluster.datastore.postgres.password: expected a secret reference { secret: /ssm/parameter }, got a plain value`,
    ]],
    ['the service CIDR overlapping the pod CIDR', 'serviceCIDR: 10.43.0.0/16', 'serviceCIDR: 10.42.128.0/17', [
      `${FILE}:36:50  cluster.network.serviceCIDR: service CIDR 10.42.128.0/17 overlaps pod CIDR 10.42.0.0/16  (Service and Pod addresses must be disjoint ranges`,
    ]],
    // One error, naming the release: not also "ships Kubernetes 1.35.99", which sent the user to a Kubernetes no K3s ships.
    ['a K3s release that does not exist', 'k3sVersion: v1.35.9+k3s1', 'k3sVersion: v1.35.99+k3s1', [
      `${FILE}:23:15  cluster.k3sVersion: K3s v1.35.99+k3s1 is not a release this generator lists (the newest listed v1.35 release is v1.35.9+k3s1)  (did you mean v1.35.9+k3s1?`,
    ]],
    ['a K3s line the generator does not support', 'k3sVersion: v1.35.9+k3s1', 'k3sVersion: v1.28.3+k3s1', [
      `${FILE}:23:15  cluster.k3sVersion: K3s 1.28 is not supported by this generator  (its K3s flag tables cover v1.34.x, v1.35.x, v1.36.x)`,
    ]],
    ['kubernetesVersion moved without the K3s release', 'kubernetesVersion: 1.35.9', 'kubernetesVersion: 1.36.1', [
      `${FILE}:23:15  cluster.k3sVersion: K3s v1.35.9+k3s1 ships Kubernetes 1.35.9, not kubernetesVersion 1.36.1  (a K3s release pins its Kubernetes version; set kubernetesVersion: 1.35.9, or choose the K3s release of the Kubernetes you want)`,
    ]],
    ['two servers with one name', '{ name: a16-server-2, ip', '{ name: a16-server-1, ip', [
      `${FILE}:44:17  nodePools[0].nodes[1].name: node 'a16-server-1' is declared twice  (nodePools[0].nodes[0] has this name already: rename one`,
    ]],
    ['an SSM parameter ARN where its name belongs', '{ secret: /odp/k3s-audit16/catalog/db-password }', '{ secret: arn:aws:ssm:eu-west-1:111111111111:parameter/odp/k3s-audit16/catalog/db-password }', [
      `${FILE}:87:30  workloads[0].env.DB_PASSWORD.secret: 'arn:aws:ssm:eu-west-1:111111111111:parameter/odp/k3s-audit16/catalog/db-password' is not of the form ^/[A-Za-z0-9_./-]+$  (':' cannot appear in it`,
    ]],
    ['minReplicas above maxReplicas', 'minReplicas: 2, maxReplicas: 6', 'minReplicas: 8, maxReplicas: 6', [
      `${FILE}:91:33  workloads[0].autoscaling.minReplicas: minReplicas 8 is above maxReplicas 6  (Kubernetes refuses an HPA whose minReplicas exceeds maxReplicas)`,
    ]],
    ['two ports of the workload on one number', '{ name: metrics, port: 9090 }', '{ name: metrics, port: 8080 }', [
      `${FILE}:83:32  workloads[0].ports[1].port: port 8080/TCP is declared twice (as 'http' and 'metrics')  (Kubernetes refuses a Service with two ports of one number and protocol`,
    ]],
  ])('%s', (_what, from, to, expected) => expectMistakeRefused('k3s-audit16.yaml', from, to, expected));
});
