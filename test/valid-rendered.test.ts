/**
 * Every valid fixture renders a tree that npm run validate accepts: its file and tree checks and the first sync
 * simulated with the environment's engine (generators/cli/validate.ts runs the same three), so a combination no example
 * uses is checked as its consumers run it, not only at rest.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listEnvironmentNames } from '../generators/load/loader.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkMotion } from '../generators/validate/motion/index.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { FIXTURES, fixtureSources } from './helpers.js';

const valid = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();
/** Whether environment `env` is one of fixture `name`'s fleet (valid/<name>.fleet/<env>.yaml). */
const existsFleet = (name: string, env: string): boolean => existsSync(join(FIXTURES, 'valid', `${name}.fleet`, `${env}.yaml`));

describe('valid fixtures: the rendered tree passes validate', () => {
  it.each(valid)('%s', async (file) => {
    const { name, sources } = fixtureSources('valid', file);
    // The fixture and the environments of its fleet (hub mode: <name>.fleet/), as synth renders them together.
    const envs = [name, ...listEnvironmentNames(sources).filter((n) => n !== name && !n.startsWith('_') && sources.get(`environments/${n}.yaml`) !== undefined && existsFleet(name, n))];
    const models = envs.map((n) => prepareEnvironment(n, sources).prepared!);
    const files = new Map(models.flatMap((p) => renderEnvironment(p).map((f) => [`${p.name}/${f.path}`, f.content] as const)));
    const tree = parseRenderedTree(files, new Map(models.map((p) => [p.name, p.model.cluster.kubernetesVersion])));
    // As generators/cli/validate.ts runs them: the file and tree checks, then the first sync simulated.
    const found = [...(await checkRenderedTree(tree)), ...checkMotion(tree, models.map((p) => p.model))];
    expect(found.filter((d) => d.severity === 'error').map(formatDiagnostic)).toStrictEqual([]);
  });
});
