import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogNames } from '../generators/catalog/index.js';
import { CRON_DESCRIPTORS, CRON_FIELDS, cronFields, cronNeverRuns, cronProblem } from '../generators/lib/cron.js';
import { dataKeyProblem, dns1035LabelProblem, dns1123LabelProblem, ingressHostProblem, labelKeyProblem, labelValueProblem } from '../generators/lib/k8s-names.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';

/** Errors of an environment written inline next to the fixtures (extends _fixture). */
function errorsOf(name: string, body: string): string[] {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set(`environments/${name}.yaml`, `# yaml-language-server: $schema=../schemas/environment.schema.json\nname: ${name}\nextends: _fixture\n${body}`);
  const r = prepareEnvironment(name, sources);
  // What validation lets through must render (no internal error after validation).
  if (r.prepared) renderEnvironment(r.prepared);
  return formatted(r).filter((l) => !l.includes(': warning: '));
}

const workload = (extra: string): string => `workloads:\n  - name: portal\n    image: ghcr.io/opendev/portal:1.4.2\n    resources: { requests: { cpu: 100m, memory: 128Mi } }\n${extra}`;

describe('cron schedules (robfig/cron standard parser, as Kubernetes CronJobs take them)', () => {
  it('accepts what Kubernetes accepts', () => {
    for (const s of ['30 2 * * *', '*/15 * * * *', '0 0 * * MON-FRI', '0 9 1 jan,Jul *', '0 0 ? * sun', '5/10 * * * *', '0 0-23/2 * * *', '0 0 1-31/7 * *', '59 23 31 12 6', ...Object.keys(CRON_DESCRIPTORS)])
      expect(cronProblem(s), s).toBeUndefined();
  });

  it('refuses with the field and the range', () => {
    expect(cronProblem('0 0 * * 7')).toStrictEqual({ message: 'day of week 7 is above 6', hint: 'the day of week field takes 0–6; Sunday is 0 (Kubernetes refuses 7)' });
    expect(cronProblem('0 24 * * *')).toStrictEqual({ message: 'hour 24 is above 23', hint: 'the hour field takes 0–23' });
    expect(cronProblem('0 0 0 * *')).toStrictEqual({ message: 'day of month 0 is below 1', hint: 'the day of month field takes 1–31' });
    expect(cronProblem('5-70 * * * *')?.message).toBe("minute 70 is above 59 in '5-70'");
    expect(cronProblem('*/0 * * * *')?.message).toBe("step 0 in '*/0' (minute field): a step must be positive");
    expect(cronProblem('10-5 * * * *')?.message).toBe("range '10-5' runs backwards (10 > 5) in the minute field");
    expect(cronProblem('0 0 * FOO *')?.message).toBe("'FOO' is not a number or a month name in the month field");
    expect(cronProblem('0 0 1,,2 * *')?.message).toBe("empty list element in the day of month field '1,,2'");
    expect(cronProblem('0 30 2 * * *')).toStrictEqual({ message: '6 fields, expected 5', hint: 'Kubernetes CronJobs have no seconds field; five fields: minute hour day-of-month month day-of-week, e.g. "30 2 * * *"' });
    expect(cronProblem('@every 5m')?.message).toBe("'@every 5m' has no five-field form");
    expect(cronProblem('@reboot')?.message).toBe("unknown descriptor '@reboot'");
    expect(cronProblem('CRON_TZ=Europe/Berlin 0 2 * * *')?.message).toBe('a time zone in the schedule is refused by Kubernetes');
  });

  /** One list element of a field, drawn from the grammar with values inside the field's range. */
  const element = (i: number): fc.Arbitrary<string> => {
    const f = CRON_FIELDS[i]!;
    const value = fc.integer({ min: f.min, max: f.max });
    const named = f.names ? fc.constantFrom(...f.names.map((n) => n.toUpperCase()), ...f.names) : value.map(String);
    const range = fc.tuple(value, value).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`);
    const step = fc.integer({ min: 1, max: f.max });
    return fc.oneof(
      fc.constant('*'),
      value.map(String),
      named,
      range,
      fc.tuple(fc.constantFrom('*', String(f.min)), step).map(([a, s]) => `${a}/${s}`),
      fc.tuple(range, step).map(([r, s]) => `${r}/${s}`),
    );
  };
  const field = (i: number): fc.Arbitrary<string> => fc.array(element(i), { minLength: 1, maxLength: 3 }).map((xs) => xs.join(','));
  const schedule = fc.tuple(field(0), field(1), field(2), field(3), field(4));

  it('accepts every schedule the grammar generates, and keeps its five fields', () => {
    fc.assert(
      fc.property(schedule, (fields) => {
        const s = fields.join(' ');
        expect(cronProblem(s)).toBeUndefined();
        expect(cronFields(s)).toStrictEqual(fields);
      }),
    );
  });

  it('refuses a value outside its field, wherever it is', () => {
    fc.assert(
      fc.property(schedule, fc.integer({ min: 0, max: 4 }), fc.boolean(), (fields, i, high) => {
        const f = CRON_FIELDS[i]!;
        if (!high && f.min === 0) return; // nothing below 0 without a minus sign
        const out = [...fields];
        out[i] = String(high ? f.max + 1 : f.min - 1);
        expect(cronProblem(out.join(' '))?.message).toBe(`${f.name} ${out[i]} is ${high ? 'above' : 'below'} ${high ? f.max : f.min}`);
      }),
    );
  });

  it('refuses any other number of fields', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('*', '0', '1'), { minLength: 1, maxLength: 8 }), (fields) => {
        fc.pre(fields.length !== 5);
        expect(cronProblem(fields.join(' '))?.message).toBe(`${fields.length} field${fields.length === 1 ? '' : 's'}, expected 5`);
      }),
    );
  });

  it('knows schedules that never fire', () => {
    expect([cronNeverRuns('0 0 31 2 *'), cronNeverRuns('0 0 30 2,4 *'), cronNeverRuns('0 0 31 2 MON'), cronNeverRuns('0 0 29 2 *')]).toStrictEqual([true, false, false, false]);
  });
});

describe('Kubernetes names', () => {
  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);

  it('DNS labels, subdomains, Ingress hosts', () => {
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), (labels) => {
        const host = labels.join('.');
        fc.pre(host.length <= 253 && !/^[0-9.]+$/.test(host));
        expect(ingressHostProblem(host)).toBeUndefined();
        expect(ingressHostProblem(`*.${host}`)).toBeUndefined();
        expect(ingressHostProblem(`${host}.*`)).toBeDefined();
        expect(ingressHostProblem(host.toUpperCase() === host ? `A${host}` : host.toUpperCase())).toBeDefined();
      }),
    );
    expect(ingressHostProblem('10.0.0.1')).toBe('is an IP address; an Ingress host must be a DNS name');
    const subnets = 'aws: { vpc: { subnets: [{ name: private-a, id: subnet-0a0000000000000a1, cidr: 10.10.1.0/24, zone: eu-west-1a }, { name: private-b, id: subnet-0a0000000000000b1, cidr: 10.10.2.0/24, zone: eu-west-1b }] } }\n';
    expect(errorsOf('alb', subnets + workload('    ports: [{ name: http, port: 8080 }]\n    ingress: { host: portal }\n'))).toStrictEqual([
      expect.stringContaining("workloads[0].ingress.host: host 'portal' has no dot or ends in a label that is not all letters; an ALB host condition needs both"),
    ]);
    expect(dns1123LabelProblem('a'.repeat(64))).toBe('is 64 characters; at most 63');
    expect([dns1035LabelProblem('api'), dns1035LabelProblem('3d')]).toStrictEqual([undefined, "must start with a letter and be lower-case letters, digits and '-', ending with a letter or digit"]);
  });

  it('label keys and values, data keys', () => {
    expect(labelKeyProblem('node.opendev.dev/pool')).toBeUndefined();
    expect(labelKeyProblem(`example.com/${'n'.repeat(64)}`)).toBe('its name part is 64 characters; at most 63');
    expect(labelKeyProblem(`${'p'.repeat(254)}/x`)).toBe(`its prefix '${'p'.repeat(254)}' is 254 characters; at most 253`);
    expect([labelValueProblem(''), labelValueProblem('a_b.c-d'), labelValueProblem('-x')]).toStrictEqual([undefined, undefined, "must be empty, or letters, digits, '-', '_' and '.', starting and ending with a letter or digit"]);
    expect([dataKeyProblem('etc--app.yaml'), dataKeyProblem('..x'), dataKeyProblem('a/b')]).toStrictEqual([undefined, "must not start with '..'", "must be letters, digits, '-', '_' and '.'"]);
  });
});

describe('workload mistakes are refused before rendering (no internal error)', () => {
  it('a workload named like any catalog add-on, enabled or not', () => {
    for (const name of catalogNames()) {
      const errors = errorsOf('addon-name', `workloads:\n  - { name: ${name}, namespace: apps, image: ghcr.io/opendev/x:1.0.0, resources: { requests: { cpu: 10m, memory: 16Mi } } }\n`);
      expect(errors, name).toStrictEqual([expect.stringContaining(`workloads[0].name: '${name}' is the name of a catalog add-on`)]);
    }
  });

  it('a workload in the namespace of an add-on', () => {
    expect(errorsOf('ns', workload('    namespace: monitoring\n'))).toStrictEqual([expect.stringMatching(/^environments\/ns\.yaml:8:16 {2}workloads\[0\]\.namespace: namespace 'monitoring' belongs to add-on kube-prometheus-stack/)]);
  });

  it('ConfigMaps: 1 MiB for Kubernetes, 256 KiB for the last-applied annotation of client-side apply', () => {
    const file = (kib: number): string => `    configFiles: { /etc/portal/big.txt: "${'x'.repeat(kib * 1024)}" }\n`;
    expect(errorsOf('cm', workload(file(200)))).toStrictEqual([]);
    expect(errorsOf('cm', workload(file(300)))).toStrictEqual([
      "environments/cm.yaml:8:5  workloads[0].configFiles: config files total 300 KiB (301 KiB as JSON); Argo CD's client-side apply copies the ConfigMap into its last-applied-configuration annotation, and annotations are limited to 256 KiB  (keep config files under about 250 KiB in total; ship large files in the image or on a volume)",
    ]);
    expect(errorsOf('cm', workload(file(1025)))).toStrictEqual(['environments/cm.yaml:8:5  workloads[0].configFiles: config files total 1025 KiB; Kubernetes refuses a ConfigMap over 1 MiB  (ship large files in the image or on a volume)']);
  });

  it('HPA and PDB bounds', () => {
    expect(errorsOf('hpa', workload('    replicas: 0\n    autoscaling: { maxReplicas: 3 }\n'))).toStrictEqual([expect.stringContaining("workloads[0].replicas: replicas 0 would be the HPA's minReplicas")]);
    expect(errorsOf('hpa', workload('    autoscaling: { minReplicas: 4, maxReplicas: 3 }\n'))).toStrictEqual([expect.stringContaining('workloads[0].autoscaling.minReplicas: minReplicas 4 is above maxReplicas 3')]);
    expect(errorsOf('pdb', workload('    replicas: 1\n    disruptionBudget: { minAvailable: 1 }\n'))).toStrictEqual([expect.stringContaining('minAvailable 1 with 1 replica allows no eviction')]);
    expect(errorsOf('pdb', workload('    disruptionBudget: { maxUnavailable: 0 }\n'))).toStrictEqual([expect.stringContaining('maxUnavailable 0 allows no eviction')]);
    // _fixture has one worker node: a drain of it would wait for ever on the budget; with two nodes it is fine.
    expect(errorsOf('pdb', workload('    replicas: 3\n    disruptionBudget: { minAvailable: 2 }\n'))).toStrictEqual([expect.stringContaining('minAvailable 2 with 3 replicas on one node (pool workers has 1 node')]);
    expect(errorsOf('pdb', workload('    replicas: 3\n    disruptionBudget: { maxUnavailable: 3 }\n'))).toStrictEqual([]);
    const twoNodes = 'nodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 2 }\n';
    expect(errorsOf('pdb', twoNodes + workload('    replicas: 3\n    disruptionBudget: { minAvailable: 2 }\n'))).toStrictEqual([]);
  });

  it('the default budget on one node: a warning with what the distribution does with the blocked drain', () => {
    const warningsOf = (name: string, body: string): string[] => {
      const { sources } = fixtureSources('valid', 'minimal.yaml');
      sources.set(`environments/${name}.yaml`, `# yaml-language-server: $schema=../schemas/environment.schema.json\nname: ${name}\nextends: _fixture\n${body}`);
      return formatted(prepareEnvironment(name, sources)).filter((l) => l.includes('[workload-disruption-budget]') || l.includes('default disruption budget'));
    };
    // _fixture (Talos) has one worker node: 2 replicas get the default maxUnavailable: 1.
    expect(warningsOf('pdbd', workload('    replicas: 2\n'))).toStrictEqual([
      expect.stringMatching(/^environments\/pdbd\.yaml:8:15  workloads\[0\]\.replicas: warning: 2 replicas on one node \(pool workers has 1 node, and the workload may land on no other\) with the default disruption budget \(maxUnavailable: 1\): a drain of that node evicts 1 pod, which stays Pending, and the budget then refuses every other eviction: a config change that needs a reboot and a Talos upgrade both stop after the runbook's 5-minute kubectl drain \(the node is uncordoned, its config not applied, its Talos not upgraded\)/),
    ]);
    const rke2 = 'cluster: { distribution: rke2, talosVersion: null, rke2Version: v1.35.7+rke2r1, kubernetesVersion: 1.35.7, datastore: { type: etcd, backup: { bucket: odp-fixture-etcd } } }\n';
    expect(warningsOf('pdbr', rke2 + workload('    replicas: 2\n'))).toStrictEqual([expect.stringContaining("an upgrade Plan only cordons (no eviction), but removing the node stops at the review's drain (kubectl drain --timeout=5m fails with the node cordoned and the pod still on it)")]);
    // One replica (no default budget), a written budget that lets the drain take them all, two nodes: nothing.
    expect(warningsOf('pdbd', workload('    replicas: 1\n'))).toStrictEqual([]);
    expect(warningsOf('pdbd', workload('    replicas: 2\n    disruptionBudget: { maxUnavailable: 2 }\n'))).toStrictEqual([]);
    const twoNodes = 'nodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 2 }\n';
    expect(warningsOf('pdbd', twoNodes + workload('    replicas: 2\n'))).toStrictEqual([]);
  });

  it('mounts and the paths the generator owns', () => {
    const irsa = 'aws: { iam: { mode: irsa, issuerURL: https://oidc.fixture.example.com } }\n';
    const sa = '    serviceAccount: { iamRoleArn: arn:aws:iam::111111111111:role/portal }\n';
    expect(errorsOf('m', irsa + workload(sa + '    configFiles: { /var/run/secrets/eks.amazonaws.com/serviceaccount/extra: x }\n'))).toStrictEqual([
      expect.stringContaining('lies inside the IRSA web-identity token at /var/run/secrets/eks.amazonaws.com/serviceaccount, which is read-only'),
    ]);
    expect(errorsOf('m', workload('    configFiles: { /etc/app: x, /etc/app/y.yaml: y }\n'))).toStrictEqual([expect.stringContaining('config file /etc/app/y.yaml lies inside config file /etc/app, which is a file')]);
    expect(errorsOf('m', workload('    configFiles: { /etc/../app.yaml: x }\n'))).toStrictEqual([expect.stringContaining("config file /etc/../app.yaml: '/etc/../app.yaml' is not a plain absolute path")]);
    expect(errorsOf('m', workload('    configFiles: { /tmp/app.yaml: x, /etc/a/b.yaml: y, /etc/a/c.yaml: z }\n'))).toStrictEqual([]);
  });
});

