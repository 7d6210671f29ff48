/**
 * The version-skew rules of synth and validate: the versions an environment asks for against those its committed
 * rendered tree records (rendered/<env>/.provenance.json `versions`, written by every synth: what the cluster was last
 * rendered at, read without git). The same table as the upgrade plan (npm run plan): Kubernetes' skew policy and the
 * order of a release and Kubernetes change in ../upgrade-plan/skew.ts, each distribution's release table through its
 * DistributionUpgrade (which Kubernetes a release ships, which a release runs). Refused, at the version key:
 * - version-skew: a Kubernetes minor jump of two or more (of cluster.kubernetesVersion, or of the Kubernetes a release
 *   ships, at the release key);
 * - version-downgrade: an older Kubernetes minor;
 * - version-order: a change of both the release and Kubernetes where neither order keeps a supported pair.
 * A new environment (no rendered tree) is never refused; a tree without a readable record is a warning
 * (version-skew-unknown). A cluster rebuilt from scratch says so with an `acknowledge:` entry naming the rule and the
 * key: the refusal is then a warning that stays printed (never silent), and the entry is refused as stale once the
 * tree compared with records the new version (with --base, CI's: once the rebuild is merged; remove it then). Pure: the record is read by ../write/provenance.ts.
 */
import { distributionNamed } from '../distributions/registry.js';
import { releaseVersions } from '../fleet/row.js';
import { formatPath, type DocPath } from '../lib/paths.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import { kubernetesSkew, minorOf, NEITHER_ORDER, releaseOrder, SKEW_SOURCE, SPLIT_HINT } from '../upgrade-plan/skew.js';
import type { Acknowledgement } from './acknowledge.js';
import type { Diagnostic } from './diagnostics.js';

/** What the committed rendered tree says an environment runs (../write/provenance.ts runningVersions reads it). */
export type RunningVersions =
  /** No rendered tree: a new environment, nothing runs yet. */
  | { kind: 'new' }
  /** A tree without a readable record (`where`: the file; `why`: what is wrong with it). */
  | { kind: 'unknown'; where: string; why: string }
  /** Document path (`cluster.kubernetesVersion`, `cluster.<release key>`) → version, as `where` records them. */
  | { kind: 'known'; where: string; versions: Record<string, string> };

const KUBERNETES_KEY = 'cluster.kubernetesVersion';

/** The rules a rebuild from scratch may acknowledge, and the hint at such an acknowledgement once it matches nothing. */
export const SKEW_RULES: readonly string[] = ['version-skew', 'version-downgrade', 'version-order'];
export const STALE_SKEW_ACK = 'the rendered tree records the new version now: remove the entry once the rebuild is merged (until then, compare with the base branch as CI does: --base main)';

/**
 * The skew rules whose acknowledgements this run cannot judge: all of them when nothing is compared (`running`
 * undefined: plan, diff, promote, fleet, --print-resolved, …), nothing runs yet (a new environment) or the record is
 * unreadable (version-skew-unknown says so). Such an entry is then neither matched nor refused as stale.
 */
export function unjudgedSkewRules(running: RunningVersions | undefined): readonly string[] {
  return running?.kind === 'known' ? [] : SKEW_RULES;
}

