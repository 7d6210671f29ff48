/**
 * The one-time transition of nodeupdate, as `npm run diff` and the review comment word it: a fixed K3s/RKE2 node whose
 * config leaves its user data (it is its base-stack SSM parameter since) gets new user data once, so the nodes stack
 * stops and starts it once, one server at a time along the DependsOn chain, and nothing is to be done on it: the running
 * node keeps its config.yaml (generators/distributions/rancher/impact.ts configMovedText). Not "make the change by hand".
 * The base side is the head's rendering with each fixed node's user data as it was before: writing its config file, and
 * a boot script that did not read the parameter.
 */
import { describe, expect, it } from 'vitest';
import { diffTrees } from '../generators/diff/diff.js';
import { formatMarkdown, formatText } from '../generators/diff/format.js';
import { envContext } from '../generators/diff/sources.js';
import { parseYamlStream, toYaml } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { USER_DATA_NOT_RUN_ON_START } from '../generators/infra/aws/instance-updates.js';
import { carryUserData, readUserData, userDataProperty } from '../generators/infra/aws/user-data.js';

type UserData = { write_files: { path: string; content: string; permissions: string }[] };

describe.each([
  { file: 'k3s-postgres.yaml', dist: 'k3s' },
  { file: 'rke2-etcd.yaml', dist: 'rke2' },
])('the config leaving the user data ($file): the review text', ({ file, dist }) => {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const head = new Map(renderEnvironment(r.prepared).map((f) => [`${name}/${f.path}`, f.content]));
  const context = new Map([[name, envContext(r.prepared.model)]]);
  // The same environment before nodeupdate: each fixed node's user data wrote its config and its boot script differed.
  const base = new Map(head);
  const fixed = r.prepared.model.pools.flatMap((p) => p.nodes.map((n) => n.name));
  for (const node of fixed) {
    const path = `${name}/${dist}/userdata/${node}.yaml`;
    const text = head.get(path)!;
    const data = parseYamlStream(text)[0] as UserData;
    data.write_files = [
      { path: `/etc/rancher/${dist}/config.yaml`, content: head.get(`${name}/${dist}/${node}.yaml`)!, permissions: '0600' },
      ...data.write_files.map((f, i) => (i === data.write_files.length - 1 ? { ...f, content: `${f.content}\n# before: no config parameter read\n` } : f)),
    ];
    base.set(path, `${text.split('\n')[0]}\n${toYaml(data)}`);
  }
  const d = diffTrees(base, head, context);
  const text = formatText(d, { base: 'main', head: 'HEAD' });
  const markdown = formatMarkdown(d, { base: 'main', head: 'HEAD' });

  it('every fixed node: stopped and started once by the nodes stack, nothing by hand; never "make the change by hand"', () => {
    expect(fixed.length).toBeGreaterThan(0);
    for (const node of fixed) {
      const step = text.split('\n').find((l) => /^ {4}\d+\. /.test(l) && l.includes(`. ${node} `));
      expect(step, node).toContain(
        `nothing by hand: the nodes stack update stops and starts ${node} once (CloudFormation, one server at a time along the DependsOn chain) with user data that no longer carries its config; the running node keeps /etc/rancher/${dist}/config.yaml, the same config as its new SSM parameter, which only a replacement's first boot reads`,
      );
      expect(step).toContain('stopped and started once by the nodes stack (its config moves to its SSM parameter)');
    }
    for (const out of [text, markdown]) {
      expect(out).not.toContain('make the change on the node by hand');
      expect(out).not.toContain('apply the change by hand');
    }
    // The impact table of the review comment says the same for the action (not the replacement's text).
    expect(markdown).toContain(`| **replace** | nothing by hand: the nodes stack update stops and starts ${fixed[0]} once`);
  });

  // The AWS part of the diff (generators/diff/aws-impact.ts) words a fixed instance's changed user data with the
  // distribution's text (Distribution.diff.fixedUserData: rancher/impact.ts rancherFixedUserData), not the generic
  // "takes effect only on a replacement (or by hand)".
  it('the AWS part: a fixed instance whose user data changes is stopped and started, nothing by hand, its config through apply-config.sh', () => {
    const nodes = `${name}/aws/nodes.yaml`;
    const before = new Map(head);
    // The template carries the user data gzip (infra/aws/user-data.ts): the earlier one is its text edited, carried so.
    const boot = `  - - /usr/local/sbin/odp-${dist}-boot`;
    const tpl = parseYamlStream(head.get(nodes)!)[0] as { Resources: Record<string, { Type: string; Properties: { UserData?: unknown } }> };
    const [, server] = Object.entries(tpl.Resources).find(([, r]) => r.Type === 'AWS::EC2::Instance' && r.Properties.UserData !== undefined)!;
    const text = readUserData(server.Properties.UserData)!.text;
    expect(text).toContain(boot);
    server.Properties.UserData = userDataProperty(carryUserData(text.replace(boot, `${boot}-before`), 'gzip'));
    before.set(nodes, toYaml(tpl));
    const out = formatText(diffTrees(before, head, context), { base: 'main', head: 'HEAD' });
    expect(out).toContain(
      `→ CloudFormation stops and starts the instance (the servers one at a time along the DependsOn chain); ${USER_DATA_NOT_RUN_ON_START}. The node keeps /etc/rancher/${dist}/config.yaml, whose changes reach it from its SSM parameter through ${dist}/apply-config.sh; a changed first-boot script or setting takes effect on a replacement only (nodes[].replacement: README "Replacing a lost fixed node"), and the node's ${dist === 'k3s' ? 'K3s' : 'RKE2'} impact says whether anything is to be done on it by hand`,
    );
    expect(out).not.toContain('(or by hand)');
  });
});