describe('workload-volume-zone: a StatefulSet volume on a pool with fewer nodes than zones', () => {
  const vpc = `aws:
  vpc:
    subnets:
      - { name: private-a, id: subnet-0f1a000000000000a, cidr: 10.10.1.0/24, zone: eu-west-1a }
      - { name: private-b, id: subnet-0f1a000000000000b, cidr: 10.10.2.0/24, zone: eu-west-1b }
`;
  const pools = (workers: string, extra = ''): string => `nodePools:
  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, ${workers} }
${extra}`;
  const sts = `workloads:
  - name: ledger
    kind: statefulset
    image: ghcr.io/opendev/ledger:2.3.1
    ports: [{ name: sql, port: 5432 }]
    resources: { requests: { cpu: 250m, memory: 512Mi } }
    volumes: [{ name: data, mountPath: /var/lib/ledger, size: 20Gi }]
`;
  const zoneErrors = (body: string): string[] => errorsOf('zones', body).filter((l) => l.includes('workloads[0].volumes'));

  it('refuses count 1 spread over two zones, and accepts a pool pinned to a subnet or with a node per zone', () => {
    expect(zoneErrors(`${vpc}${pools('count: 1')}${sts}`)).toHaveLength(1);
    expect(zoneErrors(`${vpc}${pools('count: 1')}${sts}`)[0]).toContain("pool 'workers' (count 1, no subnet: spans 2 zones, eu-west-1a, eu-west-1b)");
    expect(zoneErrors(`${vpc}${pools('count: 1, subnet: private-b')}${sts}`)).toStrictEqual([]);
    expect(zoneErrors(`${vpc}${pools('count: 2')}${sts}`)).toStrictEqual([]);
    // A Deployment has no volumes; one zone only spans nothing.
    expect(zoneErrors(`${pools('count: 1')}${sts}`)).toStrictEqual([]);
  });

  it('accepts it when another pool the pods may land on keeps a node in every zone', () => {
    const fixed = '  - { name: fixed, role: worker, arch: amd64, instanceType: m7i.xlarge, nodes: [{ name: f-a, ip: 10.10.1.20, subnet: private-a }, { name: f-b, ip: 10.10.2.20, subnet: private-b }] }\n';
    expect(zoneErrors(`${vpc}${pools('count: 1', fixed)}${sts}`)).toStrictEqual([]);
  });

  it('turns into a warning that stays printed when acknowledged', () => {
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    const ack = "acknowledge:\n  - { rule: workload-volume-zone, path: 'workloads[0].volumes', reason: scratch cluster }\n";
    sources.set('environments/ackzone.yaml', `name: ackzone\nextends: _fixture\n${ack}${vpc}${pools('count: 1')}${sts}`);
    const r = prepareEnvironment('ackzone', sources);
    const zone = r.diagnostics.filter((d) => d.rule === 'workload-volume-zone');
    expect(zone.map((d) => [d.severity, d.loud])).toStrictEqual([['warning', true]]);
    expect(zone[0]!.message).toMatch(/; acknowledged: scratch cluster$/);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
  });

  it('the default StorageClass binds on the first consumer (else the volume is made in a zone of its own choosing)', async () => {
    const { awsEbsCsiDriver } = await import('../generators/catalog/aws-ebs-csi-driver.js');
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    const model = prepareEnvironment('minimal', sources).prepared!.model;
    const objs = awsEbsCsiDriver.manifests!({ model, settings: {} } as never);
    expect(objs.map((o) => [o.kind, (o as { volumeBindingMode?: string }).volumeBindingMode])).toStrictEqual([['StorageClass', 'WaitForFirstConsumer']]);
  });
});

describe('workload-gpu-pool reads the GPUs per node from the instance table', () => {
  const env = (gpu: number): string => `nodePools:
  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
  - { name: gpu, role: worker, arch: amd64, instanceType: g6.12xlarge, subnet: private-a, count: 1, gpu: { vendor: nvidia }, taints: [{ key: nvidia.com/gpu, value: present, effect: NoSchedule }] }
addons:
  nvidia-device-plugin: { enabled: true }
${workload(`    placement: { gpu: ${gpu} }\n`)}`;

  it('accepts 2 GPUs per pod on a 4-GPU type without perNode (it was taken for 1), and refuses 5 with the table count', () => {
    expect(errorsOf('gpu4', env(2)).filter((l) => l.includes('placement.gpu'))).toStrictEqual([]);
    expect(errorsOf('gpu4', env(5)).filter((l) => l.includes('placement.gpu'))).toStrictEqual([
      'environments/gpu4.yaml:14:23  workloads[0].placement.gpu: 5 GPUs per pod, but GPU nodes here have at most 4 (pool gpu: g6.12xlarge, 4 GPUs), and a pod cannot span nodes  (set placement.gpu: 4, or move pool gpu to g6.48xlarge (8 L4 GPUs, instance table))',
    ]);
  });
});
