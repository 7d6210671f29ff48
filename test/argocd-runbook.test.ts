/**
 * The README's "Manual sync" block, executed with `sh -e` against a stub of the argocd CLI (test/support/argocd-stub.mjs,
 * argo-cd v3.4.4 cmd/argocd/commands/app.go: exit codes, --timeout, --resource filters, wave order within a sync), on a
 * world built from the rendered tree: the root's objects are the files of apps/ and argocd/ with their sync-waves; the
 * CRD groups come with the Applications whose charts bring them (kube-prometheus-stack: monitoring.coreos.com,
 * external-secrets: external-secrets.io). Every wait in it is bounded (the stub reports a wait nothing bounds), and the
 * refresh that cannot end while the application controller is down fails with a message naming the next step.
 */
import { describe, expect, it } from 'vitest';
import type { renderEnvironment } from '../generators/pipeline.js';
import { ARGOCD_CLI } from '../generators/engines/argocd/cli.js';
import { renderEditedFixture } from './helpers.js';
import { runWithArgocdStub, stubObjects } from './support/argocd-run.js';

type Files = ReturnType<typeof renderEnvironment>;

const manualStandalone = () => renderEditedFixture('talos-argocd-pools.yaml', (s) => `${s}\nargocd:\n  automated: false\n`);
const manualHub = () => renderEditedFixture('hub.yaml', (s) => s.replace(/^argocd:\n/m, 'argocd:\n  automated: false\n'));

/** The sh block of the README's "Manual sync". */
const manualBlock = (files: Files): string => {
  const readme = files.find((f) => f.path === 'README.md')!.content;
  const section = readme.slice(readme.indexOf('### Manual sync'));
  const start = section.indexOf('```sh\n') + 6;
  return section.slice(start, section.indexOf('```', start));
};

/** The world after the bootstrap: the root exists, unread by the controller; its objects as rendered. */
function world(files: Files, o: { controller?: boolean; unhealthy?: string[] } = {}) {
  const objects = stubObjects(files);
  return {
    namespace: 'argocd',
    controller: o.controller ?? true,
    crdFrom: { 'monitoring.coreos.com': 'kube-prometheus-stack', 'external-secrets.io': 'external-secrets' },
    unhealthy: o.unhealthy ?? [],
    apps: { root: { objects } } as Record<string, any>,
  };
}

const run = (block: string, w: ReturnType<typeof world>) => runWithArgocdStub(block, w, ['-e']);

describe("the manual-sync runbook, run against the argocd CLI's behaviour", () => {
  const standalone = manualStandalone();
  const hub = manualHub();

  for (const [label, files] of [['standalone', standalone], ['hub', hub]] as const) {
    it(`${label}: with the controller running, the block ends 0: the root's first sync leaves out the custom resources, every Application is synced and Healthy, the root ends Synced`, () => {
      const block = manualBlock(files);
      const r = run(block, world(files));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.log[0]).toBe(`argocd app get root --refresh --timeout ${ARGOCD_CLI.refreshTimeoutSeconds}`);
      expect(r.log[1]).toBe('kubectl -n argocd get application root -o jsonpath={.status.resources[*].kind}');
      expect(r.log[2]).toMatch(/^argocd app sync root --resource !monitoring\.coreos\.com:\*:\* /);
      expect(r.log.at(-1)).toBe(`argocd app sync root --timeout ${ARGOCD_CLI.waitTimeoutSeconds}`);
      const apps = r.world.apps.root.objects.filter((o: any) => o.kind === 'Application').map((o: any) => o.name);
      expect(apps.length).toBeGreaterThan(5);
      for (const a of [...apps, 'root']) expect(r.world.apps[a]?.synced, a).toBe(true);
      // Every argocd wait names its bound.
      for (const line of r.log.filter((l) => / app (sync|wait|get) /.test(l))) expect(line, line).toMatch(/ --timeout \d+/);
    });
  }

  it("the same block without the refresh: the root's filter matches nothing the controller has read, and the CLI refuses it (exit 1)", () => {
    const block = manualBlock(standalone).split('\n').slice(2).join('\n');
    const r = run(block, world(standalone));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('No matching app resources found for resource filter: !monitoring.coreos.com:*:*');
  });

  it('the controller not running: the refresh ends at its bound, and the block stops with a message naming the next step (no sync started)', () => {
    const r = run(manualBlock(hub), world(hub, { controller: false }));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "root: the application controller has not read the root's resources within 5 minutes; check it runs (kubectl -n argocd get pods -l app.kubernetes.io/name=argocd-application-controller), then start this block again\n",
    );
    expect(r.log.some((l) => l.startsWith('argocd app sync'))).toBe(false);
    // Without the bounds (the runbook before): the refresh never ends.
    const unbounded = run(manualBlock(hub).replace(/ --timeout \d+/g, ''), world(hub, { controller: false }));
    expect(unbounded.status).toBe(124);
    expect(unbounded.stderr).toContain('argocd stub: unbounded wait: the refresh of root');
  });

  it('an Application that never turns Healthy: its wave ends at the bound, exit 20, naming it; the runbook goes no further', () => {
    const r = run(manualBlock(standalone), world(standalone, { unhealthy: ['cert-manager'] }));
    expect(r.status).toBe(20);
    expect(r.stderr).toContain(`timed out (${ARGOCD_CLI.waitTimeoutSeconds}s) waiting for app \\"cert-manager\\" match desired state`);
    expect(r.log.at(-1)).toMatch(/^argocd app wait .*cert-manager.* --health --timeout 900$/);
    expect(r.world.apps.root.synced).toBeUndefined();
  });

  it("a root object with a sync-wave of its own would make the root's first sync wait on a manual Application: bounded, it times out", () => {
    const w = world(standalone);
    // gitops-engine sync_context.go:538-583: the wave-0 Applications, manual and not yet synced, never turn Healthy.
    w.apps.root.objects.find((o: any) => o.kind === 'AppProject')!.wave = 5;
    const r = run(manualBlock(standalone), w);
    expect(r.status).toBe(20);
    expect(r.stderr).toContain(`timed out (${ARGOCD_CLI.waitTimeoutSeconds}s) waiting for app \\"root\\" match desired state`);
  });

  it("the root's custom resources applied before their CRD's Application was synced fail the root's operation (exit 1)", () => {
    const block = manualBlock(standalone).replace(/ --resource '![^']+'/g, '');
    const r = run(block, world(standalone));
    expect(r.status).toBe(1);
    // The logrus line of log.Fatalf (cmd/argocd/commands/app.go:2475-2476).
    expect(r.stderr).toContain('Operation has completed with phase: Failed');
  });
});
