/**
 * K3s/RKE2 user data is carried gzip-compressed (generators/infra/aws/user-data.ts; the fact and its cloud-init
 * sources: generators/distributions/rancher/boot.ts USER_DATA_ENCODING). The template's UserData, decoded as
 * cloud-init does (base64, then gunzip: cloudinit/user_data.py convert_string → util.decomp_gzip), is exactly the
 * review copy's text; the sizes EC2 counts are in the test names (no timing). The gzip bytes do not depend on the
 * Node version (fflate, pure JavaScript: a pinned digest here); the size rule counts the compressed bytes; the diff
 * reads the decoded text, and says so when only the encoding changed (the first merge of this change).
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { awsImpacts } from '../generators/diff/aws-impact.js';
import { carryUserData, readUserData, userDataProperty } from '../generators/infra/aws/user-data.js';
import { USER_DATA_LIMIT } from '../generators/infra/aws/template.js';
import { withoutHashHeader } from '../generators/render/header.js';
import { USER_DATA_NOT_RUN_ON_START } from '../generators/infra/aws/instance-updates.js';
import { fixtureSources, formatted } from './helpers.js';

type Doc = Record<string, any>;

function render(file: string): Map<string, string> {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

/** Every UserData of a nodes template: the resource, its Name tag or pool, and the property's value. */
function userData(nodes: Doc): { id: string; name: string; value: unknown }[] {
  return Object.entries(nodes.Resources as Record<string, Doc>).flatMap(([id, r]) => {
    if (r.Type === 'AWS::EC2::Instance' && r.Properties.UserData !== undefined) return [{ id, name: r.Properties.Tags.find((t: Doc) => t.Key === 'Name').Value as string, value: r.Properties.UserData }];
    const lt = r.Type === 'AWS::EC2::LaunchTemplate' ? r.Properties.LaunchTemplateData : undefined;
    const pool = lt?.TagSpecifications?.[0]?.Tags.find((t: Doc) => t.Key === 'odp:pool')?.Value as string | undefined;
    return lt?.UserData !== undefined && pool ? [{ id, name: pool, value: lt.UserData }] : [];
  });
}

// The K3s SQLite server (the largest user data) and RKE2 with etcd, servers and pools.
const FIXTURES = [
  ['k3s-litestream.yaml', 'k3s'],
  ['rke2-etcd.yaml', 'rke2'],
] as const;

const cases = FIXTURES.flatMap(([file, dist]) => {
  const files = render(file);
  return userData(parse(files.get('aws/nodes.yaml')!)).map((u) => {
    const bytes = Buffer.from(u.value as string, 'base64');
    const review = files.get(`${dist}/userdata/${u.name}.yaml`);
    return { file, dist, ...u, bytes, review, text: gunzipSync(bytes).toString('utf8') };
  });
});

