/**
 * The K3s/RKE2 checker's proof that a fixed node's boot script reads its config from SSM, by structure: the settings
 * file defines CONFIG_PARAM as the node's parameter name and the script calls `ssm_parameter "$CONFIG_PARAM"` in code.
 * A rendered user data mutated in each way is reported with one message.
 */
import { describe, expect, it } from 'vitest';
import { checkRenderedK3s } from '../generators/distributions/k3s/check.js';
import { checkRenderedRke2 } from '../generators/distributions/rke2/check.js';
import type { EnvironmentModel } from '../generators/model/types.js';
import type { Diagnostic } from '../generators/validate/diagnostics.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, prepareExample } from './helpers.js';

/** An example (test/fixtures/examples) or a valid fixture, prepared and rendered whole (the base stack included). */
const load = (env: string, fixture?: string) => {
  const prepared = fixture === undefined ? prepareExample(env).prepared! : prepareEnvironment(env, fixtureSources('valid', fixture).sources).prepared!;
  return { model: prepared.model, files: new Map(renderEnvironment(prepared).map((f) => [f.path, f.content])) };
};

const CASES: { env: string; fixture?: string; dir: string; node: string; other: string; check: (m: EnvironmentModel, f: ReadonlyMap<string, string>) => Diagnostic[] }[] = [
  { env: 'staging-k3s', dir: 'k3s', node: 'stg-k3s-server-1', other: 'stg-k3s-server-2', check: checkRenderedK3s },
  { env: 'rke2-etcd', fixture: 'rke2-etcd.yaml', dir: 'rke2', node: 'cp-1', other: 'cp-2', check: checkRenderedRke2 },
];

describe.each(CASES)('$env: the boot script of fixed node $node reads its config parameter', ({ env, fixture, dir, node, other, check }) => {
  const { model, files } = load(env, fixture);
  const path = `${dir}/userdata/${node}.yaml`;
  const ud = files.get(path)!;
  const param = `/odp/${env}/${dir}/config/${node}`;
  const messages = (edit: (text: string) => string): string[] => {
    const edited = edit(ud);
    expect(edited).not.toBe(ud);
    return check(model, new Map([...files, [path, edited]])).map((d) => `${d.rule} ${d.file}: ${d.message}`);
  };
  const at = `${dir}-userdata rendered/${env}/${path}`;
  it('as rendered: nothing to report (the settings line and the call are there)', () => {
    expect(ud).toContain(`CONFIG_PARAM='${param}'\n`);
    expect(ud).toContain('CONFIG=$(ssm_parameter "$CONFIG_PARAM")\n');
    expect(check(model, files)).toStrictEqual([]);
  });
  it('the setting missing', () => {
    expect(messages((t) => t.replace(/^ *CONFIG_PARAM=.*\n/m, ''))).toStrictEqual([
      `${at}: the boot settings (/etc/odp-gitops/boot-settings.env) of fixed node ${node} define no CONFIG_PARAM: it names the config parameter ${param}`,
    ]);
  });
  it("the setting naming another node's parameter", () => {
    expect(messages((t) => t.replace(`CONFIG_PARAM='${param}'`, `CONFIG_PARAM='/odp/${env}/${dir}/config/${other}'`))).toStrictEqual([
      `${at}: CONFIG_PARAM in the boot settings of fixed node ${node} is '/odp/${env}/${dir}/config/${other}'; its config parameter is ${param}`,
    ]);
  });
  const noCall = `${at}: the boot script of fixed node ${node} does not call ssm_parameter "$CONFIG_PARAM": it does not read its config parameter ${param}`;
  it('the call missing (the comment and the log line still name $CONFIG_PARAM)', () => {
    expect(messages((t) => t.replace('CONFIG=$(ssm_parameter "$CONFIG_PARAM")', 'CONFIG=$(cat /etc/odp-gitops/config.yaml)'))).toStrictEqual([noCall]);
  });
  it('the call commented out, or made with another setting', () => {
    expect(messages((t) => t.replace('CONFIG=$(ssm_parameter "$CONFIG_PARAM")', '# CONFIG=$(ssm_parameter "$CONFIG_PARAM")'))).toStrictEqual([noCall]);
    expect(messages((t) => t.replace('CONFIG=$(ssm_parameter "$CONFIG_PARAM")', 'CONFIG=$(ssm_parameter "$CONFIG_PARAMS")'))).toStrictEqual([noCall]);
  });
});
