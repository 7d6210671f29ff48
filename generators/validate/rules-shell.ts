/**
 * Values that reach root's boot scripts (the user data of the distributions that boot from a
 * script) and the scripts rendered beside them have their field's shape (lib/shapes.ts), whether
 * the environment file holds them or the SSM lock does (`{ ssm: /name }`: the error is positioned
 * at the reference and names the lock file's entry).
 * The renderers single-quote every one of them as well. S3 bucket names (Litestream's, the etcd
 * backup's) are checked by rule s3-bucket-name (rules-aws.ts), whose alphabet has no metacharacter.
 */
import { getAt, type DocPath } from '../lib/paths.js';
import { SHAPES, shapeProblem, type ShapeName } from '../lib/shapes.js';
import { lockFile, REFRESH_COMMAND } from '../load/ssm-lock.js';
import { isPlaceholder } from '../lib/placeholder.js';
import type { Rule } from './rules.js';

/** Every environment field that is interpolated into a rendered shell script, with its shape. */
export const SHELL_FIELDS: readonly { path: DocPath; shape: ShapeName; reaches: string }[] = [
  { path: ['cluster', 'datastore', 'postgres', 'host'], shape: 'host', reaches: "the Kine DSN the boot script assembles" },
  { path: ['cluster', 'datastore', 'postgres', 'database'], shape: 'database', reaches: 'the Kine DSN the boot script assembles' },
  { path: ['cluster', 'datastore', 'postgres', 'user'], shape: 'database', reaches: 'the Kine DSN the boot script assembles' },
  { path: ['cluster', 'datastore', 'postgres', 'caBundlePath'], shape: 'path', reaches: 'the boot script (the CA bundle it checks or downloads)' },
  { path: ['cluster', 'datastore', 'postgres', 'password', 'secret'], shape: 'ssm-name', reaches: 'the boot script (the SSM parameter it reads)' },
  { path: ['git', 'repoURL'], shape: 'url', reaches: "the AWS layer's scripts (enable-git-sync.sh) and the engines' bootstrap" },
  { path: ['git', 'targetRevision'], shape: 'git-ref', reaches: "the AWS layer's scripts (enable-git-sync.sh)" },
];

export const shellShapes: Rule = ({ env, input }, report) => {
  for (const f of SHELL_FIELDS) {
    const value = getAt(input, f.path);
    if (typeof value !== 'string' || isPlaceholder(value)) continue; // absent or the schema's finding; a placeholder has its own warning (ssm.placeholder)
    const problem = shapeProblem(f.shape, value);
    if (!problem) continue;
    const ref = getAt(env.data, f.path) as { ssm?: unknown } | undefined;
    const locked = ref !== null && typeof ref === 'object' && typeof ref.ssm === 'string' ? ref.ssm : undefined;
    const shown = JSON.stringify(value);
    report(
      'shell-shape',
      f.path,
      locked
        ? `the value of SSM parameter ${locked} in ${lockFile(env.name)} (${shown}) is not ${SHAPES[f.shape].expected}: ${problem}; it reaches ${f.reaches}`
        : `${shown} is not ${SHAPES[f.shape].expected}: ${problem}; it reaches ${f.reaches}`,
      { hint: locked ? `fix the parameter in SSM and run ${REFRESH_COMMAND(env.name)}` : `give ${f.path[f.path.length - 1]} as ${SHAPES[f.shape].expected}` },
    );
  }
};
