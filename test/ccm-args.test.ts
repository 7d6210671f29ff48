/**
 * aws-cloud-controller-manager's `args`: the chart's list is the container's whole argument list (chart 0.0.11
 * values.yaml:3-5), and an environment's own list replaces the rendered one (lists replace in the merge and in Helm). The
 * flags the platform needs (catalog/aws-cloud-controller-manager.ts CCM_PLATFORM_FLAGS: --cloud-provider=aws, the node
 * controllers only, no cloud routes, the cluster's name) are put back when the environment's list leaves them out, and a
 * list setting one of them otherwise is refused (rule ccm-platform-flag; the invalid fixture ccm-platform-flag.yaml).
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { renderEditedFixture } from './helpers.js';

const withArgs = (list: string) => (s: string) => `${s}${/^addons:/m.test(s) ? '' : 'addons:\n'}`.replace(/^addons:\n/m, `addons:\n  aws-cloud-controller-manager:\n    values:\n      args: ${list}\n`);
const args = (list: string) => (parseYamlStream(renderEditedFixture('talos-argocd-pools.yaml', withArgs(list)).find((f) => f.path === 'values/aws-cloud-controller-manager.yaml')!.content)[0] as any).args;

describe("aws-cloud-controller-manager: an environment's own args keep the platform's flags", () => {
  const rendered = args('[--v=2]');
  const cluster = rendered.find((a: string) => a.startsWith('--cluster-name='));

  it('the rendered list: verbosity, then the platform flags; `args: null` (which deletes the list: the chart default would run) gives the platform flags', () => {
    expect(rendered).toStrictEqual(['--v=2', '--cloud-provider=aws', '--configure-cloud-routes=false', '--controllers=cloud-node,cloud-node-lifecycle', cluster]);
    expect(args('null')).toStrictEqual(rendered.slice(1));
  });

  it("an environment's list comes first, the platform flags it leaves out are appended; one it writes with the same value is kept as written", () => {
    expect(args('[--v=4, --concurrent-node-syncs=2]')).toStrictEqual(['--v=4', '--concurrent-node-syncs=2', '--cloud-provider=aws', '--configure-cloud-routes=false', '--controllers=cloud-node,cloud-node-lifecycle', cluster]);
    expect(args(`[--cloud-provider, aws, --v=4]`)).toStrictEqual(['--cloud-provider', 'aws', '--v=4', '--configure-cloud-routes=false', '--controllers=cloud-node,cloud-node-lifecycle', cluster]);
  });

  it('a platform flag set otherwise is refused at its item, naming what it does here (a bare boolean flag is true)', () => {
    expect(() => args('[--v=4, --configure-cloud-routes]')).toThrow('addons.aws-cloud-controller-manager.values.args[1]: --configure-cloud-routes set to "true", expected false: pod routes are the CNI\'s');
    expect(() => args('[--cloud-provider=aws/v2]')).toThrow('args[0]: --cloud-provider set to "aws/v2", expected aws');
    expect(() => args('[--cluster-name=other]')).toThrow(`args[0]: --cluster-name set to "other", expected ${cluster.slice('--cluster-name='.length)}`);
  });
});
