/**
 * docs/reference/engines.md is made from each engine's sync facts (Engine.sync): every built-in
 * engine has a section with each fact, and the words of a fact are those of the registry.
 */
import { describe, expect, it } from 'vitest';
import { enginesPage, ENGINES_PAGE } from '../generators/docs/engines.js';
import { engines } from '../generators/engines/registry.js';

const flat = (s: string): string => s.replace(/\s+/g, ' ');

describe('the engines reference page', () => {
  const page = enginesPage();
  it('is written at its path with a section per engine', () => {
    expect(page.path).toBe(ENGINES_PAGE);
    for (const e of engines()) expect(page.content).toContain(`## ${e.title} (\`gitops: ${e.name}\`)`);
    expect(engines().length).toBeGreaterThanOrEqual(2);
  });
  it("states each engine's order, cascade and tenant facts as the registry words them", () => {
    const text = flat(page.content);
    for (const e of engines()) {
      expect(text).toContain(`**Order of units** (${e.sync.orderName}): ${e.sync.order.replace(/[[\]<>|#*\\]/g, '\\$&')}`);
      expect(text).toContain(flat(e.sync.cascade));
      expect(text).toContain(flat(e.sync.tenants));
      expect(text).toContain(`rendered/<env>/${e.bootstrapScript}`);
    }
  });
});
