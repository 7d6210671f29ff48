/**
 * Secrets at apply time: import a bundle into SSM, fetch it, and fill the references of a committed
 * machine config. The only Talos code that sees secret values; it never writes inside the repository.
 */
import { chmodSync, closeSync, existsSync, openSync, realpathSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { parseYamlStream, toYamlStream } from '../../../../lib/yaml.js';
import type { EnvironmentModel } from '../../../../model/types.js';
import { getParameters, getSecureString, putSecureString } from '../../../../ssm/client.js';
import { ExternalError, InputError, UsageError } from '../../../../validate/diagnostics.js';
import { decodeBundle, encodeBundle, fillReferences, findReferences, parseBundle, type SecretsBundle } from '../../secrets.js';
import { talosCluster, talosPool } from '../../model.js';

export const REGENERATE_WARNING =
  'Replacing the bundle of a running cluster locks operators out: every CA (Talos API, Kubernetes, etcd, aggregator) and the join tokens change, so existing talosconfigs, kubeconfigs, service-account tokens (and the IRSA key) stop working and nodes can no longer join. Only --force when the cluster does not exist yet, or when re-importing the very bundle it runs with.';

export interface ImportResult {
  parameter: string;
  version: number;
  replaced: boolean;
}

export async function importBundle(
  client: SSMClient,
  model: EnvironmentModel,
  text: string,
  opts: { source: string; force: boolean; kmsKeyId?: string },
): Promise<ImportResult> {
  const { bundle, problems } = parseBundle(text);
  if (!bundle)
    throw new InputError(problems.map((p) => ({ severity: 'error', rule: 'talos-secrets-bundle', file: opts.source, path: p.path.split('.'), message: p.message, hint: 'a bundle written by `talosctl gen secrets -o secrets.yaml`' })));
  const parameter = talosCluster(model).secretsBundle.parameter;
  const exists = await withSsm(parameter, async () => (await getParameters(client, [parameter])).found.length > 0);
  if (exists && !opts.force) throw new UsageError(`refusing to overwrite the existing secrets bundle ${parameter} of environment ${model.name}.\n${REGENERATE_WARNING}`);
  const version = await withSsm(parameter, () =>
    putSecureString(client, parameter, encodeBundle(bundle), {
      overwrite: opts.force,
      kmsKeyId: opts.kmsKeyId ?? talosCluster(model).secretsBundle.kmsKeyId,
      description: `Talos secrets bundle (talosctl gen secrets) of ${model.name}; imported by odp-gitops`,
    }),
  );
  return { parameter, version, replaced: exists };
}

export async function fetchBundle(client: SSMClient, model: EnvironmentModel): Promise<SecretsBundle> {
  const parameter = talosCluster(model).secretsBundle.parameter;
  const p = await withSsm(parameter, () => getSecureString(client, parameter));
  try {
    return decodeBundle(p.value);
  } catch (e) {
    throw new ExternalError(`${parameter}: ${(e as Error).message}`);
  }
}

async function withSsm<T>(parameter: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const err = e as Error;
    if (err.name === 'ParameterNotFound')
      throw new ExternalError(`SSM parameter ${parameter} does not exist: import the bundle first (npm run talos -- secrets import --env <env> --from secrets.yaml)`);
    if (err instanceof UsageError || err instanceof InputError) throw err;
    throw new ExternalError(`SSM ${parameter}: ${err.name}: ${err.message}`);
  }
}

/** A committed machine config with every reference filled; refuses if any remains. */
export function materializeConfig(committed: string, bundle: SecretsBundle, label: string): string {
  const filled = fillReferences(parseYamlStream(committed), bundle);
  const left = findReferences(filled);
  if (left.length > 0) throw new Error(`unfilled references in ${label}: ${left.map((l) => l.path.join('.')).join(', ')}`);
  return `# ${label}: materialized with secrets by npm run talos -- config. Contains secrets: never commit it.\n${toYamlStream(filled)}`;
}

/** Refuse paths inside the repository (following symlinks of the existing part). */
export function assertOutsideRepo(root: string, out: string): string {
  const abs = resolve(out);
  let dir = dirname(abs);
  while (!existsSync(dir)) dir = dirname(dir);
  const real = resolve(realpathSync(dir), relative(dir, dirname(abs)), abs.slice(dirname(abs).length + 1));
  const rel = relative(realpathSync(root), real);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)))
    throw new UsageError(`refusing to write secrets to ${out}: it is inside the repository (${root}); choose a path outside it, e.g. $HOME/.odp/<env>/`);
  return abs;
}

/** Write a file readable by its owner only (0600, also when it existed). */
export function writeSecretFile(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600);
}
