/**
 * audit15: the valid fixture rke2-audit15 (RKE2 under Flux, three servers on Kine + PostgreSQL, a Graviton pool, a
 * tainted NVIDIA pool, an internet-facing ingress, Secrets from SSM through External Secrets, kube-prometheus-stack
 * values, the second promotion stage after rke2-audit15-dev), written from the README and docs/ as a newcomer would,
 * and the mistakes such a newcomer makes in it, one at a time: each is refused at its file:line:col, before anything
 * is written (prepareEnvironment returns no prepared environment), with the value, what was expected and a hint.
 */
import { describe, it } from 'vitest';
import { expectFixturePrepares, expectMistakeRefused } from './support/mistakes.js';

const FILE = 'environments/rke2-audit15.yaml';

describe('rke2-audit15: a newcomer\'s mistakes, one at a time, are refused at their line before anything is written', () => {
  it('the environment as written validates (warnings only) and prepares', () => expectFixturePrepares('rke2-audit15.yaml'));

  it.each([
    ['a typo in a key', '    instanceType: m7g.xlarge', '    instanceTyp: m7g.xlarge', [
      `${FILE}:56:5  nodePools[2]: missing required key 'instanceType'  (add instanceType: here`,
      `${FILE}:59:5  nodePools[2].instanceTyp: unknown key 'instanceTyp'; expected one of: name, role, arch, instanceType,`,
    ]],
    ['an x86 instance type on the Graviton pool', '    instanceType: m7g.xlarge', '    instanceType: m7i.xlarge', [
      `${FILE}:58:11  nodePools[2].arch: arm64 does not match instance type m7i.xlarge, which is amd64  (m7i.xlarge is an x86_64 type; set arch: amd64, or use a Graviton type such as m7g.xlarge)`,
    ]],
    ['the device plugin switched off beside a GPU pool and a GPU workload', 'addons:\n', 'addons:\n  nvidia-device-plugin: { enabled: false }\n', [
      `${FILE}:74:36  addons.nvidia-device-plugin.enabled: nvidia-device-plugin cannot be disabled: workload infer (placement.gpu: its pods request nvidia.com/gpu, which only the device plugin advertises on the GPU nodes; without it they stay Pending) needs it  (remove enabled: false`,
    ]],
    ['a secret pasted into a workload variable', 'API_KEY: { secret: /odp/rke2-audit15/shop/api-key }', 'API_KEY: sk_live_51H8xQ2eZvKYlo2C0123456789abcdef', [
      `${FILE}:87:16  workloads[0].env.API_KEY: env API_KEY looks like a secret written in plain: env values are rendered into the Deployment, in git  (store it as an SSM SecureString`,
    ]],
    ['a password pasted into an add-on\'s Helm values', '          retention: 7d\n', '          retention: 7d\n      grafana:\n        adminPassword: hunter2hunter2\n', [
      `${FILE}:80:24  addons.kube-prometheus-stack.values.grafana.adminPassword: a secret written in plain in Helm values (a plain value under the key 'adminPassword') would be committed: values are written to rendered/rke2-audit15/values/kube-prometheus-stack.yaml, in git  (deliver it as a Secret`,
    ]],
    ['the pod CIDR overlapping the VPC', 'podCIDR: 10.42.0.0/16', 'podCIDR: 10.30.0.0/16', [
      `${FILE}:39:23  cluster.network.podCIDR: pod CIDR 10.30.0.0/16 overlaps VPC CIDR 10.30.0.0/16  (pod addresses must not collide with node addresses)`,
    ]],
    ['an RKE2 release the generator does not support', 'rke2Version: v1.35.7+rke2r1', 'rke2Version: v1.29.3+rke2r1', [
      `${FILE}:29:16  cluster.rke2Version: RKE2 1.29 is not supported by this generator  (supported: v1.34.x, v1.35.x, v1.36.x)`,
    ]],
    ['two servers on one address', '{ name: a15-server-2, ip: 10.30.2.10, subnet: private-b }', '{ name: a15-server-2, ip: 10.30.1.10, subnet: private-a }', [
      `${FILE}:47:35  nodePools[0].nodes[1].ip: IP 10.30.1.10 is used by two nodes  (nodePools[0].nodes[0] (a15-server-1) has this address already: give each node its own)`,
    ]],
    ['an SSM parameter name without its leading slash', '{ secret: /odp/rke2-audit15/ml/hf-token }', '{ secret: odp/rke2-audit15/ml/hf-token }', [
      `${FILE}:104:27  workloads[1].env.HF_TOKEN.secret: 'odp/rke2-audit15/ml/hf-token' is not of the form ^/[A-Za-z0-9_./-]+$  (it starts with /: secret: /odp/rke2-audit15/ml/hf-token)`,
    ]],
    ['minReplicas above maxReplicas', 'minReplicas: 2, maxReplicas: 6', 'minReplicas: 8, maxReplicas: 6', [
      `${FILE}:91:33  workloads[0].autoscaling.minReplicas: minReplicas 8 is above maxReplicas 6  (Kubernetes refuses an HPA whose minReplicas exceeds maxReplicas)`,
    ]],
    ['a second workload on the first one\'s ingress host', '      - { name: http, port: 9000 }\n', '      - { name: http, port: 9000 }\n    ingress: { host: shop.rke2-audit15.example.com, scheme: internet-facing }\n', [
      `${FILE}:103:22  workloads[1].ingress.host: host shop.rke2-audit15.example.com path / is routed to workload 'web' already  (both Ingresses are in ALB group odp-rke2-audit15-public:`,
    ]],
    ['a promotion source that does not exist', 'from: rke2-audit15-dev', 'from: rke2-audit15-dve', [
      `${FILE}:10:9  promotion.from: no environment rke2-audit15-dve  (one of rke2-audit15-dev)`,
    ]],
  ])('%s', (_what, from, to, expected) => expectMistakeRefused('rke2-audit15.yaml', from, to, expected));
});
