/** GPU pools end to end, on environments written inline next to the fixtures (not environments/). */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { prepareInline, renderInline } from './support/inline-env.js';

const CP = `  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [{ name: cp-1, ip: 10.10.1.10 }]
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 2 }
`;
const gpuPool = (count: number, type = 'g5.xlarge'): string => `  - name: gpu
    role: worker
    arch: amd64
    instanceType: ${type}
    subnet: private-a
    count: ${count}
    gpu: { vendor: nvidia }
    taints: [{ key: nvidia.com/gpu, value: present, effect: NoSchedule }]
`;

const prepare = prepareInline;
const render = (name: string, body: string): Map<string, string> => new Map(renderInline(name, body).files.map((f) => [f.path, f.content]));

const doc = (files: Map<string, string>, path: string): any => parseYamlStream(files.get(path)!)[0];
const inference = (replicas: number) => `workloads:
  - name: inference
    image: ghcr.io/opendev/inference:0.9.1
    replicas: ${replicas}
    resources: { requests: { cpu: "2", memory: 8Gi } }
    placement: { gpu: 1 }
`;

describe('GPU pools', () => {
  it('a Talos GPU pool without labels carries nvidia.com/gpu.present and the rendered tree passes the device-plugin check', async () => {
    const files = render('gpu-talos', `nodePools:\n${CP}${gpuPool(1)}`);
    expect(doc(files, 'talos/gpu.yaml').machine.nodeLabels).toStrictEqual({ 'node.opendev.dev/pool': 'gpu', 'topology.kubernetes.io/region': 'eu-west-1', 'topology.kubernetes.io/zone': 'eu-west-1a', 'nvidia.com/gpu.present': 'true' });
    expect(doc(files, 'talos/workers.yaml').machine.nodeLabels).not.toHaveProperty(['nvidia.com/gpu.present']);
    // Talos 1.13 (the fixture's): the README names what is rendered, the device plugin, not the GPU Operator.
    expect(files.get('README.md')).toContain('Kubernetes side: the `nvidia-device-plugin` add-on (chart `nvidia-device-plugin 0.20.0`, not the GPU Operator');
    expect(files.get('README.md')).not.toContain('the NVIDIA GPU Operator with');
    const tree = parseRenderedTree(new Map([...files].map(([p, c]) => [`gpu-talos/${p}`, c])));
    expect((await checkRenderedTree(tree)).filter((d) => d.rule === 'policy.gpu-device-plugin')).toStrictEqual([]);
  });

  it('a K3s GPU pool without labels carries nvidia.com/gpu.present', () => {
    const files = render(
      'gpu-k3s',
      `cluster:
  distribution: k3s
  talosVersion: null
  k3sVersion: v1.35.2+k3s1
  datastore: { type: kine-sqlite, litestream: { bucket: odp-litestream } }
nodePools:
${CP}${gpuPool(1)}`,
    );
    expect(doc(files, 'k3s/gpu.yaml')['node-label']).toStrictEqual(['nvidia.com/gpu.present=true']);
    expect(doc(files, 'k3s/workers.yaml')['node-label']).toBeUndefined();
  });

  it('a GPU Deployment with as many replicas as GPUs rolls without surge', () => {
    const d = doc(render('gpu-full', `nodePools:\n${CP}${gpuPool(2)}${inference(2)}`), 'manifests/inference/deployment-inference.yaml');
    expect(d.spec.strategy).toStrictEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  it('a GPU Deployment keeps the default surge when its pools have room for it', () => {
    const d = doc(render('gpu-room', `nodePools:\n${CP}${gpuPool(3)}${inference(2)}`), 'manifests/inference/deployment-inference.yaml');
    expect(d.spec.strategy).toStrictEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  });

  it('workloads sharing a GPU pool count together: room for one surge alone is no room when another workload takes it', () => {
    const training = `  - name: training
    image: ghcr.io/opendev/inference:0.9.1
    replicas: 1
    resources: { requests: { cpu: "2", memory: 8Gi } }
    placement: { gpu: 1 }
`;
    // 3 GPUs: inference (2) alone would have room for its surge (1); with training (1) beside it, none is left.
    const files = render('gpu-shared', `nodePools:\n${CP}${gpuPool(3)}${inference(2)}${training}`);
    for (const w of ['inference', 'training']) expect(doc(files, `manifests/${w}/deployment-${w}.yaml`).spec.strategy.rollingUpdate, w).toStrictEqual({ maxSurge: 0, maxUnavailable: 1 });
    // 5 GPUs: 3 taken, both surges (1 + 1) fit.
    const roomy = render('gpu-shared-room', `nodePools:\n${CP}${gpuPool(5)}${inference(2)}${training}`);
    expect(doc(roomy, 'manifests/inference/deployment-inference.yaml').spec.strategy.rollingUpdate).toStrictEqual({ maxSurge: '25%', maxUnavailable: '25%' });
  });

  it('GPU count per node comes from the instance table', () => {
    const r = prepare('gpu-count', `nodePools:\n${CP}${gpuPool(1, 'g5.12xlarge')}${inference(4)}`);
    expect(r.prepared?.model.pools.find((p) => p.name === 'gpu')?.gpu).toStrictEqual({ vendor: 'nvidia', perNode: 4 });
    expect(doc(render('gpu-count', `nodePools:\n${CP}${gpuPool(1, 'g5.12xlarge')}${inference(4)}`), 'manifests/inference/deployment-inference.yaml').spec.strategy.rollingUpdate).toStrictEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});

describe('capacity warning', () => {
  const warnings = (name: string, body: string) => prepare(name, body).diagnostics.filter((d) => d.rule === 'capacity').map(formatDiagnostic);

  it('counts only pools a workload can land on, less the DaemonSet pods of each node', () => {
    // workers: 2 × (110 − 4 DaemonSet pods) = 212; the tainted GPU pool (3 × 110) does not count.
    expect(warnings('cap', `cluster: { plannedPods: 250 }\nnodePools:\n${CP}${gpuPool(3)}`)).toStrictEqual([
      'environments/cap.yaml:6:3  nodePools: warning: capacity for workloads is 212 pods (Σ nodes × (maxPods − DaemonSet pods per node) over workers; tainted pools gpu left out), below the 250 planned pods  (add worker nodes, raise maxPods, or set cluster.plannedPods)',
    ]);
    expect(warnings('cap-ok', `cluster: { plannedPods: 212 }\nnodePools:\n${CP}${gpuPool(3)}`)).toStrictEqual([]);
  });

  it('names a pool without nodes as such, not as tainted', () => {
    // idle: count 0 (scaled to zero), no taints: it holds no pod, and is not a tainted pool.
    expect(warnings('cap-idle', `cluster: { plannedPods: 250 }\nnodePools:\n${CP}${gpuPool(3)}  - { name: idle, role: worker, arch: arm64, instanceType: m7g.large, subnet: private-a, count: 0 }\n`)).toStrictEqual([
      'environments/cap-idle.yaml:6:3  nodePools: warning: capacity for workloads is 212 pods (Σ nodes × (maxPods − DaemonSet pods per node) over workers; tainted pools gpu and pools without nodes idle left out), below the 250 planned pods  (add worker nodes, raise maxPods, or set cluster.plannedPods)',
    ]);
  });

  it('warns when a placed workload has more pods than its pools hold', () => {
    expect(warnings('cap-gpu', `nodePools:\n${CP}  - { name: small, role: worker, arch: arm64, instanceType: m7g.large, subnet: private-a, count: 1, maxPods: 10 }\nworkloads:\n  - { name: api, image: ghcr.io/opendev/api:1.0.0, replicas: 8, resources: { requests: { cpu: 100m, memory: 128Mi } }, placement: { arch: arm64 } }\n`)).toStrictEqual([
      "environments/cap-gpu.yaml:14:131  workloads[0].placement: warning: workload 'api' runs up to 8 pods, but the pools it may land on (small) hold 6  (add nodes to those pools or widen the placement)",
    ]);
  });
});
