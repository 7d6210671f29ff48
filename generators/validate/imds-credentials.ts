/**
 * Rule `imds-denied-credentials`: an add-on's values that make its pods take AWS credentials from the SDK's default
 * chain (catalog/ambient-credentials.ts), in a namespace whose egress to IMDS the NetworkPolicy odp-deny-imds denies
 * (catalog/network-policies.ts): the chain's last link, the node role through 169.254.169.254, is closed there, so
 * the component would fail at its first AWS call, in its own logs only. Refused at the value, before anything is
 * written. Two kinds:
 * - a known values path of a pinned chart (remote write sigv4, Thanos S3) without credentials of its own;
 * - the `eks.amazonaws.com/role-arn` annotation in any add-on's values: no pod identity webhook runs on these
 *   clusters to turn it into a web identity (catalog/irsa.ts), so the pods fall back to the same chain.
 * Either is accepted when the values give the pods a web identity themselves (AWS_WEB_IDENTITY_TOKEN_FILE set).
 */
import { AMBIENT_CREDENTIAL_USES, IRSA_ANNOTATION, keysNamed, objectsAt, WEB_IDENTITY_ENV } from '../catalog/ambient-credentials.js';
import { IMDS_DENY_POLICY, imdsDeniedNamespaces } from '../catalog/network-policies.js';
import { resolveAddons } from '../catalog/resolve.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import type { DocPath } from '../lib/paths.js';
import type { EnvironmentModel } from '../model/types.js';
import type { Diagnostic } from './diagnostics.js';

const RULE = 'imds-denied-credentials';

export function imdsCredentialDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  const addons = resolveAddons(m);
  const denied = imdsDeniedNamespaces(addons);
  const out: Diagnostic[] = [];
  const report = (path: DocPath, message: string, hint: string): void => {
    const pos = locate(env, path);
    out.push({ severity: 'error', rule: RULE, file: pos.file, line: pos.line, col: pos.col, path, message, hint });
  };
  for (const o of m.addons) {
    const a = addons.find((x) => x.name === o.name && x.partOf === undefined);
    if (!a || !denied.has(a.namespace) || Object.keys(o.values).length === 0) continue;
    // The environment's own values: the catalog's never ask for AWS credentials.
    if (JSON.stringify(o.values).includes(WEB_IDENTITY_ENV)) continue;
    const closed = `the NetworkPolicy ${IMDS_DENY_POLICY} denies namespace ${a.namespace} egress to IMDS (169.254.169.254), the default chain's last link (the node role)`;
    for (const use of AMBIENT_CREDENTIAL_USES.filter((u) => u.addon === a.name))
      for (const { at } of objectsAt(o.values, use.path).filter((x) => use.ambient(x.o)))
        report(
          ['addons', a.name, 'values', ...at],
          `${use.who} has no credentials of its own, so it takes them from the AWS SDK's default chain; ${closed}: it would fail at its first AWS call`,
          `set ${use.instead}; or give the pod a web identity through the chart's values (a projected ServiceAccount token, ${WEB_IDENTITY_ENV} and AWS_ROLE_ARN; the role's trust: aws.iam.mode irsa)`,
        );
    for (const at of keysNamed(o.values, IRSA_ANNOTATION))
      report(
        ['addons', a.name, 'values', ...at],
        `${IRSA_ANNOTATION} does nothing on this cluster: no pod identity webhook turns it into a web identity, so ${a.name}'s pods would take AWS credentials from the SDK's default chain; ${closed}`,
        `remove the annotation and give the pod a web identity through the chart's values (a projected ServiceAccount token with audience sts.amazonaws.com, ${WEB_IDENTITY_ENV} and AWS_ROLE_ARN), or credentials from a Secret`,
      );
  }
  return out;
}