/** The versions a rendered tree records: Kubernetes and the distribution's release keys, by document path. */
export function versionInputs(data: Record<string, unknown>): Record<string, string> {
  const cluster = (data.cluster ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  if (typeof cluster.kubernetesVersion === 'string') out[KUBERNETES_KEY] = cluster.kubernetesVersion;
  if (typeof cluster.distribution === 'string') for (const r of releaseVersions(cluster.distribution, data)) out[`cluster.${r.key}`] = r.value;
  return out;
}

const POLICY = `Kubernetes version-skew policy, ${SKEW_SOURCE}`;

export function skewDiagnostics(env: ResolvedEnvironment, data: Record<string, unknown>, running: RunningVersions | undefined, acks: readonly Acknowledgement[] | undefined): Diagnostic[] {
  if (!running || running.kind === 'new') return [];
  const out: Diagnostic[] = [];
  const report = (rule: string, path: DocPath, message: string, hint: string): void => {
    const pos = locate(env, path);
    const ack = acks?.find((a) => a.rule === rule && a.path === formatPath(path));
    // Acknowledged (a cluster rebuilt from scratch): a warning the acknowledgement matches and that stays printed.
    if (ack) out.push({ severity: 'warning', rule, file: pos.file, line: pos.line, col: pos.col, path, message: `${message}; acknowledged as a rebuild from scratch: ${ack.reason}`, hint: 'remove the acknowledgement once the rebuild is merged (it is refused as stale then)', loud: true });
    else out.push({ severity: 'error', rule, file: pos.file, line: pos.line, col: pos.col, path, message, hint });
  };
  if (running.kind === 'unknown') {
    const pos = locate(env, ['cluster', 'kubernetesVersion']);
    out.push({ severity: 'warning', rule: 'version-skew-unknown', file: pos.file, line: pos.line, col: pos.col, path: ['cluster', 'kubernetesVersion'], message: `which versions the cluster runs is not known: ${running.where} ${running.why}, so a Kubernetes jump or downgrade is not refused here`, hint: 'npm run synth records them there; before merging a version change, compare with the running cluster (kubectl version) and npm run plan' });
    return out;
  }
  const now = versionInputs(data);
  const cluster = (data.cluster ?? {}) as Record<string, unknown>;
  const dist = distributionNamed(typeof cluster.distribution === 'string' ? cluster.distribution : undefined);
  const matrix = dist?.upgrade;
  const releaseKey = Object.keys(dist?.schema.release ?? {})[0];
  const r0 = releaseKey ? running.versions[`cluster.${releaseKey}`] : undefined;
  const r1 = releaseKey ? now[`cluster.${releaseKey}`] : undefined;
  const shipped = (r: string | undefined): string | undefined => (r ? matrix?.kubernetesOf?.(r) : undefined);
  const k0 = shipped(r0) ?? running.versions[KUBERNETES_KEY];
  const k1 = shipped(r1) ?? now[KUBERNETES_KEY];
  if (!k0 || !k1 || k0 === k1) return out;
  // A release that ships its Kubernetes: the jump is the release's, reported at its key.
  const atRelease = releaseKey && shipped(r1) !== undefined && r0 !== r1;
  const recorded = `${running.where} records ${atRelease && r0 ? `${r0} (Kubernetes ${k0})` : k0} as what the cluster runs`;
  const key = atRelease ? `cluster.${releaseKey}` : KUBERNETES_KEY;
  const path = key.split('.');
  const what = atRelease ? `${dist!.title} ${r0 ?? '(unset)'} → ${r1}: its Kubernetes ${k0} → ${k1}` : `Kubernetes ${k0} → ${k1}`;
  const step = (minor: string): string => (atRelease ? `a ${dist!.title} release of Kubernetes ${minor}` : `a ${minor} release`);
  const skew = kubernetesSkew(k0, k1);
  if (skew.kind === 'jump') {
    const m0 = minorOf(k0)!;
    const m1 = minorOf(k1)!;
    report('version-skew', path, `${what} jumps ${m1 - m0} minors (${recorded}): kube-apiserver upgrades one minor at a time, never skipping one (${POLICY})`, `set ${key} to ${skew.through!.map(step).join(', then to ')} first, each its own change (PR) rolled out before the next, then to ${atRelease ? r1 : k1} (a cluster rebuilt from scratch instead: acknowledge: [{ rule: version-skew, path: ${key}, reason: … }])`);
  } else if (skew.kind === 'downgrade') {
    report('version-downgrade', path, `${what} downgrades the Kubernetes minor (${recorded}): upstream supports no downgrade of a minor (${POLICY})`, `keep ${key} on Kubernetes 1.${minorOf(k0)} (a newer patch is fine); to run 1.${minorOf(k1)}, rebuild the cluster from a backup taken on it and acknowledge the rebuild (acknowledge: [{ rule: version-downgrade, path: ${key}, reason: … }])`);
  } else if (matrix && !matrix.kubernetesOf && releaseKey && r1 && r0 !== r1) {
    const { order, releaseFirst, kubeFirst } = releaseOrder(matrix, r0, r1, k0, k1);
    if (order === 'neither')
      report('version-order', ['cluster', releaseKey], `${dist!.title} ${r0} → ${r1} with Kubernetes ${k0} → ${k1} (${running.where} records ${dist!.title} ${r0} with Kubernetes ${k0} as what the cluster runs): ${NEITHER_ORDER}: ${releaseFirst}; ${kubeFirst} (${matrix.source})`, `${SPLIT_HINT}, one change (PR) each`);
  }
  return out;
}
