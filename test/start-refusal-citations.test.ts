/**
 * START_REFUSALS (generators/distributions/rancher/boot.ts) is one table whose citations each member completes with its
 * own repositories (RefusalUpstream, from the member's folder): K3s cites k3s-io/k3s and k3s-io/kine at the commits
 * read; RKE2 cites the same files as the supervisor module its go.mod requires (rancher/rke2 embeds it), and its own
 * issue for the `/config` refusal. The rendered README of each shows the table with those citations.
 */
import { describe, expect, it } from 'vitest';
import { K3S_UPSTREAM } from '../generators/distributions/k3s/readme.js';
import { START_REFUSALS, startRefusalsText } from '../generators/distributions/rancher/boot.js';
import { RKE2_UPSTREAM } from '../generators/distributions/rke2/readme.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, renderExample } from './helpers.js';

/** The files a row cites as `path@commit`, whichever member's words surround them. */
const cited = (s: string): string[] => [...s.matchAll(/(pkg\/[\w/]+\.go)@([0-9a-f]{8})|@([0-9a-f]{8}) (pkg\/[\w/]+\.go)/g)].map((m) => `${m[1] ?? m[4]}@${m[2] ?? m[3]}`);

describe('START_REFUSALS citations name the repository of the member they are rendered for', () => {
  it('K3s: every supervisor file as k3s-io/k3s@<commit> <path>, Kine as k3s-io/kine, the issue as k3s-io/k3s#2463', () => {
    const sources = START_REFUSALS.map((r) => r.source(K3S_UPSTREAM));
    expect(sources[0]).toContain('k3s-io/k3s@8fed810c pkg/cluster/storage.go getBootstrapKeyFromStorage');
    expect(sources[1]).toContain('k3s-io/k3s@9977f0e6 pkg/cluster/bootstrap.go httpBootstrap');
    expect(sources[1]).toContain('k3s-io/k3s@db5fc989 pkg/clientaccess/token.go get');
    expect(sources[1]).toContain('k3s-io/k3s#2463');
    expect(sources[2]).toContain('k3s-io/k3s@eaaf1f84 pkg/agent/config/config.go Get → get → getConfig');
    expect(sources[2]).not.toContain('#3656');
    expect(sources[5]).toContain('k3s-io/kine@0058529d pkg/drivers/generic/generic.go Open');
    // No file cited without its repository.
    for (const s of sources) for (const f of cited(s)) expect(s, f).toMatch(new RegExp(`k3s-io/(k3s|kine)@${f.split('@')[1]} ${f.split('@')[0]}`));
  });
  it('RKE2: the same files, as the supervisor module rancher/rke2 requires; the /config refusal as rancher/rke2#3656', () => {
    const sources = START_REFUSALS.map((r) => r.source(RKE2_UPSTREAM));
    expect(sources.map(cited)).toStrictEqual(START_REFUSALS.map((r) => cited(r.source(K3S_UPSTREAM))));
    expect(sources[0]).toContain("the supervisor module's pkg/cluster/storage.go@8fed810c getBootstrapKeyFromStorage");
    expect(sources[2]).toContain('rancher/rke2#3656 (v1.23.14+rke2r1)');
    expect(sources[5]).toContain("Kine's pkg/drivers/generic/generic.go@0058529d");
    for (const s of sources) expect(s).not.toMatch(/k3s/i);
    expect(startRefusalsText('RKE2', RKE2_UPSTREAM)).toContain("The supervisor code cited: the supervisor module rancher/rke2's go.mod requires (rancher/rke2@00337ece go.mod)");
  });
  it('the rendered READMEs carry the table with the member\'s citations', () => {
    const k3s = renderExample('staging-k3s').find((f) => f.path === 'README.md')!.content;
    expect(k3s).toContain(startRefusalsText('K3s', K3S_UPSTREAM));
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const rke2 = renderEnvironment(prepareEnvironment(name, sources).prepared!).find((f) => f.path === 'README.md')!.content;
    expect(rke2).toContain(startRefusalsText('RKE2', RKE2_UPSTREAM));
    expect(rke2).toContain('| `/server-bootstrap: 401 Unauthorized` | the servers refuse the server token (401) (the start stops at the end of its window) |');
  });
});
