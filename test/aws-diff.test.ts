/**
 * `npm run diff` on the AWS layer: per resource added, removed, modified or replaced, from the
 * specification's update behaviour of each changed property, with the consequence in words; a
 * changed instance type says which nodes stop and start and which pools are refreshed.
 */
import { describe, expect, it } from 'vitest';
import { awsImpacts } from '../generators/diff/aws-impact.js';
import { diffTrees } from '../generators/diff/diff.js';
import { formatJson, formatMarkdown, formatText } from '../generators/diff/format.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { envContext } from '../generators/diff/sources.js';
import { CONTROL_PLANES_DOWN } from '../generators/diff/aws-impact.js';
import { USER_DATA_NOT_RUN_ON_START } from '../generators/infra/aws/instance-updates.js';
import type { EnvironmentModel } from '../generators/model/types.js';
import { exampleSources, fixtureSources } from './helpers.js';

const ctx = { base: 'main', head: 'working tree' };

function render(env: string, sources: Map<string, string>): Map<string, string> {
  return renderWithModel(env, sources).files;
}

function renderWithModel(env: string, sources: Map<string, string>): { files: Map<string, string>; model: EnvironmentModel } {
  const r = prepareEnvironment(env, sources);
  if (!r.prepared) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return { files: new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content])), model: r.prepared.model };
}

function edited(env: string, edit: (text: string) => string, lock?: (l: Record<string, any>) => void): { base: Map<string, string>; head: Map<string, string> } {
  const sources = exampleSources();
  const base = render(env, sources);
  const next = new Map(sources);
  const file = `environments/${env}.yaml`;
  const text = edit(sources.get(file)!);
  next.set(file, text);
  if (lock) {
    const l = JSON.parse(sources.get(`environments/${env}.ssm.lock.json`)!);
    lock(l);
    next.set(`environments/${env}.ssm.lock.json`, JSON.stringify(l));
  }
  return { base, head: render(env, next) };
}

const prefixed = (env: string, m: Map<string, string>) => new Map([...m].map(([k, v]) => [`${env}/${k}`, v]));

