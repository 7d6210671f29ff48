import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMENT_MARKER } from '../generators/diff/format.js';
import { ROOT } from './helpers.js';

describe('.github/workflows/gitops.yaml', () => {
  const text = readFileSync(join(ROOT, '.github', 'workflows', 'gitops.yaml'), 'utf8');
  const wf = parse(text) as { on: Record<string, unknown>; jobs: { gate: { steps: { uses?: string; run?: string; with?: { script?: string } }[] } } };
  const steps = wf.jobs.gate.steps;

  it('runs on pull requests: npm ci, npm test, check, validate, then the markdown diff', () => {
    expect(Object.keys(wf.on)).toStrictEqual(['pull_request']);
    const runs = steps.flatMap((s) => (s.run ? [s.run.trim().split('\n').pop()!] : []));
    const base = ' -- --base "$(git merge-base HEAD "$BASE_SHA")"';
    expect(runs.slice(0, 4)).toStrictEqual(['npm ci --no-fund --no-audit', 'npm test', `npm run check${base}`, `npm run validate${base}`]);
    // check and validate judge the version skew against the merge base's rendered/ (the PR's base).
    for (const s of steps.filter((x) => x.run?.startsWith('npm run check') || x.run?.startsWith('npm run validate'))) expect((s as { env?: Record<string, string> }).env).toStrictEqual({ BASE_SHA: '${{ github.event.pull_request.base.sha }}' });
    expect(runs[4]).toContain('cat "$RUNNER_TEMP/rendered-diff.md" >> "$GITHUB_STEP_SUMMARY"');
    expect(text).toContain('npm run -s diff -- --base "$base" --format markdown');
  });

  it('pins every action by full commit SHA', () => {
    const uses = steps.flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.length).toBe(3);
    for (const u of uses) expect(u).toMatch(/^[a-z-]+\/[a-z-]+@[0-9a-f]{40}$/);
  });

  it('finds its own comment by the marker the markdown diff starts with', () => {
    expect(steps.at(-1)!.with!.script).toContain(`const marker = '${COMMENT_MARKER}';`);
  });
});
