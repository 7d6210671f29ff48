/**
 * A Kubernetes version outside an enabled chart's `kubeVersion` (catalog/kube-version.ts): Helm, and
 * with it the GitOps engine, refuses to render that chart, so the add-on never syncs. A chart version
 * whose constraint the catalog does not record (an environment's pin, usually) is a warning: the
 * check cannot be made, and is not guessed. Needs the model (which add-ons are on, at which version).
 */
import { knownVersionsText, kubeVersionProblems, unknownKubeVersionHint } from '../catalog/kube-version.js';
import type { Diagnostic } from './diagnostics.js';
import type { EnvironmentModel } from '../model/types.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';

export function kubeVersionDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (rule: string, severity: 'error' | 'warning', path: string[], message: string, hint: string): void => {
    const pos = locate(env, path);
    out.push({ severity, rule, file: pos.file, line: pos.line, col: pos.col, path, message, hint });
  };
  for (const p of kubeVersionProblems(m)) {
    // An environment's pin is where the version comes from; the catalog's pin meets the Kubernetes version.
    const at = p.pinnedByEnvironment ? ['addons', p.addon, 'chart', 'version'] : ['cluster', 'kubernetesVersion'];
    if (p.kind === 'unknown')
      report('addon-kube-version', 'warning', at, `the kubeVersion of chart ${p.chart} ${p.version} (add-on ${p.addon}) is not known: the catalog records it for ${knownVersionsText(p.known ?? [])} only, so whether Helm renders it for Kubernetes ${m.cluster.kubernetesVersion} is not checked`, unknownKubeVersionHint(p));
    else
      report('addon-kube-version', 'error', ['cluster', 'kubernetesVersion'], `Kubernetes ${m.cluster.kubernetesVersion} is outside the kubeVersion of chart ${p.chart} ${p.version} (add-on ${p.addon}): '${p.constraint}' (${p.source}); Helm refuses to render it`, `choose a Kubernetes version the chart admits, or a chart version that admits ${m.cluster.kubernetesVersion}`);
  }
  return out;
}