describe('AWS impact of a changed instance type', () => {
  const { base, head } = edited('prod', (t) => t.replace('instanceType: m7g.2xlarge', 'instanceType: m7g.4xlarge').replace('instanceType: m7i.xlarge', 'instanceType: m7i.2xlarge'));
  // The words for control planes down together are the distribution's (its datastore's: Talos runs etcd on each).
  const prod = renderWithModel('prod', exampleSources()).model;
  const impacts = awsImpacts(base, head, envContext(prod).controlPlanesDown);

  it('a pool: its launch template gets a new version, which refreshes the pool’s nodes', () => {
    const lt = impacts.find((i) => i.logicalId === 'PoolGeneralArm64LaunchTemplate')!;
    expect(lt).toMatchObject({ type: 'AWS::EC2::LaunchTemplate', name: 'odp-prod-general-arm64', change: 'modified', properties: [{ path: 'LaunchTemplateData.InstanceType', replacement: 'no', old: 'm7g.2xlarge', new: 'm7g.4xlarge' }] });
    expect(lt.consequence).toBe(
      "launch template version (LaunchTemplateData.InstanceType (m7g.2xlarge → m7g.4xlarge)) → instance refresh of pool general-arm64, 2 nodes, one instance at a time (each replaced by a new instance from the new version); a failed refresh fails the stack update, which rolls back to the previous version: the instances already replaced may stay on the new one (a split pool; aws autoscaling describe-auto-scaling-instances shows each one's LaunchTemplate.Version) until aws/deploy.sh roll-pool general-arm64 replaces them",
    );
  });

  it('fixed nodes: instance type is “maybe” in the specification — stop and start (EBS-backed), replacement when incompatible; three control planes at once are flagged', () => {
    const cps = impacts.filter((i) => i.type === 'AWS::EC2::Instance');
    expect(cps.map((i) => i.name)).toStrictEqual(['prod-cp-1', 'prod-cp-2', 'prod-cp-3']);
    for (const i of cps) {
      expect(i.properties).toStrictEqual([{ path: 'InstanceType', replacement: 'maybe', old: 'm7i.xlarge', new: 'm7i.2xlarge' }]);
      expect(i.consequence).toContain(`InstanceType of ${i.name} (m7i.xlarge → m7i.2xlarge) → CloudFormation stops the instance, changes the type and starts it (EBS-backed; same disk and address); it replaces the instance when the types are incompatible`);
      // Each one's type is its own parameter (deploy.sh node-update): said instead of the chain's words.
      expect(i.consequence).toContain(`undrained, and the next one along the chain as soon as this instance runs again: deploy.sh nodes refuses this update, run aws/deploy.sh node-update ${i.name} first (drained, alone in its stack update, Ready again before the next node), then the merge stops nothing`);
      expect(i.consequence).toContain('a slow start still overlaps the next stop: etcd loses its quorum once they are half of its members or more, and the API goes with it) — unless aws/deploy.sh node-update changed each one first');
      expect(i.fixedNode).toStrictEqual({ stops: ['InstanceType'], type: { from: 'm7i.xlarge', to: 'm7i.2xlarge' }, replaced: false, controlPlane: true });
    }
    expect(impacts.length).toBe(4);
  });

  it('text, markdown and json carry it', () => {
    const d = diffTrees(prefixed('prod', base), prefixed('prod', head), new Map([['prod', envContext(prod)]]));
    const text = formatText(d, ctx);
    expect(text).toContain("one after another (the control planes' DependsOn chain)");
    expect(text).toMatch(/\n  prod: 0 added, 0 removed, 4 changed, 0 moved; \d+ field changes; AWS: 4 modified\n/);
    expect(text).toContain('AWS impact: 4 modified\n  ~ AWS::EC2::Instance NodeProdCp1 (prod-cp-1): modified  [aws/nodes.yaml]\n      InstanceType of prod-cp-1');
    expect(text).toContain('  ~ AWS::EC2::LaunchTemplate PoolGeneralArm64LaunchTemplate (odp-prod-general-arm64): modified  [aws/nodes.yaml]\n      launch template version');
    const md = formatMarkdown(d, ctx);
    expect(md).toContain('**AWS impact** (4 modified)');
    expect(md).toContain('| `PoolGeneralArm64LaunchTemplate` `odp-prod-general-arm64`<br><sub>AWS::EC2::LaunchTemplate</sub> | **modified** | launch template version');
    const json = JSON.parse(formatJson(d, ctx));
    expect(json.envs[0].aws.map((a: { logicalId: string; change: string }) => `${a.logicalId}:${a.change}`)).toStrictEqual(['NodeProdCp1:modified', 'NodeProdCp2:modified', 'NodeProdCp3:modified', 'PoolGeneralArm64LaunchTemplate:modified']);
  });
});

describe('AWS impact of control planes changed together, in the words of the datastore', () => {
  // Three servers' instance type changed in one merge: CloudFormation stops and starts them in parallel.
  const together = (fixture: string) => {
    const { name, sources } = fixtureSources('valid', `${fixture}.yaml`);
    const file = `environments/${name}.yaml`;
    const base = render(name, sources);
    const head = renderWithModel(name, new Map([...sources, [file, sources.get(file)!.replace(/(role: controlplane\n(?:.*\n)*?\s+instanceType: )m7i\.large/, '$1m7i.xlarge')]]));
    expect(head.files).not.toStrictEqual(base);
    const d = diffTrees(prefixed(name, base), prefixed(name, head.files), new Map([[name, envContext(head.model)]]));
    return (d.envs[0]!.aws ?? []).filter((i) => i.type === 'AWS::EC2::Instance');
  };

  it('Kine on PostgreSQL: only the API goes (the database is outside the cluster, no quorum among the servers), never "etcd"', () => {
    for (const fixture of ['k3s-postgres', 'rke2-postgres']) {
      const servers = together(fixture);
      expect(servers.map((i) => i.name), fixture).toStrictEqual(['cp-1', 'cp-2', 'cp-3']);
      for (const i of servers) {
        expect(i.consequence).toContain("with 2 other control planes in the same update: CloudFormation updates them one after another (the control planes' DependsOn chain), the next once the previous one's instance update is done, not once its node is back in the cluster (a slow start still overlaps the next stop: the API, until one of them is back; the datastore, PostgreSQL outside the cluster, has no quorum among them to lose) — unless aws/deploy.sh node-update changed each one first");
        expect(i.consequence).not.toContain('etcd');
      }
    }
  });

  it('embedded etcd (RKE2): its quorum', () => {
    const servers = together('rke2-etcd');
    expect(servers.length).toBe(3);
    for (const i of servers) expect(i.consequence).toContain('a slow start still overlaps the next stop: etcd loses its quorum once they are half of its members or more, and the API goes with it)');
  });

  it('Kine SQLite has one server (no two down together): its words name it; without a context the words hold for any datastore', () => {
    const { name, sources } = fixtureSources('valid', 'k3s-litestream.yaml');
    expect(envContext(renderWithModel(name, sources).model).controlPlanesDown).toBe('the API and the datastore, SQLite on the single server');
    expect(CONTROL_PLANES_DOWN).not.toContain('etcd');
  });
});

