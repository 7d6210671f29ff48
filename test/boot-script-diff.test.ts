/**
 * A change of a fixed K3s/RKE2 node's first-boot script alone (rancherds: the watched start with the pending token,
 * the datastore bound, the atomic drop-in) changes every fixed server's user data: the nodes stack stops and starts each
 * once, and nothing is to be done on it, since the script runs at a first boot only (cloud-init runcmd, once per
 * instance). `npm run diff` and the review comment say so (generators/distributions/rancher/impact.ts bootOnlyText);
 * any other user-data change keeps "make the change on the node by hand".
 */
import { describe, expect, it } from 'vitest';
import { diffTrees } from '../generators/diff/diff.js';
import { formatMarkdown, formatText } from '../generators/diff/format.js';
import { envContext } from '../generators/diff/sources.js';
import { parseYamlStream, toYaml } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { BOOT_SETTINGS_PATH } from '../generators/distributions/rancher/boot-settings.js';

type UserData = { write_files: { path: string; content: string; permissions: string }[]; runcmd: string[][] };

describe.each([
  { file: 'k3s-postgres.yaml', dist: 'k3s' },
  { file: 'rke2-postgres.yaml', dist: 'rke2' },
])('a fixed node\'s first-boot script changed ($file): the review text', ({ file, dist }) => {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const head = new Map(renderEnvironment(r.prepared).map((f) => [`${name}/${f.path}`, f.content]));
  const context = new Map([[name, envContext(r.prepared.model)]]);
  const fixed = r.prepared.model.pools.flatMap((p) => p.nodes.map((n) => n.name));
  /** The base: each fixed node's user data as `edit` leaves it. */
  const diffWith = (edit: (data: UserData) => void) => {
    const base = new Map(head);
    for (const node of fixed) {
      const path = `${name}/${dist}/userdata/${node}.yaml`;
      const text = head.get(path)!;
      const data = parseYamlStream(text)[0] as UserData;
      edit(data);
      base.set(path, `${text.split('\n')[0]}\n${toYaml(data)}`);
    }
    const d = diffTrees(base, head, context);
    return { text: formatText(d, { base: 'main', head: 'HEAD' }), markdown: formatMarkdown(d, { base: 'main', head: 'HEAD' }) };
  };

  it('only the boot script: every fixed node stopped and started once by the nodes stack, nothing by hand', () => {
    const { text, markdown } = diffWith((data) => {
      const script = data.runcmd[0]![0]!;
      data.write_files = data.write_files.map((f) => (f.path === script ? { ...f, content: `${f.content}\n# before: the start waited 900 s, no pending token\n` } : f));
    });
    expect(fixed.length).toBeGreaterThan(0);
    for (const node of fixed) {
      const step = text.split('\n').find((l) => /^ {4}\d+\. /.test(l) && l.includes(`. ${node} `));
      expect(step, node).toContain(
        `nothing by hand: the nodes stack update stops and starts ${node} once (CloudFormation, one server at a time along the DependsOn chain) with user data whose only change is its first-boot script, which runs at a first boot only (a replacement's): the running node keeps what its own first boot set up`,
      );
      expect(step).toContain('stopped and started once by the nodes stack (only its first-boot script changed)');
    }
    for (const out of [text, markdown]) expect(out).not.toContain('make the change on the node by hand');
  });

  it('a first-boot setting changed: the generic text, naming the setting (key: old → new), never "nothing by hand"', () => {
    const { text } = diffWith((data) => {
      data.write_files = data.write_files.map((f) => (f.path === BOOT_SETTINGS_PATH ? { ...f, content: f.content.replace(/^AGENT_TOKEN_PARAM='([^']*)'$/m, "AGENT_TOKEN_PARAM='$1-old'") } : f));
    });
    const param = (parseYamlStream(head.get(`${name}/${dist}/userdata/${fixed[0]}.yaml`)!)[0] as UserData).write_files.find((f) => f.path === BOOT_SETTINGS_PATH)!.content;
    const now = /^AGENT_TOKEN_PARAM='([^']*)'$/m.exec(param)![1]!;
    for (const node of fixed) {
      expect(text).toContain(`user-data (first-boot settings: AGENT_TOKEN_PARAM: ${now}-old → ${now}): replace`);
      const step = text.split('\n').find((l) => /^ {4}\d+\. /.test(l) && l.includes(`. ${node} `));
      expect(step, node).toContain(`make the change on the node by hand (ssh `);
      expect(step, node).toContain(`; the first-boot settings that changed: AGENT_TOKEN_PARAM: ${now}-old → ${now})`);
      expect(step).not.toContain('nothing by hand');
    }
  });

  it('the script and its settings together (a user data from before the settings file): no script-only change', () => {
    const { text } = diffWith((data) => {
      data.write_files = data.write_files.filter((f) => f.path !== BOOT_SETTINGS_PATH);
    });
    for (const node of fixed) {
      const step = text.split('\n').find((l) => /^ {4}\d+\. /.test(l) && l.includes(`. ${node} `));
      expect(step, node).toContain('make the change on the node by hand');
    }
    expect(text).toContain(`user-data (its first-boot settings now in ${BOOT_SETTINGS_PATH}): replace`);
  });

  it('another file of the user data too: the change is still the operator\'s to make by hand (or a replacement)', () => {
    const { text } = diffWith((data) => {
      data.write_files = [...data.write_files, { path: `/etc/rancher/${dist}/old-file`, content: 'x\n', permissions: '0600' }];
    });
    for (const node of fixed) {
      const step = text.split('\n').find((l) => /^ {4}\d+\. /.test(l) && l.includes(`. ${node} `));
      expect(step, node).toContain(`the nodes stack update stops and starts ${node} with the new user data, which does not run again (once per instance): make the change on the node by hand`);
    }
  });
});
