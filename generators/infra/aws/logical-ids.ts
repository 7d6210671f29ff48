/**
 * Every CloudFormation logical id the stacks (stacks.ts) derive from a name the environment chooses, with the
 * place in the environment file that chooses it. logicalId() keeps letters and digits only and capitalises each
 * part, so distinct names can give one id (`a-1b` and `a1b` → `A1b`; IAM's `team.a` and `teamA` → `TeamA`), and a
 * second resource under that id would replace the first: rule `aws.logical-id` (rules.ts) refuses such pairs
 * before anything is written, and the template builder (template.ts `put`) throws on any other id taken twice.
 *
 * Kinds (each a prefix/suffix the others cannot produce, so only two names of one kind can clash, except a node's
 * AMI parameter `Node<X>Image` and its output `Node<X>InstanceId`, which share the template's one namespace of
 * logical ids with a node `Node<Y>`):
 * pools (`Pool<X>Group`, `Pool<X>LaunchTemplate`), fixed nodes (`Node<X>`; `Node<X>R<n>` once replaced) and their
 * AMI parameters, buckets (`Bucket<X>`), secret-store roles (`Store<X>Role`, X from the store's namespace), IRSA roles
 * (`Irsa<X>Role`, X the role name of an ARN the environment gives, or of a store's derived role). Their managed
 * policies (`<role id><grant>Policy`), the other outputs (`<id>Arn`, `<id>Name`) and launch templates follow their
 * resource's id with a suffix no other kind ends with, so checking the resource ids checks them too.
 */
import type { DocPath } from '../../lib/paths.js';
import { resolveAddons } from '../../catalog/resolve.js';
import { storeNamespace } from '../../catalog/secret-stores.js';
import { CHART_ADDON_IAM_ROLE } from '../../catalog/irsa.js';
import type { EnvironmentModel } from '../../model/types.js';
import { storeAuths, nodeImageParameterName, type AwsPlan } from './plan.js';
import { bucketLogicalId, groupLogicalId, irsaRoleLogicalId, nodeInstanceOutputId, nodeLogicalId, storeRoleLogicalId } from './stacks.js';

export interface NamedLogicalId {
  id: string;
  /** The name it is derived from, as the environment gives it (a namespace, a role ARN, a node's name …). */
  name: string;
  /** What the id names, for the message: `node`, `secret store role of namespace`, … */
  what: string;
  /** Where the environment file chooses the name (locate() walks up to the nearest written key). */
  path: DocPath;
}

const record = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

export function namedLogicalIds(m: EnvironmentModel, p: AwsPlan, data: Record<string, unknown>): NamedLogicalId[] {
  const out: NamedLogicalId[] = [];
  m.pools.forEach((pool, i) => {
    out.push({ id: groupLogicalId(pool), name: pool.name, what: 'pool', path: ['nodePools', i, 'name'] });
    pool.nodes.forEach((n, j) => {
      out.push({ id: nodeLogicalId(n), name: n.name, what: 'node', path: ['nodePools', i, 'nodes', j, 'name'] });
      out.push({ id: nodeImageParameterName(n), name: n.name, what: 'AMI parameter of node', path: ['nodePools', i, 'nodes', j, 'name'] });
      out.push({ id: nodeInstanceOutputId(n), name: n.name, what: 'instance-id output of node', path: ['nodePools', i, 'nodes', j, 'name'] });
    });
  });
  const d = m.cluster.datastore;
  for (const b of p.buckets)
    out.push({ id: bucketLogicalId(b.name), name: b.name, what: 'bucket', path: ['cluster', 'datastore', d.type === 'kine-sqlite' ? 'litestream' : 'backup', 'bucket'] });

  // A namespace is chosen by the first workload in it (its `namespace`, else its name), else by the add-on it is.
  const workloads = Array.isArray(data.workloads) ? data.workloads : [];
  const namespacePath = (ns: string): DocPath => {
    const i = m.workloads.findIndex((w) => w.namespace === ns);
    if (i >= 0) return ['workloads', i, record(workloads[i])?.namespace !== undefined ? 'namespace' : 'name'];
    const a = resolveAddons(m).find((x) => x.namespace === ns);
    return a ? ['addons', a.name, 'namespace'] : ['cluster', 'name'];
  };
  const storePath = (store: string): DocPath => {
    const ns = storeNamespace(store);
    return ns !== undefined ? namespacePath(ns) : ['cluster', 'name'];
  };
  for (const r of p.storeRoles) out.push({ id: storeRoleLogicalId(r.store), name: storeNamespace(r.store) ?? r.store, what: storeNamespace(r.store) !== undefined ? 'secret store role of namespace' : 'secret store role', path: storePath(r.store) });

  // IRSA roles: by the ARN the environment writes, else by the store whose derived role it is.
  const arnPaths = new Map<string, DocPath>();
  const setting = (addon: string, key: string): void => {
    const v = record(record(record(data.addons)?.[addon])?.settings)?.[key];
    if (typeof v === 'string' && !arnPaths.has(v)) arnPaths.set(v, ['addons', addon, 'settings', key]);
  };
  m.workloads.forEach((w, i) => {
    const arn = w.serviceAccount.iamRoleArn;
    if (arn && !arnPaths.has(arn)) arnPaths.set(arn, ['workloads', i, 'serviceAccount', 'iamRoleArn']);
  });
  setting('etcd-backup', CHART_ADDON_IAM_ROLE);
  setting('external-secrets', 'iamRoleArn');
  if (p.irsa?.roles.length) for (const s of storeAuths(m)) if (!arnPaths.has(s.auth.roleArn)) arnPaths.set(s.auth.roleArn, storePath(s.store));
  for (const r of p.irsa?.roles ?? []) out.push({ id: irsaRoleLogicalId(r.name), name: r.name, what: 'IRSA role', path: arnPaths.get(r.arn) ?? ['aws', 'iam'] });
  return out;
}