describe('AWS impact of images and replacements', () => {
  it('a new class image refreshes the pools of that class; the fixed nodes keep theirs; a node whose pin changes is replaced', () => {
    const { base, head } = edited(
      'prod',
      (t) => t,
      (l) => {
        const p = Object.keys(l.parameters).find((k) => k.includes('/amd64/3765'))!;
        l.parameters[p].value = 'ami-0123456789abcdef0';
        l.nodeImages['prod-cp-2'] = 'ami-0123456789abcdef0';
      },
    );
    const impacts = awsImpacts(base, head);
    const before = JSON.parse(exampleSources().get('environments/prod.ssm.lock.json')!).nodeImages['prod-cp-1'];
    expect(impacts.map((i) => `${i.logicalId}:${i.change}`)).toStrictEqual(['NodeProdCp2:replaced', 'PoolGeneralAmd64LaunchTemplate:modified']);
    expect(impacts[0]!.consequence).toBe(
      "ImageId of prod-cp-2 → replacement: a new instance (new root disk; the node must rejoin); the new instance takes the same address 10.30.2.10, which EC2 refuses while the old instance holds it (CloudFormation creates the replacement first: the update fails and rolls back): run aws/deploy.sh terminate-node prod-cp-2 and the distribution's cluster side (the README's replacement step) before merging",
    );
    expect(impacts[1]!.consequence).toMatch(new RegExp(`^${`launch template version (LaunchTemplateData.ImageId (${before} → ami-0123456789abcdef0)) → instance refresh of pool general-amd64, 2 nodes, one instance at a time (each replaced by a new instance from the new version); a failed refresh`.replace(/[().]/g, '\\$&')}`));
  });

  it('a new pool, a removed node and a renamed bucket: added, removed, replaced (the old bucket retained)', () => {
    const { base, head } = edited('dev-k3s', (t) =>
      t
        .replace(/\n  - name: general-arm64\n/, '\n  - name: batch\n    role: worker\n    arch: amd64\n    instanceType: m7i.large\n    subnet: private-a\n    count: 1\n  - name: general-arm64\n')
        .replace('bucket: { ssm: /odp/dev-k3s/litestream/bucket }', 'bucket: odp-dev-k3s-litestream-2'),
    );
    const impacts = awsImpacts(base, head);
    const by = (id: string) => impacts.find((i) => i.logicalId === id);
    expect(by('PoolBatchLaunchTemplate')).toMatchObject({ change: 'added', consequence: 'new AWS::EC2::LaunchTemplate odp-dev-k3s-batch' });
    expect(by('PoolBatchGroup')).toMatchObject({ change: 'added' });
    expect(by('BucketOdpDevK3sLitestream')).toMatchObject({ change: 'removed', consequence: 'AWS::S3::Bucket odp-dev-k3s-litestream is deleted from the stack (retained in AWS: DeletionPolicy RetainExceptOnCreate)' });
    expect(by('BucketOdpDevK3sLitestream2')).toMatchObject({ change: 'added' });
  });

  // A removed control plane's instance carries termination protection: the update's cleanup would skip it
  // (infra/aws/termination.ts), so the review says to terminate it first; a removed worker's instance is just deleted.
  it('a removed fixed control plane: run terminate-node first (its termination protection); a removed fixed worker: deleted', () => {
    const { base, head } = edited('prod', (t) => t.replace('{ name: prod-cp-3, ip: 10.30.3.10, subnet: private-c }', '{ name: prod-cp-4, ip: 10.30.3.11, subnet: private-c }').replace('      - { name: prod-gpu-1, ip: 10.30.3.50 }\n', '      - { name: prod-gpu-2, ip: 10.30.3.51 }\n'));
    const impacts = awsImpacts(base, head);
    const cp = impacts.find((i) => i.name === 'prod-cp-3' && i.type === 'AWS::EC2::Instance')!;
    expect(cp).toMatchObject({ change: 'removed' });
    expect(cp.consequence).toBe("AWS::EC2::Instance prod-cp-3 is deleted — but it carries termination protection (DisableApiTermination), which the update's cleanup cannot get past: it would skip the instance, end UPDATE_COMPLETE and leave it on its fixed address with its disk. run aws/deploy.sh terminate-node prod-cp-3 first, before merging");
    const worker = impacts.find((i) => i.name === 'prod-gpu-1' && i.type === 'AWS::EC2::Instance')!;
    expect(worker).toMatchObject({ change: 'removed', consequence: 'AWS::EC2::Instance prod-gpu-1 is deleted' });
  });

  it('no template change, no AWS impact (and the specification is not needed)', () => {
    const { base, head } = edited('prod', (t) => t.replace('replicas: 4\n    placement: { arch: arm64 }', 'replicas: 5\n    placement: { arch: arm64 }'));
    expect(base).not.toStrictEqual(head);
    expect(awsImpacts(base, head)).toStrictEqual([]);
  });
});

