/**
 * Every path of the rendered tree an environment README names (`rendered/<env>/…`, literal, no
 * placeholder) exists in the render of that environment: a renamed or moved file cannot leave a
 * README (the hub's and the managed environments' runbooks included) pointing at nothing.
 */
import { describe, expect, it } from 'vitest';
import { listEnvironmentNames } from '../generators/load/loader.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { exampleSources, fixtureSources } from './helpers.js';

/** Every environment of a set of sources, rendered: path → content per environment. */
function renderAll(sources: Map<string, string>): Map<string, Map<string, string>> {
  return new Map(
    listEnvironmentNames(sources)
      .filter((env) => !env.startsWith('_'))
      .map((env) => {
        const r = prepareEnvironment(env, sources);
        if (!r.prepared) throw new Error(`${env} does not render`);
        return [env, new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]))] as const;
      }),
  );
}

describe('paths the READMEs name', () => {
  it.each([
    ['the examples', () => exampleSources()],
    ['a hub and its managed environments', () => fixtureSources('valid', 'hub.yaml').sources],
  ])('every rendered/<env>/<path> a README names exists: %s', (_, sources) => {
    const trees = renderAll(sources());
    const missing: string[] = [];
    let checked = 0;
    for (const [env, files] of trees) {
      for (const m of files.get('README.md')!.matchAll(/rendered\/([a-z0-9-]+)\/([A-Za-z0-9._/-]*[A-Za-z0-9_])/g)) {
        const [, target, path] = m as unknown as [string, string, string];
        const tree = trees.get(target);
        if (!tree) continue;
        checked++;
        const isDir = [...tree.keys()].some((p) => p.startsWith(`${path}/`));
        if (!tree.has(path) && !isDir && path !== '.provenance.json') missing.push(`${env}/README.md names rendered/${target}/${path}`);
      }
    }
    expect(checked).toBeGreaterThan(5);
    expect(missing).toStrictEqual([]);
  });
});
