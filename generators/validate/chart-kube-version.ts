/**
 * A Kubernetes version outside an enabled chart's `kubeVersion` (catalog/kube-version.ts): Helm, and
 * with it the GitOps engine, refuses to render that chart, so the add-on never syncs. Needs the model
 * (which add-ons are on, at which chart version).
 */
import { kubeVersionProblems } from '../catalog/kube-version.js';
import type { Diagnostic } from './diagnostics.js';
import type { EnvironmentModel } from '../model/types.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';

export function kubeVersionDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (rule: string, message: string, hint: string): void => {
    const path = ['cluster', 'kubernetesVersion'];
    const pos = locate(env, path);
    out.push({ severity: 'error', rule, file: pos.file, line: pos.line, col: pos.col, path, message, hint });
  };
  for (const p of kubeVersionProblems(m))
    report('addon-kube-version', `Kubernetes ${m.cluster.kubernetesVersion} is outside the kubeVersion of chart ${p.chart} ${p.version} (add-on ${p.addon}): '${p.constraint}' (${p.source}); Helm refuses to render it`, `choose a Kubernetes version the chart admits, or a chart version that admits ${m.cluster.kubernetesVersion}`);
  return out;
}