describe('AWS impact of moving the AWS controllers (aws.iam.controllersPool)', () => {
  // prod (Talos) runs them on the control planes; naming general-arm64 moves them and their hop limit 2 there.
  // Its acknowledgement of node-exporter on the control planes' role (rule host-network-role) then matches nothing: dropped.
  const { base, head } = edited('prod', (t) => t.replace(/\naws:\n/, '\naws:\n  iam: { controllersPool: general-arm64 }\n').replace(/\n# node-exporter runs on the control planes'[^]*$/, '\n'));
  const impacts = awsImpacts(base, head);

  it('the named pool rolls (hop limit 1 → 2 and its own instance profile); the control planes keep 2 (etcd backup): no instance changes', () => {
    const lt = impacts.find((i) => i.logicalId === 'PoolGeneralArm64LaunchTemplate')!;
    expect(lt.properties.map((p) => [p.path, p.old, p.new])).toContainEqual(['LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit', 1, 2]);
    expect(lt.consequence).toMatch(/→ instance refresh of pool general-arm64, 2 nodes/);
    expect(impacts.filter((i) => i.type === 'AWS::EC2::Instance')).toStrictEqual([]);
    // The controllers' statements leave the control-plane role for the pool's own role.
    expect(impacts.filter((i) => i.type === 'AWS::IAM::ManagedPolicy').map((i) => `${i.name}:${i.change}`)).toEqual(
      expect.arrayContaining(['odp-prod-controlplane-ebs-csi:removed', 'odp-prod-controllers-ebs-csi:added']),
    );
  });

  it('the review comment leads with the roll', () => {
    const md = formatMarkdown(diffTrees(prefixed('prod', base), prefixed('prod', head)), ctx);
    const lead = md.slice(0, md.indexOf('#### Environments'));
    expect(lead).toContain('**AWS resources replaced or rolled**');
    expect(lead).toMatch(/`PoolGeneralArm64LaunchTemplate` \(AWS::EC2::LaunchTemplate\) \*\*modified\*\*: launch template version \([^\n]*HttpPutResponseHopLimit \(1 → 2\)[^\n]*→ instance refresh of pool general-arm64, 2 nodes/);
  });
});

describe('AWS impact of a fixed node’s changed user data', () => {
  // A changed Litestream prefix changes the kine-sqlite server's user data (its litestream.yml).
  const { name, sources } = fixtureSources('valid', 'k3s-litestream.yaml');
  const file = `environments/${name}.yaml`;
  const base = render(name, sources);
  const head = render(name, new Map([...sources, [file, sources.get(file)!.replace('prefix: k3s/fixture }', 'prefix: k3s/fixture-v2 }')]]));

  it('says what CloudFormation does with it (stop and start; the new user data does not run), for the decoded user data (UserData.content)', () => {
    const server = awsImpacts(base, head).find((i) => i.logicalId === 'NodeServer1');
    expect(server?.change).toBe('modified');
    expect(server?.properties.map((p) => [p.path, p.replacement])).toStrictEqual([['UserData.content', 'maybe']]);
    // The change in the script's lines (the prefix, twice in the settings), not a base64 blob's first characters.
    expect(server?.consequence).toContain('UserData.content of server-1 (decoded: 2 line(s) added, 2 removed)');
    // The one wording (USER_DATA_NOT_RUN_ON_START), with the generic text's own advice.
    expect(server?.consequence).toContain(`→ CloudFormation stops and starts the instance; ${USER_DATA_NOT_RUN_ON_START} (or the change is made on the node by hand)`);
    expect(server?.consequence).not.toContain('it depends on the values');
    // Said first in the review comment: a fixed node stopped, with no step of its own.
    expect(server?.fixedNode).toStrictEqual({ stops: ['UserData'], replaced: false, controlPlane: true });
    const d = diffTrees(prefixed(name, base), prefixed(name, head), new Map());
    const lead = formatText(d, ctx);
    expect(lead.indexOf('Fixed nodes this merge stops or replaces')).toBeGreaterThan(-1);
    expect(lead.indexOf('Fixed nodes this merge stops or replaces')).toBeLessThan(lead.indexOf('AWS resources replaced or rolled'));
    expect(lead).toContain(`server-1 (control plane) — stopped for its user data: ${USER_DATA_NOT_RUN_ON_START}; no step changes it alone: drain the node before the update (kubectl drain), uncordon it after`);
  });

  it('the review comment and deploy.sh nodes say the same: the new user data does not run on that start (EC2 runs it at launch only)', () => {
    expect(USER_DATA_NOT_RUN_ON_START).toBe('the new user data does not run on that start (EC2 runs user data at launch only): the stop and start is for nothing unless the node is replaced, and a replacement instance boots with it');
    const d = diffTrees(prefixed(name, base), prefixed(name, head), new Map());
    const fixed = (text: string) => text.split('\n').filter((l) => l.includes('server-1') && l.includes('for its user data'));
    expect(fixed(formatMarkdown(d, ctx))).toStrictEqual([`- \`server-1\` (control plane) — **stopped** for its user data: ${USER_DATA_NOT_RUN_ON_START}; no step changes it alone: drain the node before the update (kubectl drain), uncordon it after`]);
    // Compact (a comment near its limit): the sentence stays, the step goes to the environment's details.
    const compact = fixed(formatMarkdown(d, ctx, 1)).join('\n');
    expect(compact).toContain(`**stopped** for its user data: ${USER_DATA_NOT_RUN_ON_START}`);
    expect(compact).not.toContain('no step changes it alone');
    const script = head.get('aws/deploy.sh')!;
    expect(script).toContain(`the next such node as soon as this instance runs again; ${USER_DATA_NOT_RUN_ON_START}. Drain it first:`);
  });
});

describe('AWS impact of a fixed node’s type moved into its parameter (the first merge of the type parameters)', () => {
  it('the same value from a parameter stops nothing, is said so, and is no fixed node stopped', () => {
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const head = render(name, sources);
    // The template as rendered before: each fixed node's type a literal, no type parameters in the deployment file.
    const literal = head.get('aws/nodes.yaml')!.replace(/InstanceType:\n        Ref: Node\w+InstanceType/g, 'InstanceType: m7i.large');
    const base = new Map([...head, ['aws/nodes.yaml', literal], ['aws/nodes.deployment.yaml', head.get('aws/nodes.deployment.yaml')!.replace(/\n  Node\w+InstanceType: \S+/g, '')]]);
    expect(literal).not.toBe(head.get('aws/nodes.yaml'));
    const cps = awsImpacts(base, head).filter((i) => i.type === 'AWS::EC2::Instance');
    expect(cps.map((i) => i.name)).toStrictEqual(['cp-1', 'cp-2', 'cp-3']);
    for (const i of cps) {
      expect(i.properties).toStrictEqual([{ path: 'InstanceType', replacement: 'no', old: 'm7i.large', new: { Ref: `Node${i.name === 'cp-1' ? 'Cp1' : i.name === 'cp-2' ? 'Cp2' : 'Cp3'}InstanceType`, value: 'm7i.large' } }]);
      expect(i.consequence).toContain(`InstanceType of ${i.name}: the same value m7i.large, now from the stack parameter`);
      expect(i.consequence).toContain('no stop is expected (not verified against an AWS text');
      expect(i.consequence).not.toContain('other control planes');
      expect(i.fixedNode).toBeUndefined();
    }
    // The review comment's "Not applied by GitOps" list calls out no instance type (before: "m7i.large → [object Object]").
    const md = formatMarkdown(diffTrees(prefixed(name, base), prefixed(name, head)), ctx);
    expect(md).not.toContain('[object Object]');
    expect(md).not.toMatch(/instance type of cp-\d/);
  });

  it('a new type read through its parameter is called out with both values', () => {
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const base = render(name, sources);
    const deployment = base.get('aws/nodes.deployment.yaml')!;
    const key = /\n  (NodeCp1InstanceType): (\S+)/.exec(deployment)!;
    const head = new Map([...base, ['aws/nodes.deployment.yaml', deployment.replace(key[0], `\n  ${key[1]}: m7i.2xlarge`)]]);
    const md = formatMarkdown(diffTrees(prefixed(name, base), prefixed(name, head)), ctx);
    expect(md).not.toContain('[object Object]');
    expect(md).toContain(`instance type of cp-1: ${key[2]} → m7i.2xlarge`);
  });
});

describe('AWS impact of a raised nodes[].replacement', () => {
  const { base, head } = edited('prod', (t) => t.replace('{ name: prod-cp-1, ip: 10.30.1.10, subnet: private-a }', '{ name: prod-cp-1, ip: 10.30.1.10, subnet: private-a, replacement: 1 }'));
  const impacts = awsImpacts(base, head);

  it('one replacement of the node under its new logical id (not an instance added and one deleted), telling to terminate the old one first', () => {
    // The next control plane's DependsOn follows the new id (its update order only: nothing happens to it).
    expect(impacts.map((i) => [i.logicalId, i.change])).toStrictEqual([['NodeProdCp1R1', 'replaced'], ['NodeProdCp2', 'modified']]);
    expect(impacts[1]!.consequence).toBe('prod-cp-2: update order only (DependsOn (["NodeProdCp1"] → ["NodeProdCp1R1"])): no property changes, nothing happens to it');
    const [i] = impacts;
    expect(i!.properties).toStrictEqual([{ path: '(logical id)', replacement: 'yes', old: 'NodeProdCp1', new: 'NodeProdCp1R1' }]);
    expect(i!.consequence).toContain('node prod-cp-1: replacement');
    expect(i!.consequence).toContain('then the old resource NodeProdCp1 is deleted');
    expect(i!.consequence).toContain('run aws/deploy.sh terminate-node prod-cp-1 before merging');
  });
});

describe('AWS impact of what every control plane shares', () => {
  const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
  const base = render(name, sources);
  const withNodes = (f: (t: string) => string) => new Map([...base, ['aws/nodes.yaml', f(base.get('aws/nodes.yaml')!)]]);

  it('a larger root volume replaces every instance (BlockDeviceMappings: only DeleteOnTermination changes in place), each refused its address while the old one holds it', () => {
    const head = withNodes((t) => t.replaceAll('VolumeSize: 100', 'VolumeSize: 200'));
    const cps = awsImpacts(base, head).filter((i) => i.type === 'AWS::EC2::Instance');
    expect(cps.map((i) => [i.name, i.change])).toStrictEqual([['cp-1', 'replaced'], ['cp-2', 'replaced'], ['cp-3', 'replaced']]);
    for (const i of cps) {
      expect(i.properties).toStrictEqual([{ path: 'BlockDeviceMappings[0].Ebs.VolumeSize', replacement: 'yes', old: 100, new: 200 }]);
      expect(i.consequence).toContain(`run aws/deploy.sh terminate-node ${i.name} and the distribution's cluster side`);
    }
    const kept = awsImpacts(base, withNodes((t) => t.replaceAll('DeleteOnTermination: true', 'DeleteOnTermination: false'))).filter((i) => i.type === 'AWS::EC2::Instance');
    expect(kept.map((i) => [i.name, i.change, i.properties[0]!.replacement])).toStrictEqual([['cp-1', 'modified', 'no'], ['cp-2', 'modified', 'no'], ['cp-3', 'modified', 'no']]);
  });

  it('without the DependsOn chain (a template rendered before it), the control planes are said to go down together', () => {
    const unchained = (m: Map<string, string>) => new Map([...m, ['aws/nodes.yaml', m.get('aws/nodes.yaml')!.replace(/\n    DependsOn:\n(      - \S+\n)+/g, '\n')]]);
    // A root volume every control plane shares (a fixed node's type is node-update's: its own parameter, one node at a time).
    const head = withNodes((t) => t.replaceAll('VolumeSize: 100', 'VolumeSize: 200'));
    expect(head.get('aws/nodes.yaml')).toContain('DependsOn:');
    expect(unchained(head).get('aws/nodes.yaml')).not.toContain('DependsOn');
    const cps = awsImpacts(unchained(base), unchained(head)).filter((i) => i.type === 'AWS::EC2::Instance');
    expect(cps.length).toBe(3);
    for (const i of cps) expect(i.consequence).toContain('which CloudFormation runs in parallel: they go down together (the API, and the datastore when it runs on them) — change one control plane per merge');
  });
});

describe('AWS impact of a replaced resource behind an imported export', () => {
  const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
  const base = render(name, sources);

  it('a node security group replaced (its GroupDescription is "Update requires: Replacement") changes the export the nodes stack imports: the update fails', () => {
    const head = new Map([...base, ['aws/base.yaml', base.get('aws/base.yaml')!.replace(/(GroupDescription: \S+ control-plane nodes: )/, '$1(edited) ')]]);
    const sg = awsImpacts(base, head).find((i) => i.logicalId === 'ControlPlaneSecurityGroup')!;
    expect(sg.change).toBe('replaced');
    expect(sg.consequence).toContain('its export fixture:ControlPlaneSecurityGroupId changes value while aws/nodes.yaml imports it, which CloudFormation refuses: this stack\'s update fails and rolls back');
    // A replaced resource no other stack imports says nothing of it.
    const bucket = awsImpacts(base, new Map([...base, ['aws/base.yaml', base.get('aws/base.yaml')!.replace(/BucketName: (\S+)/, 'BucketName: $1-2')]])).filter((i) => i.change === 'replaced');
    expect(bucket.length).toBeGreaterThan(0);
    for (const i of bucket) expect(i.consequence).not.toContain('its export');
  });
});

describe('AWS impact of a pool moved to another subnet, and of the roll itself', () => {
  it('the group says its running instances are not moved by the refresh, and names roll-pool (no launch template change)', () => {
    const { base, head } = edited('prod', (t) => t.replace(/(name: general-amd64[\s\S]*?subnet: )private-a/, '$1private-c'));
    const impacts = awsImpacts(base, head);
    expect(impacts.map((i) => `${i.logicalId}:${i.change}`)).toStrictEqual(['PoolGeneralAmd64Group:modified']);
    expect(impacts[0]!.properties.map((p) => p.path)).toStrictEqual(['VPCZoneIdentifier']);
    expect(impacts[0]!.consequence).toMatch(/^odp-prod-general-amd64: subnets \(.+ → .+\): instances launched from now on go to the new subnets; the running ones in a removed subnet are not moved by the one-at-a-time instance refresh \(a subnet change does not start one\)/);
    expect(impacts[0]!.consequence).toContain('run aws/deploy.sh roll-pool general-amd64 to move every instance one at a time');
  });

  it('the first merge of the bounded roll: only the update policy changes (no instance), said to roll in smaller batches from then on', () => {
    const head = render('prod', exampleSources());
    const base = new Map(head);
    base.set('aws/nodes.yaml', head.get('aws/nodes.yaml')!.replace(/MaxHealthyPercentage: 150/g, 'MaxHealthyPercentage: 200'));
    const impacts = awsImpacts(base, head);
    expect(impacts.map((i) => `${i.logicalId}:${i.change}`)).toStrictEqual(['PoolGeneralAmd64Group:modified', 'PoolGeneralArm64Group:modified']);
    expect(impacts[0]!.consequence).toBe("odp-prod-general-amd64: the instance refresh's maximum healthy percentage 200 → 150 %: no instance changes now; the next launch template change rolls it in smaller batches");
  });
});
