// A fixed node's Node found by its address in the review comment's commands: on AWS the Node is named after the EC2
// hostname (Talos: the IMDS hostname; K3s/RKE2: node-name set at boot to the EC2 private DNS name), never the
// environment file's node name, so `kubectl drain cp-2` would find nothing.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCommands } from '../generators/distributions/talos/diff-report.js';
import { runbookCommand } from '../generators/distributions/talos/runbook.js';
import { nodeNameByAddress, nodeRef } from '../generators/lib/k8s-nodes.js';

/** A kubectl that answers `get nodes -o jsonpath=…` as the API server's Nodes render through that template. */
function kubectlStub(nodes: [string, string][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-nodes-'));
  const out = nodes.map(([n, ip]) => `${n} ${ip}`).join('\n') + '\n';
  writeFileSync(join(dir, 'kubectl'), `#!/bin/sh\n[ "$1 $2" = "get nodes" ] || { echo "unexpected: $*" >&2; exit 1; }\nprintf '%s' '${out}'\n`);
  chmodSync(join(dir, 'kubectl'), 0o755);
  return dir;
}

describe('a fixed node is named by its address', () => {
  it('the expression prints the Node whose InternalIP is the address, and nothing for an address no Node has', () => {
    const dir = kubectlStub([['ip-10-0-1-10.ec2.internal', '10.0.1.10'], ['ip-10-0-1-100.ec2.internal', '10.0.1.100'], ['ip-10-0-2-5.ec2.internal', '10.0.2.5']]);
    const run = (ip: string) => execFileSync('sh', ['-c', `printf '%s' ${nodeNameByAddress(ip)}`], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' });
    expect(run('10.0.1.10')).toBe('ip-10-0-1-10.ec2.internal');
    expect(run('10.0.1.100')).toBe('ip-10-0-1-100.ec2.internal');
    expect(run('10.0.9.9')).toBe('');
  });

  it('refuses a value that is not an address before it reaches a shell; without an address the name stays', () => {
    expect(() => nodeNameByAddress('10.0.1.1; rm -rf /')).toThrow(/not an IP address/);
    expect(nodeRef('cp-2', undefined)).toBe('cp-2');
    expect(nodeRef('cp-2', '10.0.1.11')).toBe(`"${nodeNameByAddress('10.0.1.11')}"`);
  });

  it('a shell variable holding the address reaches awk as a variable, never spliced into its program', () => {
    const dir = kubectlStub([['ip-10-0-1-10.ec2.internal', '10.0.1.10'], ['ip-10-0-2-5.ec2.internal', '10.0.2.5']]);
    const out = execFileSync('sh', ['-c', `for NODE in 10.0.2.5 '" || 1 == 1 || "'; do printf '[%s]' ${nodeNameByAddress('$NODE')}; done`], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' });
    expect(out).toBe('[ip-10-0-2-5.ec2.internal][]');
  });

  it("Talos: a config that needs a reboot is the runbook's apply script for that node (its apply_node drains, stages, reboots, uncordons)", () => {
    const fixed = nodeCommands('prod', { node: 'cp-2', file: 'talos/cp-2.yaml', address: '10.0.1.11', controlPlane: true, kubernetes: {}, status: 'changed', actions: ['reboot'] } as never);
    expect(fixed).toStrictEqual([runbookCommand('prod', 'apply', 'cp-2')]);
    expect(fixed[0]).toBe('npm run -s talos -- commands --env prod apply --node cp-2 | sh');
    const pool = nodeCommands('prod', { node: 'general-amd64', file: 'talos/general-amd64.yaml', pool: true, controlPlane: false, kubernetes: {}, status: 'changed', actions: ['reboot'] } as never);
    expect(pool).toStrictEqual([runbookCommand('prod', 'apply', 'general-amd64'), 'new instances of the pool get it from sh rendered/prod/aws/talos-join.sh general-amd64']);
  });

  it("Talos: a removed fixed node is the runbook's remove script for it (its drain_node and Node deletion find the Node by address)", () => {
    const cmds = nodeCommands('prod', { node: 'worker-3', file: 'talos/worker-3.yaml', address: '10.0.2.13', controlPlane: false, kubernetes: {}, status: 'removed', actions: [] } as never);
    expect(cmds).toStrictEqual([runbookCommand('prod', 'remove', 'worker-3')]);
    expect(cmds[0]).toBe('npm run -s talos -- commands --env prod remove --node worker-3 | sh');
  });
});
