/**
 * The rke2-etcd fixture (test/fixtures/valid/rke2-etcd.yaml: three servers on embedded etcd) ready to boot in the node
 * sandbox (./node-sandbox.ts): the CIS kernel defaults, the short tokens in SSM, the pinned release served with an
 * upstream-faithful install.sh (./installers.ts), and the fixture rendered with the served artifacts' hashes in the lock.
 */
import { RKE2_ARTIFACTS } from '../../generators/distributions/rke2/artifacts.js';
import { prepareEnvironment, renderEnvironment } from '../../generators/pipeline.js';
import { fixtureSources, formatted } from '../helpers.js';
import { serveRelease } from './artifacts.js';
import { RKE2_INSTALL_STUB, rke2Tarball } from './installers.js';
import { World } from './node-sandbox.js';

export const RKE2_ETCD_VERSION = 'v1.35.7+rke2r1';
export const RKE2_CIS_SYSCTLS = { 'vm.panic_on_oom': '0', 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };
export const RKE2_ETCD_SERVERS = { 'cp-1': '10.10.1.10', 'cp-2': '10.10.1.11', 'cp-3': '10.10.1.12' } as const;
export type Rke2EtcdServer = keyof typeof RKE2_ETCD_SERVERS;
/** The EC2 private DNS name of an address in eu-west-1 (what IMDS local-hostname answers, the node name). */
export const ec2Host = (ip: string): string => `ip-${ip.replace(/\./g, '-')}.eu-west-1.compute.internal`;

/** The fixture's rendered files by path (relative to rendered/rke2-etcd/). */
export function renderedRke2Etcd(): Map<string, string> {
  const { sources } = fixtureSources('valid', 'rke2-etcd.yaml');
  const r = prepareEnvironment('rke2-etcd', sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

/** A fresh world for the fixture; `done()` stops serving the release and removes the world. */
export function rke2EtcdWorld(): { world: World; files: Map<string, string>; done(): void } {
  const world = new World();
  world.sysctlDefaults(RKE2_CIS_SYSCTLS);
  world.ssm('/odp/rke2-etcd/rke2/token', 'short-server-token');
  world.ssm('/odp/rke2-etcd/rke2/agent-token', 'short-agent-token');
  const restore = serveRelease(world, RKE2_ARTIFACTS, 'rke2', RKE2_ETCD_VERSION, { 'install.sh': RKE2_INSTALL_STUB, amd64: rke2Tarball(RKE2_ETCD_VERSION) });
  // Rendered with the served artifacts' hashes in the lock.
  const files = renderedRke2Etcd();
  world.deployBase(files);
  return {
    world,
    files,
    done: () => {
      restore();
      world.cleanup();
    },
  };
}
