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
    expect(runs.slice(0, 4)).toStrictEqual(['npm ci --no-fund --no-audit', 'npm test', 'npm run check -- --base "$base"', 'npm run validate -- --base "$base"']);
    // check, validate and diff judge against the merge base's rendered/ (the PR's base), computed first in its own statement.
    const based = steps.filter((x) => x.run?.includes('--base'));
    expect(based.length).toBe(3);
    for (const s of based) {
      expect((s as { env?: Record<string, string> }).env).toStrictEqual({ BASE_SHA: '${{ github.event.pull_request.base.sha }}' });
      expect(s.run!.split('\n')[0]).toBe('base="$(git merge-base HEAD "$BASE_SHA")"');
    }
    expect(runs[4]).toContain('cat "$RUNNER_TEMP/rendered-diff.md" >> "$GITHUB_STEP_SUMMARY"');
    expect(text).toContain('npm run -s diff -- --base "$base" --format markdown');
  });

  it('passes no command substitution inside a --base argument (its failure would not stop the step under bash -e)', () => {
    // The argument's first word: "$(git … would show its $( there.
    const args = [...text.matchAll(/--base[=\s]+(\S+)/g)].map((m) => m[1]!);
    expect(args.length).toBeGreaterThanOrEqual(3);
    for (const a of args) expect(a, `--base ${a}`).not.toContain('$(');
    expect(args.every((a) => a === '"$base"')).toBe(true);
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
