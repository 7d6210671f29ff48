/**
 * "Nothing is written unless every requested environment renders": failures injected at each stage
 * of synth (render, the writer's refusals, a file write, a swap, an orphan's removal) leave
 * rendered/ and the locks byte-identical.
 */
import { cpSync, linkSync, mkdirSync, renameSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../generators/cli/synth.js';
import { renderEnvironment, type PreparedEnvironment } from '../generators/pipeline.js';
import { listFiles, writeEnvironments, type WriterIo } from '../generators/write/writer.js';
import { STATE_FILE } from '../generators/write/state.js';
import { FIXTURES } from './helpers.js';

const ENVS = ['alpha', 'beta', 'gamma'];
let root: string;

const envText = (name: string, workers = 1): string =>
  `# yaml-language-server: $schema=../schemas/environment.schema.json\nname: ${name}\nextends: _fixture\nnodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: ${workers} }\n`;

/** Every file of the repository but the environment files themselves: rendered/ and the locks. */
const snapshot = (): Map<string, string> =>
  new Map(listFiles(root).filter((f) => !/^environments\/[^/]+\.yaml$/.test(f) && f !== `rendered/${STATE_FILE}`).map((f) => [f, readFileSync(join(root, f), 'utf8')]));

const quiet = { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: () => {} };

/** Change every environment, so that a run which wrote anything would show. */
function changeAll(): void {
  for (const e of ENVS) writeFileSync(join(root, 'environments', `${e}.yaml`), envText(e, 2));
}

const realIo: WriterIo = { writeFile: (p, c) => writeFileSync(p, c), link: (a, b) => linkSync(a, b), rename: (a, b) => renameSync(a, b) };
/** The writer's calls, with renames of a path ending in `suffix` failing. */
const renameFails = (suffix: string, message: string): WriterIo => ({
  ...realIo,
  rename: (a, b) => {
    if (a.endsWith(suffix)) throw new Error(message);
    realIo.rename(a, b);
  },
});

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'odp-atomic-'));
  mkdirSync(join(root, 'environments'));
  cpSync(join(FIXTURES, '_fixture.yaml'), join(root, 'environments', '_fixture.yaml'));
  for (const e of ENVS) {
    writeFileSync(join(root, 'environments', `${e}.yaml`), envText(e));
    cpSync(join(FIXTURES, '_fixture.ssm.lock.json'), join(root, 'environments', `${e}.ssm.lock.json`));
  }
  expect(await main(['--root', root], quiet)).toBe(0);
});

describe('synth writes all environments or none', () => {
  it('render throws for the 2nd environment', async () => {
    const before = snapshot();
    changeAll();
    const render = (p: PreparedEnvironment) => {
      if (p.name === 'beta') throw new Error('render failed');
      return renderEnvironment(p);
    };
    await expect(main(['--root', root], { ...quiet, render })).rejects.toThrow('render failed');
    expect(snapshot()).toStrictEqual(before);
  });

  it.each(['../escape.yaml', 'a/../../alpha/README.md', '/etc/x'])('the writer refuses the path %j of the 2nd environment', async (bad) => {
    const before = snapshot();
    changeAll();
    const render = (p: PreparedEnvironment) => [...renderEnvironment(p), ...(p.name === 'beta' ? [{ path: bad, content: 'x\n' }] : [])];
    await expect(main(['--root', root], { ...quiet, render })).rejects.toThrow(/refusing to write/);
    expect(snapshot()).toStrictEqual(before);
  });

  it('the writer refuses two files with one path in the 3rd environment', async () => {
    const before = snapshot();
    changeAll();
    const render = (p: PreparedEnvironment) => {
      const files = renderEnvironment(p);
      return p.name === 'gamma' ? [...files, files[0]!] : files;
    };
    await expect(main(['--root', root], { ...quiet, render })).rejects.toThrow(/share the path gamma\//);
    expect(snapshot()).toStrictEqual(before);
  });

  it('a file write fails midway through the 2nd environment', async () => {
    const before = snapshot();
    changeAll();
    let n = 0;
    const writerIo: WriterIo = { ...realIo, writeFile: (p, c) => {
      if (p.includes('beta') && ++n === 2) throw new Error('ENOSPC: no space left on device');
      writeFileSync(p, c);
    } };
    await expect(main(['--root', root], { ...quiet, writerIo })).rejects.toThrow('ENOSPC');
    expect(snapshot()).toStrictEqual(before);
    expect(listFiles(join(root, 'rendered')).filter((f) => f.startsWith('.odp-') && f !== STATE_FILE)).toStrictEqual([]);
  });

  it('a swap fails for the 3rd environment: the two already swapped are put back', async () => {
    const before = snapshot();
    changeAll();
    await expect(main(['--root', root], { ...quiet, writerIo: renameFails('/gamma', 'EBUSY: resource busy') })).rejects.toThrow('EBUSY');
    expect(snapshot()).toStrictEqual(before);
  });

  it("an orphan's removal fails: the environments swapped before it are put back", async () => {
    rmSync(join(root, 'environments', 'gamma.yaml'));
    const before = snapshot();
    changeAll();
    rmSync(join(root, 'environments', 'gamma.yaml'));
    await expect(main(['--root', root], { ...quiet, writerIo: renameFails('/rendered/gamma', 'EACCES: permission denied') })).rejects.toThrow('EACCES');
    expect(snapshot()).toStrictEqual(before);
  });

  it('without failures, every environment is rewritten and the orphan removed in one run', async () => {
    changeAll();
    rmSync(join(root, 'environments', 'gamma.yaml'));
    expect(await main(['--root', root], quiet)).toBe(0);
    const dirs = new Set(listFiles(join(root, 'rendered')).filter((f) => f !== STATE_FILE && f !== 'README.md').map((f) => f.split('/')[0]));
    expect([...dirs].sort()).toStrictEqual(['alpha', 'beta']);
    expect(readFileSync(join(root, 'rendered', 'beta', 'README.md'), 'utf8')).toContain('workers');
  });
});

describe('writeEnvironments', () => {
  it('refuses a bad path of a later environment before touching an earlier one', () => {
    const r = mkdtempSync(join(tmpdir(), 'odp-atomic-w-'));
    writeEnvironments(r, [{ env: 'a', files: [{ path: 'x.yaml', content: '1\n' }] }]);
    expect(() => writeEnvironments(r, [{ env: 'a', files: [{ path: 'x.yaml', content: '2\n' }] }, { env: 'b', files: [{ path: '../a/x.yaml', content: 'evil\n' }] }])).toThrow(/refusing to write '\.\.\/a\/x\.yaml'/);
    expect(readFileSync(join(r, 'a', 'x.yaml'), 'utf8')).toBe('1\n');
    expect(listFiles(r)).toStrictEqual(['a/.provenance.json', 'a/x.yaml']);
  });

  it('refuses an orphan name that is not a plain directory name, before writing', () => {
    const r = mkdtempSync(join(tmpdir(), 'odp-atomic-w-'));
    expect(() => writeEnvironments(r, [{ env: 'a', files: [{ path: 'x.yaml', content: '1\n' }] }], { remove: ['..'] })).toThrow(/refusing environment directory/);
    expect(listFiles(r)).toStrictEqual([]);
  });
});
