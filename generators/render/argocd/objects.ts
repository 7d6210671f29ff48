/**
 * Argo CD objects as typed models (@kubernetes-models/argo-cd), synthesized through cdk8s: one
 * cdk8s App per environment, charts without name hashes, explicit names.
 */
import { Application, type IApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';
import { ApiObject, App, Chart } from 'cdk8s';
import type { EnvironmentModel } from '../../model/types.js';
import type { AppSpec } from './spec.js';

export const IN_CLUSTER = 'https://kubernetes.default.svc';
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';
export const ROOT_APP = 'root';
export const VALUES_REF = 'values';

/** Paths inside the repository for one environment. */
export const repoPaths = (m: EnvironmentModel) => ({
  apps: `${m.renderedDir}/apps`,
  argocd: `${m.renderedDir}/argocd`,
  values: (name: string) => `${m.renderedDir}/values/${name}.yaml`,
  manifests: (name: string) => `${m.renderedDir}/manifests/${name}`,
});

export interface ArgoContext {
  model: EnvironmentModel;
  /** Namespace Argo CD runs in. */
  argoNamespace: string;
  /** AppProject name. */
  project: string;
}

const RETRY = { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } };

function syncPolicy(ctx: ArgoContext, options: string[], namespaceLabels?: Record<string, string>): NonNullable<IApplication['spec']['syncPolicy']> {
  const a = ctx.model.argocd;
  return {
    ...(a.automated ? { automated: { prune: a.prune, selfHeal: a.selfHeal } } : {}),
    syncOptions: options,
    ...(namespaceLabels ? { managedNamespaceMetadata: { labels: namespaceLabels } } : {}),
    retry: RETRY,
  };
}

export function applicationFor(ctx: ArgoContext, spec: AppSpec): Application {
  const { model } = ctx;
  const paths = repoPaths(model);
  const git = { repoURL: model.git.repoURL, targetRevision: model.git.targetRevision };
  const sources: NonNullable<IApplication['spec']['sources']> = [];
  if (spec.chart) {
    sources.push({
      repoURL: spec.chart.repoURL,
      chart: spec.chart.name,
      targetRevision: spec.chart.version,
      helm: { releaseName: spec.name, valueFiles: [`$${VALUES_REF}/${paths.values(spec.name)}`] },
    });
    sources.push({ ...git, ref: VALUES_REF });
  }
  if (spec.manifests) sources.push({ ...git, path: paths.manifests(spec.name) });
  if (sources.length === 0) throw new Error(`Application '${spec.name}' has neither a chart nor manifests`);
  const options = [...(spec.createNamespace === false ? [] : ['CreateNamespace=true']), ...(spec.serverSideApply ? ['ServerSideApply=true'] : [])];
  return new Application({
    metadata: {
      name: spec.name,
      namespace: ctx.argoNamespace,
      annotations: { 'argocd.argoproj.io/sync-wave': String(spec.syncWave) },
      ...(spec.keepResourcesOnDelete ? {} : { finalizers: [RESOURCES_FINALIZER] }),
    },
    spec: {
      project: ctx.project,
      destination: { server: IN_CLUSTER, namespace: spec.namespace },
      sources,
      syncPolicy: syncPolicy(ctx, options, spec.namespaceLabels),
    },
  });
}

export function rootApplication(ctx: ArgoContext): Application {
  const { model } = ctx;
  const paths = repoPaths(model);
  const git = { repoURL: model.git.repoURL, targetRevision: model.git.targetRevision };
  return new Application({
    metadata: { name: ROOT_APP, namespace: ctx.argoNamespace, finalizers: [RESOURCES_FINALIZER] },
    spec: {
      project: ctx.project,
      destination: { server: IN_CLUSTER, namespace: ctx.argoNamespace },
      // The Applications, plus this directory (AppProject and this Application) so both stay managed.
      sources: [
        { ...git, path: paths.apps },
        { ...git, path: paths.argocd },
      ],
      syncPolicy: syncPolicy(ctx, []),
    },
  });
}

const groupKind = (gk: string): { group: string; kind: string } => {
  const i = gk.lastIndexOf('/');
  return { group: gk.slice(0, i), kind: gk.slice(i + 1) };
};

export function appProject(ctx: ArgoContext, specs: readonly AppSpec[]): AppProject {
  const { model } = ctx;
  const repos = new Set<string>(specs.flatMap((s) => (s.chart ? [s.chart.repoURL] : [])));
  const namespaces = new Set<string>([ctx.argoNamespace, ...specs.flatMap((s) => [s.namespace, ...(s.extraNamespaces ?? [])])]);
  const kinds = new Set<string>(['/Namespace', ...specs.flatMap((s) => s.clusterResources)]);
  return new AppProject({
    metadata: { name: ctx.project, namespace: ctx.argoNamespace },
    spec: {
      sourceRepos: [model.git.repoURL, ...[...repos].filter((r) => r !== model.git.repoURL).sort()],
      destinations: [...namespaces].sort().map((namespace) => ({ server: IN_CLUSTER, namespace })),
      clusterResourceWhitelist: [...kinds].sort().map(groupKind),
    },
  });
}

/** Synthesize typed objects through one cdk8s App: returns plain manifests in insertion order. */
export function synthesize(envName: string, groups: Record<string, { toJSON(): unknown }[]>): Record<string, Record<string, unknown>[]> {
  const app = new App();
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [group, objects] of Object.entries(groups)) {
    const chart = new Chart(app, `${envName}-${group}`, { disableResourceNameHashes: true });
    for (const o of objects) {
      const json = o.toJSON() as { apiVersion: string; kind: string; metadata: { name: string } };
      new ApiObject(chart, `${json.kind}-${json.metadata.name}`, json);
    }
    out[group] = chart.toJson() as Record<string, unknown>[];
  }
  return out;
}