describe('K3s/RKE2 user data carried gzip: decoded as cloud-init does, it is the review copy', () => {
  it('every fixture has user data to decode', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
    expect(new Set(cases.map((c) => c.dist))).toStrictEqual(new Set(['k3s', 'rke2']));
  });

  it.each(cases.map((c) => [c.file, c.name, c.bytes.length, Buffer.byteLength(c.text), USER_DATA_LIMIT - c.bytes.length, c] as const))(
    '%s %s: %i bytes carried for %i of text, %i bytes under the limit',
    (_f, _n, _b, _t, _h, c) => {
      // A literal base64 string (Fn::Base64 would carry text), gzip (RFC 1952 magic), the review copy's text exactly.
      expect(typeof c.value).toBe('string');
      expect([c.bytes[0], c.bytes[1]]).toStrictEqual([0x1f, 0x8b]);
      expect(c.review).toBeDefined();
      expect(c.text.startsWith('#cloud-config\n')).toBe(true);
      expect(c.text).toBe(c.review!.replace(/^(#cloud-config\n)(#[^\n]*\n)+/, '$1'));
      expect(withoutHashHeader(c.review!)).toBe(c.text);
      // What the AWS layer reads back (the size checks, the diff) is the same.
      expect(readUserData(c.value)).toStrictEqual({ text: c.text, encoding: 'gzip', bytes: new Uint8Array(c.bytes) });
      expect(c.bytes.length).toBeLessThanOrEqual(USER_DATA_LIMIT);
    },
  );
});

describe('the gzip bytes are the same on every Node version', () => {
  const text = Array.from({ length: 200 }, (_, i) => `line ${i}: ${'odp-gitops '.repeat(i % 7)}${i * i}`).join('\n') + '\n';

  it('fflate at level 9, its memory level given: a pinned digest (a library change that moves the bytes shows here)', () => {
    const c = carryUserData(text, 'gzip');
    expect([c.bytes.length, createHash('sha256').update(c.bytes).digest('hex')]).toStrictEqual([1392, '693fc89dccf97c26a39895082b9d1f0eec6de13599b583d86449542685e4cb02']);
    expect(gunzipSync(c.bytes).toString('utf8')).toBe(text);
  });

  it('the header holds no time and no file name (RFC 1952: MTIME 0, FLG 0)', () => {
    const b = carryUserData(text, 'gzip').bytes;
    expect([...b.slice(0, 10)]).toStrictEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  });

  it('text carries Fn::Base64 of the text; both forms read back to the text and the bytes EC2 holds', () => {
    const plain = carryUserData('#cloud-config\n{}\n', 'text');
    expect(userDataProperty(plain)).toStrictEqual({ 'Fn::Base64': '#cloud-config\n{}\n' });
    expect(readUserData(userDataProperty(plain))).toStrictEqual(plain);
    const gz = carryUserData('#cloud-config\n{}\n', 'gzip');
    expect(readUserData(userDataProperty(gz))).toStrictEqual(gz);
    // A base64 literal of text (not gzip) is that text.
    expect(readUserData(Buffer.from('#!/bin/sh\n').toString('base64'))?.text).toBe('#!/bin/sh\n');
    expect(readUserData({ Ref: 'X' })).toBeUndefined();
  });
});

describe('the size rule counts the bytes EC2 holds', () => {
  it('aws-user-data-size.yaml: the compressed size over the limit, and the text it compresses', () => {
    const { name, sources } = fixtureSources('invalid', 'aws-user-data-size.yaml');
    const lines = formatted(prepareEnvironment(name, sources)).filter((l) => l.includes('the user data of workers'));
    expect(lines).toHaveLength(1);
    const m = /nodePools\[1\]: the user data of workers is (\d+) bytes \(gzip of its (\d+)-byte text\); EC2 accepts at most 16384 \(before base64\) {2}\(shorten what it embeds \(k3s\/userdata\/workers\.yaml\)/.exec(lines[0]!);
    expect(m, lines[0]).not.toBeNull();
    const [carried, text] = [Number(m![1]), Number(m![2])];
    expect(carried).toBeGreaterThan(USER_DATA_LIMIT);
    expect(text).toBeGreaterThan(carried);
  });

  it('a text over the limit fits when its gzip is under it', () => {
    const over = carryUserData(`#cloud-config\n${'# the same line again and again\n'.repeat(1000)}`, 'gzip');
    expect(Buffer.byteLength(over.text)).toBeGreaterThan(USER_DATA_LIMIT);
    expect(over.bytes.length).toBeLessThan(USER_DATA_LIMIT);
  });
});

describe('the review reads the decoded user data', () => {
  const head = render('k3s-litestream.yaml');
  const nodes = parse(head.get('aws/nodes.yaml')!) as Doc;
  const server = userData(nodes).find((u) => u.id === 'NodeServer1')!;
  const text = gunzipSync(Buffer.from(server.value as string, 'base64')).toString('utf8');

  it('the same text carried as Fn::Base64 before (an instance launched before this change): the encoding alone, said as such', () => {
    const old = structuredClone(nodes);
    old.Resources.NodeServer1.Properties.UserData = { 'Fn::Base64': text };
    const base = new Map([...head, ['aws/nodes.yaml', JSON.stringify(old)]]);
    const i = awsImpacts(base, head).find((x) => x.logicalId === 'NodeServer1');
    expect(i?.properties.map((p) => [p.path, p.old, p.new])).toStrictEqual([['UserData.encoding', 'text', 'gzip']]);
    expect(i?.consequence).toContain('UserData.encoding of server-1 (text → gzip): the same user data, now carried gzip-compressed (infra/aws/user-data.ts): nothing in the boot script or its settings changed, but the property value did, once');
    expect(i?.consequence).toContain(USER_DATA_NOT_RUN_ON_START);
    expect(i?.fixedNode).toStrictEqual({ stops: ['UserData'], replaced: false, controlPlane: true });
  });

  it('a changed script under gzip: its lines, not a blob', () => {
    const edited = structuredClone(nodes);
    edited.Resources.NodeServer1.Properties.UserData = userDataProperty(carryUserData(text.replace('#cloud-config\n', '#cloud-config\n# one more line\n'), 'gzip'));
    const i = awsImpacts(head, new Map([...head, ['aws/nodes.yaml', JSON.stringify(edited)]])).find((x) => x.logicalId === 'NodeServer1');
    expect(i?.properties.map((p) => p.path)).toStrictEqual(['UserData.content']);
    expect(i?.consequence).toContain('UserData.content of server-1 (decoded: 1 line(s) added, 0 removed)');
  });
});
