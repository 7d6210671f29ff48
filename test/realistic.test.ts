/**
 * Must-show: a realistic environment (test/fixtures/realistic/frankfurt.yaml: eu-central-1, three
 * Talos 1.13 control planes, amd64 + Graviton + NVIDIA GPU pools, Cilium, IRSA, every catalog
 * add-on, two third-party charts, two dozen workloads) beside the frozen copies of the example
 * environments (test/fixtures/examples):
 * synth and validate pass; then each mistake of the table, made in it, is refused at its exact
 * position with its message, and rendered/ and the locks stay byte-identical. A new rule adds a row.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as synth } from '../generators/cli/synth.js';
import { main as validate } from '../generators/cli/validate.js';
import { formatDiagnostic, type Diagnostic } from '../generators/validate/diagnostics.js';
import { listFiles } from '../generators/write/writer.js';
import { FIXTURES, ROOT } from './helpers.js';

const ENV = 'environments/frankfurt.yaml';
const LOCK = 'environments/frankfurt.ssm.lock.json';
const deps = { ssmClient: () => { throw new Error('synth must not talk to SSM'); }, checkAccount: false, stdout: () => {} };

interface Mistake {
  rule: string;
  /** What the user got wrong. */
  what: string;
  file?: typeof ENV | typeof LOCK;
  edit: (text: string) => string;
  /** The start of the diagnostic synth must print (file:line:col  path: message  (hint)). */
  expect: string;
}

/** `from` must occur in the text: a row whose edit does nothing would pass for the wrong reason. */
const replace = (from: string, to: string) => (t: string): string => {
  if (!t.includes(from)) throw new Error(`the fixture has no ${JSON.stringify(from)}`);
  return t.replace(from, to);
};

