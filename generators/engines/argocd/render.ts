/**
 * Argo CD renderer: per environment an AppProject, the root Application (app of apps), one
 * Application per AppSpec (add-ons and workloads), the add-ons' Helm values and extra manifests,
 * and the bootstrap script (a managed environment's: managed.ts).
 *
 * Values are delivered with multi-source Applications and a `$values` reference to this repository
 * (not inline valuesObject): the values file is a plain, reviewable file in the pull request diff,
 * and the very same file feeds `helm install -f` in the bootstrap, so Argo CD adopts exactly what
 * the bootstrap installed.
 */
import { argoCd } from './addons/argo-cd.js';
import type { InputPath } from '../../lib/paths.js';
import { toYaml } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import { deliveryPlan } from '../../plan/index.js';
import type { RenderedFile, Renderer } from '../../render/types.js';
import { renderBootstrap } from './bootstrap.js';
import { applicationFor, appProjects, destinationOf, PLATFORM_PROJECT, rootApplication, synthesize, type ArgoContext } from './objects.js';
import { clusterSecretParameters, fleetFile, hubFiles, registered } from './hub.js';
import { fleetAlertFiles } from './fleet-alerts.js';
import { syncAlertFiles } from './sync-alerts.js';
import { hubFileOf, renderDecommission } from './decommission.js';
import { HUB_ACCESS_PATH, HUB_REGISTER_PATH, hubAccessScope, renderManagedBootstrap } from './managed.js';
import { renderHubCheck } from './hub-check.js';
import { allAppSpecs } from './sources.js';
import type { AppSpec } from './spec.js';

const ARGO_INPUTS: InputPath[] = [['argocd'], ['git'], ['name']];

const uniquePaths = (ps: InputPath[]): InputPath[] => [...new Map(ps.map((p) => [JSON.stringify(p), p])).values()];

/** The namespace Argo CD runs in (where Applications and the AppProjects live): its add-on's. */
export const argoCdNamespace = (model: EnvironmentModel): string => model.addons.find((a) => a.name === argoCd.name)?.namespace ?? argoCd.namespace;

export const argoContext = (model: EnvironmentModel): ArgoContext => ({
  model,
  argoNamespace: model.fleet.hub?.namespace ?? argoCdNamespace(model),
  prefix: model.fleet.hub ? `${model.name}-` : '',
  destination: destinationOf(model),
});

/** File of an AppProject. */
export const appProjectPath = (name: string): string => `argocd/appproject-${name}.yaml`;

/** Argo CD objects for a list of AppSpecs (from every source). */
export function renderArgoCd(model: EnvironmentModel, specs: readonly AppSpec[]): RenderedFile[] {
  const ctx = argoContext(model);
  const apps = specs.map((s) => applicationFor(ctx, s));
  const projects = appProjects(ctx, specs);
  const out = synthesize(model.name, { apps, projects, root: model.fleet.hub ? [] : [rootApplication(ctx)] });
  const files: RenderedFile[] = (out.apps ?? []).map((o, i) => ({
    path: `apps/${specs[i]!.name}.yaml`,
    content: toYaml(o),
    inputs: specs[i]!.inputs ? uniquePaths([...specs[i]!.inputs!, ...ARGO_INPUTS]) : undefined,
  }));
  (out.projects ?? []).forEach((project, i) => {
    const name = projects[i]!.metadata!.name!.slice(ctx.prefix.length);
    // A project depends on its Applications' namespaces and chart repositories, not on the rest of them
    // (the platform project also on the Argo CD namespace, i.e. the argo-cd add-on).
    const members = specs.filter((s) => s.project === name);
    const inputs = members.every((s) => s.projectInputs ?? s.inputs)
      ? uniquePaths([...members.flatMap((s) => s.projectInputs ?? s.inputs!), ...(name === PLATFORM_PROJECT ? [['addons', 'argo-cd'] as InputPath] : []), ...ARGO_INPUTS, ['promotion', 'freeze']])
      : undefined;
    files.push({ path: appProjectPath(name), content: toYaml(project), inputs });
  });
  // A managed environment's root Application is created by the hub's ApplicationSet from fleet.yaml.
  if (model.fleet.hub) {
    const hub = model.fleet.hub;
    files.push(fleetFile(model));
    files.push(renderDecommission(ctx, specs, { hub: hub.name, hubFile: hubFileOf(hub.name), region: hub.region, parameters: Object.values(clusterSecretParameters(hub.name, model.name)), access: `${model.renderedDir}/${HUB_ACCESS_PATH}` }));
  }
  else files.push({ path: 'argocd/application-root.yaml', content: toYaml(out.root![0]), inputs: uniquePaths([...ARGO_INPUTS, ['addons', 'argo-cd']]) });
  files.push(...syncAlertFiles(ctx));
  if (registered(model).length > 0) files.push(...hubFiles(ctx), ...fleetAlertFiles(ctx));
  return files;
}

export const renderArgoCdTree: Renderer = (model) => {
  if (model.gitops !== 'argocd') return [];
  const plan = deliveryPlan(model);
  const specs = allAppSpecs(model);
  return [...renderArgoCd(model, specs), ...(model.fleet.hub ? [...renderManagedBootstrap(model, plan, hubAccessScope(argoContext(model), specs)), ...renderHubCheck(model, specs, HUB_REGISTER_PATH)] : renderBootstrap(model, plan))];
};
