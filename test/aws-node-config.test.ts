/**
 * A settings merge stops no fixed instance. AWS::EC2::Instance UserData: "Update requires: Some interruptions" (a stop
 * and start), and cloud-init runs the user data once per instance, so a setting carried in a fixed node's user data
 * stopped every server for nothing. K3s/RKE2 keep a fixed node's config in a base-stack SSM parameter read at first
 * boot (generators/distributions/rancher/node-config.ts); Talos fixed nodes boot without user data (maintenance mode,
 * config applied with talosctl by the runbook). Over every valid fixture: a change of the cluster's extraArgs (every
 * server's config) and of each worker pool's (its nodes' config) leaves every fixed instance's properties as they were,
 * changes the config parameter of every node it reaches (what a new instance boots with) and the digest apply-config.sh
 * checks (what a running node is brought to).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import type { EnvironmentModel } from '../generators/model/types.js';
import { addExtraArg, FIXTURES, renderValidFixture } from './helpers.js';

type Doc = Record<string, any>;
const VALID = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();

const render = renderValidFixture;

const resources = (files: Map<string, string>, stack: string): Record<string, Doc> => (parseYamlStream(files.get(`aws/${stack}.yaml`)!)[0] as Doc).Resources;
const instances = (files: Map<string, string>) => Object.entries(resources(files, 'nodes')).filter(([, r]) => r.Type === 'AWS::EC2::Instance');
const parameters = (files: Map<string, string>) => new Map(Object.values(resources(files, 'base')).filter((r) => r.Type === 'AWS::SSM::Parameter').map((r) => [r.Properties.Name as string, r.Properties.Value as string]));

/** A cluster-wide setting and each worker pool's (extraArgs of the family: cluster.<name>.extraArgs, nodePools[].<name>.extraArgs). */
function changeSettings(m: EnvironmentModel): void {
  addExtraArg(m.cluster.extension, 'kube-apiserver-arg', 'request-timeout=301s');
  for (const p of m.pools) if (p.role === 'worker') addExtraArg(p.extension ?? (p.extension = {}), 'kubelet-arg', 'image-gc-low-threshold=71');
}

describe('a settings change reaches no fixed instance’s properties (no stop and start for nothing)', () => {
  it.each(VALID)('%s', (file) => {
    const before = render(file);
    const distribution = /^(k3s|rke2|talos)\//.exec([...before.keys()].find((p) => /^(k3s|rke2|talos)\//.test(p)) ?? '')?.[1];
    const fixed = instances(before);
    expect(fixed.length, file).toBeGreaterThan(0);
    if (distribution === 'talos' || distribution === undefined) {
      // Talos: no user data at all on a fixed instance; its machine config goes in through talosctl (the runbook).
      for (const [id, r] of fixed) expect(r.Properties.UserData, `${file}: ${id}`).toBeUndefined();
      return;
    }
    const after = render(file, changeSettings);
    const head = new Map(instances(after));
    for (const [id, r] of fixed) expect(head.get(id)?.Properties, `${file}: ${id}`).toEqual(r.Properties);
    // Every fixed node's config parameter holds its new config, and apply-config.sh expects that value.
    const [pb, pa] = [parameters(before), parameters(after)];
    const script = after.get(`${distribution}/apply-config.sh`)!;
    expect(script, file).toBeDefined();
    for (const [, r] of fixed) {
      const node = (r.Properties.Tags as { Key: string; Value: string }[]).find((t) => t.Key === 'Name')!.Value;
      const param = [...pa.keys()].find((k) => k.endsWith(`/${distribution}/config/${node}`))!;
      expect(param, `${file}: ${node}`).toBeDefined();
      expect(pa.get(param)).not.toBe(pb.get(param));
      expect(`${pa.get(param)}\n`).toBe(after.get(`${distribution}/${node}.yaml`)!.replace(/^#.*\n/gm, ''));
      expect(script).toContain(`PARAM='${param}'`);
      expect(before.get(`${distribution}/apply-config.sh`)).not.toBe(script);
    }
  });
});
