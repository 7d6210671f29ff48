/**
 * Argo CD's own catalog add-on (data): the chart that installs it, then manages itself.
 */
import { CRD, RBAC, type CatalogEntry } from '../../../catalog/types.js';

/**
 * Argo CD health of an Application (removed from Argo CD's defaults in 1.8): without it the root
 * Application does not wait for one wave's Applications to be healthy before the next wave.
 */
const APPLICATION_HEALTH_LUA = [
  'hs = {}',
  'hs.status = "Progressing"',
  'hs.message = ""',
  'if obj.status ~= nil then',
  '  if obj.status.health ~= nil then',
  '    hs.status = obj.status.health.status',
  '    if obj.status.health.message ~= nil then',
  '      hs.message = obj.status.health.message',
  '    end',
  '  end',
  'end',
  'return hs',
  '',
].join('\n');

export const argoCd: CatalogEntry = {
  name: 'argo-cd',
  description: 'Argo CD, managing itself after the bootstrap (same chart, same values file)',
  chart: { repoURL: 'https://argoproj.github.io/argo-helm', name: 'argo-cd', version: '10.1.1' },
  namespace: 'argocd',
  syncWave: -2,
  enabledByDefault: (m) => m.gitops === 'argocd' && !m.fleet.hub,
  condition: 'with gitops: argocd (the default), unless a hub manages the environment',
  podSecurity: 'baseline',
  bootstrapOrder: 30,
  serverSideApply: true, // the ApplicationSet CRD (~1.4 MB) exceeds the client-side annotation limit
  // orphan: the GitOps engine: deleting its Application must not delete Argo CD (and with it every Application's controller).
  onDelete: 'orphan',
  clusterResources: [CRD, ...RBAC],
  determinism: [
  {
    chart: 'argo-cd',
    version: '10.1.1',
    template: 'templates/argocd-configs/argocd-secret.yaml (admin.passwordMtime)',
    functions: ['now'],
    path: ['configs', 'secret', 'argocdServerAdminPassword'],
    allowed: [undefined, ''],
    unless: [{ path: ['configs', 'secret', 'argocdServerAdminPasswordMtime'], notIn: [undefined, ''] }],
    fix: 'no configs.secret.argocdServerAdminPassword (chart default; Argo CD generates the initial admin password itself)',
  },
  ],
  // The chart passes these maps into argocd-cm, argocd-cmd-params-cm and argocd-rbac-cm verbatim: any key.
  openValuePaths: [['configs', 'cm'], ['configs', 'params'], ['configs', 'rbac']],
  values: () => ({
    crds: { install: true, keep: true },
    dex: { enabled: false },
    configs: {
      cm: {
        'resource.customizations.health.argoproj.io_Application': APPLICATION_HEALTH_LUA,
      },
    },
  }),
};
