/**
 * A hub-managed environment with workloads: its bootstrap (argocd/bootstrap/hub-access.yaml, applied once by its
 * script) creates each workload namespace before the namespace's own unit exists, since the hub's RoleBinding there
 * needs it. Both copies must say the same (Pod Security restricted), and validate must not count the script's copy as a
 * second Application owning the Namespace (engines/argocd/checks.ts policy.duplicate-objects). Before, every workload
 * namespace of a managed environment failed validate twice (no Pod Security label; "also rendered").
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkMotion } from '../generators/validate/motion/index.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, formatted } from './helpers.js';

const WORKLOAD = `
workloads:
  - name: jobs
    namespace: jobs
    image: ghcr.io/opendev/jobs:1.4.2
    replicas: 2
    ports:
      - { name: http, port: 8080 }
    resources:
      requests: { cpu: 100m, memory: 128Mi }
    readiness: { httpGet: /ready }
`;

describe('a hub-managed environment with workloads', () => {
  const { sources } = fixtureSources('valid', 'hub.yaml');
  sources.set('environments/fleet-a.yaml', sources.get('environments/fleet-a.yaml')! + WORKLOAD);
  const prepared = ['hub', 'fleet-a', 'fleet-b'].map((n) => {
    const r = prepareEnvironment(n, sources);
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    return r.prepared;
  });
  const files = new Map(prepared.flatMap((p) => renderEnvironment(p).map((f) => [`${p.name}/${f.path}`, f.content] as const)));
  const objects = (path: `${string}/${string}`) => parseYamlStream(files.get(path)!) as { kind: string; metadata: { name: string; labels?: Record<string, string> } }[];

  it("the bootstrap creates the workload namespace with its unit's labels", () => {
    const fromBootstrap = objects('fleet-a/argocd/bootstrap/hub-access.yaml').find((o) => o.kind === 'Namespace' && o.metadata.name === 'jobs');
    const fromUnit = objects('fleet-a/manifests/namespace-jobs/namespace-jobs.yaml').find((o) => o.kind === 'Namespace');
    expect(fromBootstrap?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(fromBootstrap?.metadata.labels).toStrictEqual(fromUnit?.metadata.labels);
  });

  it('the rendered fleet passes validate (file, tree and first-sync checks)', async () => {
    const tree = parseRenderedTree(files, new Map(prepared.map((p) => [p.name, p.model.cluster.kubernetesVersion])));
    const found = [...(await checkRenderedTree(tree)), ...checkMotion(tree, prepared.map((p) => p.model))];
    expect(found.filter((d) => d.severity === 'error').map(formatDiagnostic)).toStrictEqual([]);
  });
});
