/**
 * IAM roles a change adds to or removes from the AWS base stack while GitOps objects name them (secret stores'
 * `role`, ServiceAccounts' `eks.amazonaws.com/role-arn`, any role ARN in a rendered object): read off the two
 * rendered trees, the base's (rendered/ at the base revision) and the head's render. The two halves are applied by
 * different hands: the stack by an operator (`deploy.sh base`, or Git sync), the objects by the engine after merge.
 * Whichever lands first opens a window in which a store names a role that does not exist (yet, or any more).
 *
 * What ESO does in that window (external-secrets v2.9.0):
 * - The store's client cannot assume the role: the AWS provider's Validate retrieves the credentials
 *   (providers/v1/aws/parameterstore/parameterstore.go:636-646, `Credentials.Retrieve`, ValidationResultError), and
 *   validateStore sets the store's Ready condition False, reason InvalidProviderConfig, with a Warning event
 *   (pkg/controllers/secretstore/common.go:183-201).
 * - Its ExternalSecrets fail: the flood gate refuses a store that is not Ready (client_manager.go:135-140), and a
 *   provider error marks the ExternalSecret SecretSyncedError and returns before the target is touched
 *   (pkg/controllers/externalsecret/externalsecret_controller.go:417-421): the Secret stays as it was, but stops
 *   refreshing (a rotated parameter does not arrive; a new ExternalSecret gets no Secret, so its pods do not start).
 *
 * The safe order (roles added: stack first, then merge; roles removed: merge, wait for the sync, then the stack) is
 * decided here from the difference; plan.ts places the steps before and after the rest. Pure: files in, changes out.
 */
import { splitFile } from '../diff/documents.js';
import type { PlanStep } from './plan.js';

export interface RoleChanges {
  /** Roles the head's objects name that only the head's stack creates: the stack must be updated before merging. */
  added: { role: string; files: string[] }[];
  /** Roles the base's objects name that the head's stack no longer creates: merge and sync first, then the stack. */
  removed: { role: string; files: string[] }[];
}

const ROLE_ARN = /\barn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)/g;
const BASE_STACK = 'aws/base.yaml';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Role names the base stack of `env` creates (AWS::IAM::Role RoleName), from a tree's `<env>/aws/base.yaml`. */
export function stackRoles(env: string, files: ReadonlyMap<string, string>): Set<string> {
  const path = `${env}/${BASE_STACK}`;
  const text = files.get(path);
  const out = new Set<string>();
  if (!text) return out;
  for (const doc of splitFile(path, text)) {
    const resources = isRecord(doc.value) && isRecord(doc.value.Resources) ? doc.value.Resources : {};
    for (const r of Object.values(resources))
      if (isRecord(r) && r.Type === 'AWS::IAM::Role' && isRecord(r.Properties) && typeof r.Properties.RoleName === 'string') out.add(r.Properties.RoleName);
  }
  return out;
}

/** Role name → the files of `env`'s GitOps objects that name it (everything but the AWS layer and the README). */
export function referencedRoles(env: string, files: ReadonlyMap<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [path, text] of files) {
    if (!path.startsWith(`${env}/`) || path.startsWith(`${env}/aws/`) || !/\.ya?ml$/.test(path)) continue;
    for (const m of text.matchAll(ROLE_ARN)) {
      const list = out.get(m[1]!) ?? [];
      if (!list.includes(path)) list.push(path);
      out.set(m[1]!, list);
    }
  }
  return out;
}

/** The roles whose creation or deletion must be ordered against the merge, from the two trees. */
export function roleChanges(env: string, base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): RoleChanges {
  // Without both stacks (no rendered tree at the base, an environment without its AWS layer) nothing is known: no step.
  if (!base.has(`${env}/${BASE_STACK}`) || !head.has(`${env}/${BASE_STACK}`)) return { added: [], removed: [] };
  const before = stackRoles(env, base);
  const after = stackRoles(env, head);
  const sorted = (m: Map<string, string[]>, keep: (role: string) => boolean) =>
    [...m]
      .filter(([role]) => keep(role))
      .map(([role, files]) => ({ role, files: [...files].sort() }))
      .sort((a, b) => a.role.localeCompare(b.role));
  return {
    added: sorted(referencedRoles(env, head), (r) => after.has(r) && !before.has(r)),
    removed: sorted(referencedRoles(env, base), (r) => before.has(r) && !after.has(r)),
  };
}

const listed = (xs: RoleChanges['added']): string => xs.map((x) => `${x.role} (${x.files.map((f) => f.slice(f.indexOf('/') + 1)).join(', ')})`).join('; ');
const WINDOW = 'meanwhile a store whose role cannot be assumed is not Ready (InvalidProviderConfig) and its ExternalSecrets stop refreshing; their Secrets stay as they were, a new one is not created (external-secrets v2.9.0 secretstore/common.go:183-201, externalsecret_controller.go:417-421)';

/** The ordering steps: `before` the rest of the plan (the stack first), `after` it (the stack last). */
export function roleSteps(env: string, c: RoleChanges | undefined): { before: PlanStep[]; after: PlanStep[] } {
  if (!c || (c.added.length === 0 && c.removed.length === 0)) return { before: [], after: [] };
  const deploy = `sh rendered/${env}/aws/deploy.sh base`;
  // CloudFormation Git sync (aws/enable-git-sync.sh) updates the stack when main changes: at the merge, never before.
  const gitSync = 'With Git sync the stack is updated by the merge itself, together with the objects: the window is then the minutes between the two';
  const roles = (xs: RoleChanges['added']): string => `IAM ${xs.length === 1 ? 'role' : 'roles'} ${xs.map((x) => x.role).join(', ')}`;
  if (c.added.length > 0 && c.removed.length > 0)
    return {
      before: [
        {
          title: `${roles(c.added)} added and ${roles(c.removed)} removed in one change`,
          gate: 'AWS base stack and merge',
          verdict: 'caution',
          reason: `no order is safe: updating the stack first deletes roles the running objects still name (${listed(c.removed)}); merging first makes objects name roles that do not exist yet (${listed(c.added)}). Split the change if you can (first the one that adds, stack then merge; later the one that removes, merge then stack), or run ${deploy} and merge back to back. ${gitSync}; ${WINDOW}`,
        },
      ],
      after: [],
    };
  if (c.added.length > 0)
    return {
      before: [
        {
          title: `before merging: update the AWS base stack, which creates ${roles(c.added)}`,
          gate: 'AWS base stack first',
          verdict: 'caution',
          reason: `objects in this change name ${c.added.length === 1 ? 'a role' : 'roles'} only the new stack creates: ${listed(c.added)}. Run ${deploy}, wait until it has finished, then merge. Merging first leaves them naming missing roles until the stack is updated. ${gitSync}; ${WINDOW}`,
        },
      ],
      after: [],
    };
  return {
    before: [],
    after: [
      {
        title: `after merging: update the AWS base stack, which deletes ${roles(c.removed)}`,
        gate: 'merge and sync first',
        verdict: 'caution',
        reason: `the running objects name ${c.removed.length === 1 ? 'a role' : 'roles'} the new stack deletes: ${listed(c.removed)}. Merge, wait until the engine has synced (the stores and ServiceAccounts no longer name ${c.removed.length === 1 ? 'it' : 'them'}), then run ${deploy}; or leave the stack as it is until a later deploy (the role is then unused, not missing). Updating the stack first breaks them. ${gitSync}; ${WINDOW}`,
      },
    ],
  };
}