const MISTAKES: Mistake[] = [
  // YAML and the lock
  { rule: 'yaml.duplicate-key', what: 'a key given twice', edit: replace('  plannedPods: 300\n', '  plannedPods: 300\n  plannedPods: 400\n'), expect: 'environments/frankfurt.yaml:30:3  (document): duplicate key: a key may appear once in a map  (remove or merge the second occurrence)' },
  { rule: 'yaml.tag', what: 'a CloudFormation tag', edit: replace('cidr: 10.40.0.0/16', 'cidr: !Ref VpcCidr'), expect: 'environments/frankfurt.yaml:15:11  (document): unknown YAML tag !Ref: an environment file holds plain data (strings, numbers, booleans, maps, lists)  (CloudFormation\'s intrinsic functions do not apply here; reference the value with { ssm: /parameter/name })' },
  { rule: 'yaml.alias-bomb', what: 'a billion laughs', edit: (t) => `${t}x-lol:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${'bcdefgh'.split('').map((c, i) => `  ${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`).join('\n')}\n`, expect: 'environments/frankfurt.yaml:416:10  (document): YAML aliases expand beyond 100 copies of their anchors (an alias bomb, or anchors used far more than an environment needs)  (write the repeated values out, or share them through a base file (extends))' },
  { rule: 'ssm.lock', what: 'a parameter locked twice', file: LOCK, edit: replace('  "parameters": {\n', '  "parameters": {\n    "/odp/frankfurt/backup/bucket": { "value": "other", "type": "String", "version": 9, "lastModified": "2026-11-21T09:00:00.000Z" },\n'), expect: 'environments/frankfurt.ssm.lock.json:17:5  (document): unreadable SSM lock: a key appears twice in one map (a parameter locked twice?)  (run npm run synth -- --env frankfurt --refresh-ssm to rewrite it)' },
  { rule: 'ssm.unlocked', what: 'a parameter missing from the lock', edit: replace('{ ssm: /odp/frankfurt/backup/bucket }', '{ ssm: /odp/frankfurt/backup/bucket-name }'), expect: 'environments/frankfurt.yaml:34:15  cluster.datastore.backup.bucket: SSM parameter /odp/frankfurt/backup/bucket-name is not in environments/frankfurt.ssm.lock.json  (run npm run synth -- --env frankfurt --refresh-ssm (needs AWS credentials for account 444444444444) and commit the lock)' },
  // Schema
  { rule: 'schema.additionalProperties', what: 'a misspelt key', edit: replace('    instanceType: m7g.2xlarge', '    instanceTpye: m7g.2xlarge'), expect: 'environments/frankfurt.yaml:62:5  nodePools[2].instanceTpye: unknown key \'instanceTpye\'; expected one of: name, role, arch, instanceType, subnet, maxPods, labels, taints, gpu, count, nodes, talos, k3s, rke2  (did you mean \'instanceType\'?)' },
  // AWS
  { rule: 'aws-region', what: 'a region that does not exist', edit: (t) => t.replaceAll('eu-central-1', 'eu-centrall-1'), expect: 'environments/frankfurt.yaml:10:11  aws.region: \'eu-centrall-1\' is not an AWS region  (did you mean \'eu-central-1\'?)' },
  { rule: 'aws-vpc-id', what: 'a subnet ID locked as the VPC ID', file: LOCK, edit: replace('"value": "vpc-0a1b2c3d4e5f60718"', '"value": "subnet-0a1b2c3d4e5f60718"'), expect: 'environments/frankfurt.yaml:14:9  aws.vpc.id: \'subnet-0a1b2c3d4e5f60718\' is not a VPC ID (the value of SSM parameter /odp/frankfurt/network/vpc-id in environments/frankfurt.ssm.lock.json)  (a VPC ID is vpc- and 8 or 17 hex digits, e.g. vpc-0123456789abcdef0; fix the parameter in SSM and run npm run synth -- --env frankfurt --refresh-ssm)' },
  { rule: 'aws-subnet-id', what: 'a truncated subnet ID in the lock', file: LOCK, edit: replace('"value": "subnet-0a1b2c3d4e5f60711"', '"value": "subnet-0a1b2c3"'), expect: 'environments/frankfurt.yaml:17:32  aws.vpc.subnets[0].id: \'subnet-0a1b2c3\' is not a subnet ID (the value of SSM parameter /odp/frankfurt/network/subnet-private-a in environments/frankfurt.ssm.lock.json)  (a subnet ID is subnet- and 8 or 17 hex digits, e.g. subnet-0123456789abcdef0; fix the parameter in SSM and run npm run synth -- --env frankfurt --refresh-ssm)' },
  { rule: 'acm-certificate-arn', what: 'a certificate of another region', edit: replace('arn:aws:acm:eu-central-1:', 'arn:aws:acm:us-east-1:'), expect: 'environments/frankfurt.yaml:128:93  workloads[0].ingress.certificateArn: ACM certificate arn:aws:acm:us-east-1:444444444444:certificate/0f0e0d0c-0b0a-4988-8776-655443322110 cannot be used here: it is in region us-east-1, not the environment\'s region eu-central-1  (an ALB only uses certificates of its own region; request or import the certificate in eu-central-1 (arn:aws:acm:eu-central-1:444444444444:certificate/<uuid>))' },
  { rule: 'kms-key', what: 'a KMS key of another region', edit: replace('kmsKeyId: arn:aws:kms:eu-central-1:', 'kmsKeyId: arn:aws:kms:eu-west-1:'), expect: 'environments/frankfurt.yaml:37:17  cluster.datastore.backup.kmsKeyId: KMS key arn:aws:kms:eu-west-1:444444444444:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d cannot be used here: it is in region eu-west-1, not the environment\'s region eu-central-1  (KMS keys are regional; use a key in eu-central-1)' },
  { rule: 'iam-role-arn', what: 'an account ID with 11 digits', edit: replace('"arn:aws:iam::444444444444:role/odp-frankfurt/notifications"', '"arn:aws:iam::44444444444:role/odp-frankfurt/notifications"'), expect: 'environments/frankfurt.yaml:216:35  workloads[6].serviceAccount.iamRoleArn: IAM role ARN arn:aws:iam::44444444444:role/odp-frankfurt/notifications cannot be used here: its account \'44444444444\' is not 12 digits  (expected arn:aws:iam::444444444444:role/<name>)' },
  { rule: 's3-bucket-name', what: 'a bucket name with two dots, from the lock', file: LOCK, edit: replace('"value": "odp-frankfurt-etcd-backups"', '"value": "odp..frankfurt"'), expect: 'environments/frankfurt.yaml:34:15  cluster.datastore.backup.bucket: \'odp..frankfurt\' is not a valid S3 bucket name: two adjacent periods (the value of SSM parameter /odp/frankfurt/backup/bucket in environments/frankfurt.ssm.lock.json)  (bucket names are 3–63 characters of lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit; fix the parameter in SSM and run npm run synth -- --env frankfurt --refresh-ssm)' },
  { rule: 'irsa-issuer', what: 'an http issuer', file: LOCK, edit: replace('"value": "https://odp-frankfurt-oidc', '"value": "http://odp-frankfurt-oidc'), expect: 'environments/frankfurt.yaml:12:33  aws.iam.issuerURL: the IRSA issuer http://odp-frankfurt-oidc.s3.eu-central-1.amazonaws.com is not https (the value of SSM parameter /odp/frankfurt/iam/issuer-url in environments/frankfurt.ssm.lock.json)  (IAM OIDC providers and the service-account issuer need an https:// URL; fix the parameter in SSM and run npm run synth -- --env frankfurt --refresh-ssm)' },
  { rule: 'cidr-size', what: 'a /29 subnet', edit: replace('cidr: 10.40.103.0/24', 'cidr: 10.40.103.0/29'), expect: 'environments/frankfurt.yaml:22:86  aws.vpc.subnets[5].cidr: subnet \'public-c\' 10.40.103.0/29 is a /29; AWS allows /16 to /28  (use a /28 or larger block)' },
  { rule: 'node-ip-reserved', what: "the subnet's broadcast address", edit: replace('ip: 10.40.1.10,', 'ip: 10.40.1.255,'), expect: 'environments/frankfurt.yaml:49:31  nodePools[0].nodes[0].ip: 10.40.1.255 is the broadcast address of subnet \'private-a\' (10.40.1.0/24); AWS reserves the first four and the last address of every subnet  (use an address from 10.40.1.4 to 10.40.1.254)' },
  { rule: 'node-subnet-public', what: 'a worker pool in a public subnet', edit: replace('    subnet: private-a\n    count: 3', '    subnet: public-a\n    count: 3'), expect: 'environments/frankfurt.yaml:56:13  nodePools[1].subnet: pool \'general-amd64\' is placed in public subnet \'public-a\'; nodes run in private subnets only  (use a private subnet (private-a, private-b, private-c); public subnets are for internet-facing ALBs)' },
  { rule: 'node-ip-subnet', what: 'a node outside its subnet', edit: replace('ip: 10.40.2.10,', 'ip: 10.40.9.10,'), expect: 'environments/frankfurt.yaml:50:31  nodePools[0].nodes[1].ip: 10.40.9.10 is not inside subnet \'private-b\' (10.40.2.0/24)' },
  { rule: 'subnet-ref', what: 'an unknown subnet', edit: replace('    subnet: private-b\n', '    subnet: private-z\n'), expect: 'environments/frankfurt.yaml:63:13  nodePools[2].subnet: no subnet named \'private-z\' in aws.vpc.subnets  (did you mean \'private-a\'?)' },
  { rule: 'cidr-overlap', what: 'service CIDR over the pod CIDR', edit: replace('serviceCIDR: 10.96.0.0/12', 'serviceCIDR: 10.244.0.0/16'), expect: 'environments/frankfurt.yaml:30:51  cluster.network.serviceCIDR: service CIDR 10.244.0.0/16 overlaps pod CIDR 10.244.0.0/16' },
  { rule: 'ingress-subnets', what: 'public subnets in one zone only', edit: (t) => replace('      - { name: public-c,', '      - { name: public-z,')(t.replace(/ {6}- \{ name: public-b,.*\n/, '')).replace('zone: eu-central-1c, public: true', 'zone: eu-central-1a, public: true'), expect: 'environments/frankfurt.yaml:127:60  workloads[0].ingress.scheme: the internet-facing ALB of workloads \'portal\', \'docs\', \'auth\', \'gateway\' needs public subnets in at least 2 Availability Zones, but aws.vpc.subnets has public subnets in 1 zone only: public-a (eu-central-1a), public-z (eu-central-1a) (private: private-a (eu-central-1a), private-b (eu-central-1b), private-c (eu-central-1c)); missing: public subnets in 1 more zone  (add public subnets (a route to an internet gateway) to aws.vpc.subnets with public: true, in another zone, e.g. { name: public-b, id: { ssm: /odp/frankfurt/network/subnet-public-b }, cidr: …, zone: eu-central-1b, public: true }; or use scheme: internal)' },
  // Cluster
  { rule: 'talos-release', what: 'a Talos patch that does not exist', edit: replace('talosVersion: v1.13.9', 'talosVersion: v1.13.42'), expect: 'environments/frankfurt.yaml:26:17  cluster.talosVersion: Talos v1.13.42 is not a release this generator lists (the newest listed v1.13 release is v1.13.9)  (did you mean v1.13.9? newer releases are added to generators/distributions/talos/release.ts)' },
  { rule: 'talos-kubernetes-compat', what: 'a Kubernetes Talos 1.13 does not support', edit: replace('kubernetesVersion: 1.36.3', 'kubernetesVersion: 1.30.4'), expect: 'environments/frankfurt.yaml:27:22  cluster.kubernetesVersion: Kubernetes 1.30.4 is not supported by Talos v1.13.9  (Talos 1.13 supports Kubernetes 1.31 to 1.36)' },
  { rule: 'etcd-odd', what: 'two control planes', edit: replace('      - { name: fra-cp-3, ip: 10.40.3.10, subnet: private-c }\n', ''), expect: 'environments/frankfurt.yaml:49:7  nodePools[0].nodes: etcd needs an odd number of control-plane nodes (1, 3, 5 …); this environment has 2  (2 members tolerate no more failures than 1 would, and a split can leave no majority; use 1 or 3)' },
  { rule: 'kine-on-talos', what: 'Kine on Talos', edit: replace('    type: etcd\n', '    type: kine-sqlite\n'), expect: 'environments/frankfurt.yaml:32:11  cluster.datastore.type: kine-sqlite is not possible on Talos  (Talos always runs etcd and hard-codes kube-apiserver --etcd-servers (it refuses overriding etcd-servers in cluster.apiServer.extraArgs); use datastore type etcd with backup to S3, or distribution: k3s, which embeds Kine)' },
  { rule: 'arch-instance-family', what: 'an x86 type in the Graviton pool', edit: replace('instanceType: m7g.2xlarge', 'instanceType: m7i.2xlarge'), expect: 'environments/frankfurt.yaml:61:11  nodePools[2].arch: arm64 does not match instance type m7i.2xlarge, which is amd64  (m7i.2xlarge is an x86_64 type; set arch: amd64, or use a Graviton type such as m7g.xlarge)' },
  // Workloads
  { rule: 'unique-names', what: 'two workloads of one name', edit: replace('  - name: docs\n', '  - name: admin\n'), expect: 'environments/frankfurt.yaml:166:11  workloads[3].name: workload \'admin\' is declared twice' },
  { rule: 'workload-image-pinned', what: 'an image on latest', edit: replace('image: ghcr.io/opendev/search:0.8.4', 'image: ghcr.io/opendev/search:latest'), expect: 'environments/frankfurt.yaml:179:12  workloads[4].image: image \'ghcr.io/opendev/search:latest\' uses the tag \'latest\', which changes under the same name  (pin a release tag (e.g. :1.4.2) or a digest (@sha256:…) so that a render always means the same image)' },
  { rule: 'workload-gpu-pool', what: 'more GPUs per pod than a node has', edit: replace('placement: { arch: amd64, gpu: 1 }', 'placement: { arch: amd64, gpu: 4 }'), expect: 'environments/frankfurt.yaml:308:36  workloads[14].placement.gpu: 4 GPUs per pod, but GPU nodes here have at most 1 (pool gpu: g5.2xlarge, 1 GPU), and a pod cannot span nodes  (set placement.gpu: 1, or move pool gpu to g5.12xlarge (4 A10G GPUs, instance table))' },
  { rule: 'workload-kind', what: 'a schedule on a deployment', edit: replace('  - name: status\n    namespace: edge\n', '  - name: status\n    namespace: edge\n    schedule: "0 * * * *"\n'), expect: 'environments/frankfurt.yaml:256:5  workloads[10].schedule: schedule is only used by kind cronjob, not deployment' },
];

let root: string;
let before: Map<string, string>;

/** rendered/ and the locks, byte for byte. */
const snapshot = (): Map<string, string> =>
  new Map(listFiles(root).filter((f) => f.startsWith('rendered/') || f.endsWith('.ssm.lock.json')).map((f) => [f, readFileSync(join(root, f), 'utf8')]));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'odp-realistic-'));
  cpSync(join(FIXTURES, 'examples', 'environments'), join(root, 'environments'), { recursive: true });
  cpSync(join(ROOT, 'schemas'), join(root, 'schemas'), { recursive: true });
  for (const f of ['frankfurt.yaml', 'frankfurt.ssm.lock.json']) cpSync(join(FIXTURES, 'realistic', f), join(root, 'environments', f));
  expect(await synth(['--root', root], deps)).toBe(0);
  before = snapshot();
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a realistic environment beside the examples', () => {
  it('renders and validates', async () => {
    expect(listFiles(join(root, 'rendered', 'frankfurt')).length).toBeGreaterThan(150);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      expect(await validate(['--root', root])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(out.join('')).toMatch(/^validate: \d+ environments, \d+ rendered files: 0 errors/m);
  }, 120_000);

  it.each(MISTAKES.map((m) => [m.rule, m.what, m] as const))('%s: %s is refused, nothing written', async (_rule, _what, m) => {
    const file = join(root, m.file ?? ENV);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, m.edit(original));
    let diagnostics: Diagnostic[] = [];
    try {
      await synth(['--root', root], deps);
      throw new Error('synth accepted the mistake');
    } catch (e) {
      diagnostics = (e as { diagnostics?: Diagnostic[] }).diagnostics ?? [];
      if (diagnostics.length === 0) throw e;
    } finally {
      writeFileSync(file, original);
    }
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const lines = errors.map(formatDiagnostic);
    expect(lines.some((l) => l.startsWith(m.expect)), `expected a diagnostic starting with\n  ${m.expect}\ngot\n  ${lines.join('\n  ')}`).toBe(true);
    expect(errors.find((d) => formatDiagnostic(d).startsWith(m.expect))?.rule.replace(/^schema\..*/, 'schema.additionalProperties')).toBe(m.rule.replace(/^schema\..*/, 'schema.additionalProperties'));
    expect(snapshot()).toStrictEqual(before);
  }, 60_000);
});
