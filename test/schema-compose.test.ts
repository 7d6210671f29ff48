/**
 * The environment schema is composed from the core and every registered distribution's and engine's
 * fragment (generators/schema/compose.ts); schemas/environment.schema.json is that text, committed for editors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distributions } from '../generators/distributions/registry.js';
import { engines, SYNC_POLICY_KEY } from '../generators/engines/registry.js';
import { composeEnvironmentSchema, environmentSchemaText, SCHEMA_FILE, WRITE_SCHEMA_COMMAND } from '../generators/schema/compose.js';
import { ROOT } from './helpers.js';

type Obj = Record<string, any>;

describe('the environment schema', () => {
  it('the committed schemas/environment.schema.json is the composition', () => {
    const committed = readFileSync(join(ROOT, SCHEMA_FILE), 'utf8');
    expect(committed === environmentSchemaText(), `${SCHEMA_FILE} differs from the composition of the registered distributions and engines: run ${WRITE_SCHEMA_COMMAND}`).toBe(true);
  });

  it('places each fragment: releases after cluster.distribution, settings after the core keys, engines in gitops and the sync policy', () => {
    const s = composeEnvironmentSchema() as Obj;
    const cluster = Object.keys(s.properties.cluster.properties);
    const releases = distributions().flatMap((d) => Object.keys(d.schema.release));
    expect(cluster.slice(0, 2 + releases.length)).toStrictEqual(['name', 'distribution', ...releases]);
    expect(cluster.slice(-distributions().length)).toStrictEqual(distributions().flatMap((d) => Object.keys(d.schema.cluster)));
    expect(s.properties.cluster.properties.distribution.enum).toStrictEqual(distributions().map((d) => d.name));
    expect(s.properties.cluster.properties.datastore.properties.type.enum).toStrictEqual([...new Set(distributions().flatMap((d) => d.datastores))]);
    expect(Object.keys(s.$defs.nodePool.properties).slice(-distributions().length)).toStrictEqual(distributions().flatMap((d) => Object.keys(d.schema.pool)));
    expect(s.properties.gitops.enum).toStrictEqual(engines().map((e) => e.name));
    expect(Object.keys(s.properties)).toContain(SYNC_POLICY_KEY);
    expect(Object.keys(s.properties[SYNC_POLICY_KEY].properties)).toStrictEqual(['automated', 'prune', 'selfHeal', ...engines().flatMap((e) => Object.keys(e.schema.sync ?? {}))]);
  });

  it('refuses two fragments that define one definition differently', () => {
    const [a, b] = distributions();
    const clash = { ...b!, schema: { ...b!.schema, defs: { ...(b!.schema.defs ?? {}), talosPatches: { type: 'string' } } } };
    expect(() => composeEnvironmentSchema([a!, clash], engines())).toThrow(/two fragments define \$defs talosPatches differently/);
  });
});
