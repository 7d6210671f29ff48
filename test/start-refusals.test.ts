/**
 * The one table of upstream log texts a watched start reads (generators/distributions/rancher/boot.ts START_REFUSALS):
 * each row is run through the rendered start_watched and start_cause against a journal printing exactly the line
 * upstream logs, so that a row whose text no longer matches what the supervisor logs fails here, not on a node after
 * its whole bound. The rows that refuse a token end the start at the end of its first window (exit 3); the others wait
 * out the bound (exit 124) and are named. When the pinned upstream source is present (../shared/upstream/k3s, the
 * supervisor RKE2 builds on too) each row's text is checked against it as well; without it that part skips.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootScriptOf, START_REFUSALS, TOKEN_REFUSALS } from '../generators/distributions/rancher/boot.js';
import { sharedPath } from './helpers.js';

/**
 * For each row: the journal line exactly as upstream logs it (from an issue or the source's format string), the source
 * line that makes it (file@sha, quoted), and where the pinned source holds the row's text (file, the text's pieces).
 */
const CASES: Record<string, { journal: string; quote: string; upstream: { file: string; contains: string[] } }> = {
  'bootstrap data already found and encrypted with different token': {
    // k3s-io/k3s pkg/cluster/storage.go@8fed810c getBootstrapKeyFromStorage:
    //   return nil, false, errors.New("bootstrap data already found and encrypted with different token")
    journal: 'time="2026-12-07T19:00:00Z" level=fatal msg="Error: preparing server: failed to bootstrap cluster data: failed to reconcile with local datastore: bootstrap data already found and encrypted with different token"',
    quote: 'pkg/cluster/storage.go@8fed810c: errors.New("bootstrap data already found and encrypted with different token")',
    upstream: { file: 'pkg/cluster/storage.go', contains: ['bootstrap data already found and encrypted with different token'] },
  },
  '/server-bootstrap: 401 Unauthorized': {
    // k3s-io/k3s pkg/cluster/bootstrap.go httpBootstrap:
    //   content, err := c.clientAccessInfo.Get("/v1-"+version.Program+"/server-bootstrap", clientaccess.WithTimeout(15*time.Second))
    // pkg/clientaccess/token.go@db5fc989 get:  return nil, fmt.Errorf("%s: %s", u, resp.Status)
    // The line as a joiner logs it: k3s-io/k3s#2463 ("FATA[...] starting kubernetes: preparing server:
    // https://centos01.lan.khaus:6443/v1-k3s/server-bootstrap: 401 Unauthorized"); an RKE2 joiner's URL is the supervisor's, :9345.
    journal: 'time="2026-12-07T19:00:00Z" level=fatal msg="Error: preparing server: failed to bootstrap cluster data: https://api.fixture.internal:9345/v1-rke2/server-bootstrap: 401 Unauthorized"',
    quote: 'pkg/cluster/bootstrap.go httpBootstrap: c.clientAccessInfo.Get("/v1-"+version.Program+"/server-bootstrap"); pkg/clientaccess/token.go@db5fc989 get: fmt.Errorf("%s: %s", u, resp.Status)',
    upstream: { file: 'pkg/cluster/bootstrap.go', contains: ['/server-bootstrap"'] },
  },
  '/config: 401 Unauthorized': {
    // k3s-io/k3s pkg/agent/config/config.go@eaaf1f84 get:
    //   controlConfig, err := getConfig(info)
    //   if err != nil { return nil, errors.Wrap(err, "failed to retrieve configuration from server") }
    // Get: logrus.Errorf("Failed to configure agent: %v", err), again after 5 s. The agent's URL is its local load balancer.
    // A joining server's compareConfig in older releases: rancher/rke2#3656 ("failed to validate server configuration:
    // https://<IP_ADDR>:9345/v1-rke2/config: 401 Unauthorized").
    journal: 'time="2026-12-07T19:00:00Z" level=error msg="Failed to configure agent: failed to retrieve configuration from server: https://127.0.0.1:6444/v1-k3s/config: 401 Unauthorized"',
    quote: 'pkg/agent/config/config.go@eaaf1f84 get: errors.Wrap(err, "failed to retrieve configuration from server"); pkg/clientaccess/token.go@db5fc989 get: fmt.Errorf("%s: %s", u, resp.Status)',
    upstream: { file: 'pkg/agent/config/config.go', contains: ['"/config"', 'failed to retrieve configuration from server'] },
  },
  'token CA hash does not match the Cluster CA certificate hash': {
    // k3s-io/k3s pkg/clientaccess/token.go@db5fc989 validateCAHash:
    //   return fmt.Errorf("token CA hash does not match the Cluster CA certificate hash: %s != %s", info.caHash, serverHash)
    journal: `time="2026-12-07T19:00:00Z" level=fatal msg="Error: preparing server: failed to bootstrap cluster data: failed to check if bootstrap data has been initialized: failed to validate token: token CA hash does not match the Cluster CA certificate hash: ${'a'.repeat(64)} != ${'b'.repeat(64)}"`,
    quote: 'pkg/clientaccess/token.go@db5fc989 validateCAHash: fmt.Errorf("token CA hash does not match the Cluster CA certificate hash: %s != %s", ...)',
    upstream: { file: 'pkg/clientaccess/token.go', contains: ['token CA hash does not match the Cluster CA certificate hash'] },
  },
  'password authentication failed for user': {
    // PostgreSQL src/backend/libpq/auth.c auth_failed: errmsg = gettext_noop("password authentication failed for user \"%s\""),
    // inside Kine's ping error (below).
    journal: 'time="2026-12-07T19:00:00Z" level=error msg="Failed to ping database connection: failed to connect to `host=db.internal user=k3s database=k3s`: server error (FATAL: password authentication failed for user \\"k3s\\" (SQLSTATE 28P01))"',
    quote: 'postgres src/backend/libpq/auth.c auth_failed: "password authentication failed for user \\"%s\\""',
    upstream: { file: '', contains: [] },
  },
  'Failed to ping database connection': {
    // k3s-io/kine@0058529d pkg/drivers/generic/generic.go Open: logrus.Errorf("Failed to ping database connection: %v", err)
    journal: 'time="2026-12-07T19:00:00Z" level=error msg="Failed to ping database connection: failed to connect to `host=db.internal user=k3s database=k3s`: dial error (dial tcp 10.0.0.5:5432: connect: connection timed out)"',
    quote: 'k3s-io/kine pkg/drivers/generic/generic.go@0058529d Open: logrus.Errorf("Failed to ping database connection: %v", err)',
    upstream: { file: '', contains: [] },
  },
};

/** What a node's journal shows when its server URL reaches no server: no token was refused, nothing ends the wait early. */
const UNREACHABLE = 'time="2026-12-07T19:00:00Z" level=error msg="failed to get CA certs: Get \\"https://127.0.0.1:6444/cacerts\\": dial tcp 127.0.0.1:6444: connect: connection refused"';

const UNIT = 'odp-test.service';
const WINDOWS = 3;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'odp-refusals-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Run the rendered start_watched and start_cause (the prelude bootScriptOf puts before a body that calls them) with
 * stubs: the unit never becomes ready within a window (`timeout` exits 124, as coreutils' does when systemctl start keeps
 * waiting), and its journal after the start's cursor holds `line`. Returns start_watched's exit, start_cause's words and
 * the windows it waited.
 */
function watch(line: string, readyAt = Infinity): { rc: number; cause: string; windows: number } {
  const stub = (name: string, body: string): void => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  writeFileSync(join(dir, 'journal'), `${line}\n`);
  stub('curl', 'echo us-east-1');
  stub('aws', 'exit 0');
  stub('systemctl', 'exit 0');
  // The unit becomes ready in window readyAt (1-based): that window's timeout exits 0, the earlier ones 124.
  stub('timeout', `echo "$*" >> "${dir}/windows"; [ "$(wc -l < "${dir}/windows")" -ge ${Number.isFinite(readyAt) ? readyAt : 1_000_000} ] && exit 0; exit 124`);
  // journalctl -u UNIT -n 1 --show-cursor (before the start): nothing logged yet, no cursor; afterwards the start's lines.
  stub('journalctl', `case " $* " in *" --show-cursor "*) exit 0 ;; esac; cat "${dir}/journal"`);
  const script = bootScriptOf('odp-test', ['#!/bin/sh'], [`rc=0; start_watched ${UNIT} ${WINDOWS} || rc=$?`, 'echo "rc=$rc"', `echo "cause=$(start_cause ${UNIT})"`]);
  writeFileSync(join(dir, 'script.sh'), script);
  const r = spawnSync('sh', [join(dir, 'script.sh')], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  expect(r.status, r.stderr).toBe(0);
  const windows = readFileSync(join(dir, 'windows'), 'utf8').split('\n').filter(Boolean);
  expect(windows.every((w) => w === `60 systemctl start ${UNIT}`)).toBe(true);
  return { rc: Number(/^rc=(\d+)$/m.exec(r.stdout)?.[1]), cause: /^cause=(.*)$/m.exec(r.stdout)?.[1] ?? '', windows: windows.length };
}

describe('START_REFUSALS: the rendered start_watched against the line upstream logs', () => {
  it('every row has its upstream line here (a new row needs one)', () => {
    expect(Object.keys(CASES).sort()).toStrictEqual(START_REFUSALS.map((r) => r.text).sort());
    for (const [text, c] of Object.entries(CASES)) {
      expect(c.journal).toContain(text);
      expect(c.quote.length).toBeGreaterThan(0);
    }
  });

  for (const row of START_REFUSALS) {
    const c = CASES[row.text]!;
    if (row.token)
      it(`"${row.text}": a refused token, the start ends after its first window (3) and says so`, () => {
        expect(watch(c.journal)).toStrictEqual({ rc: 3, cause: `its journal says ${row.cause}`, windows: 1 });
      });
    else
      it(`"${row.text}": not the token, the start waits out its bound (124) and names the cause`, () => {
        expect(watch(c.journal)).toStrictEqual({ rc: 124, cause: `its journal says ${row.cause}`, windows: WINDOWS });
      });
  }

  // A shell function has no locals: start_watched kept the window's 124 in the caller's rc, so a start ready in its second
  // window returned 0 while the caller's rc (rc=0; start_watched … || rc=$?) still read 124 and the boot stopped.
  it('a start ready in its second window: start_watched returns 0 and the caller\'s rc stays 0', () => {
    expect(watch(UNREACHABLE, 2)).toStrictEqual({ rc: 0, cause: `see journalctl -u ${UNIT}`, windows: 2 });
  });

  it('a server URL reaching no server ("failed to get CA certs", no token sent) is no refusal: the whole bound, the journal named', () => {
    expect(watch(UNREACHABLE)).toStrictEqual({ rc: 124, cause: `see journalctl -u ${UNIT}`, windows: WINDOWS });
  });

  it('the joiner\'s and the agent\'s 401 and the CA hash refusal are token rows; the database\'s are not', () => {
    expect(TOKEN_REFUSALS.map((r) => r.text)).toStrictEqual([
      'bootstrap data already found and encrypted with different token',
      '/server-bootstrap: 401 Unauthorized',
      '/config: 401 Unauthorized',
      'token CA hash does not match the Cluster CA certificate hash',
    ]);
  });
});

/** The pinned supervisor source, when ../shared/upstream holds it (asked at run time only: nothing reads it while collecting). */
const K3S_SOURCE = (): string | undefined => sharedPath('upstream', 'k3s');

describe('START_REFUSALS against the pinned upstream source (../shared/upstream/k3s)', () => {
  it.skipIf(!sharedPath('upstream', 'k3s'))('each row\'s text is in the file that logs it; the status text is formatted "%s: %s" after the URL', () => {
    const root = K3S_SOURCE()!;
    const read = (f: string): string => readFileSync(join(root, f), 'utf8');
    for (const row of START_REFUSALS) {
      const u = CASES[row.text]!.upstream;
      if (!u.file) continue;
      for (const piece of u.contains) expect(read(u.file), `${row.text}: ${u.file}`).toContain(piece);
    }
    expect(read('pkg/clientaccess/token.go')).toMatch(/fmt\.Errorf\("%s: %s", u, resp\.Status\)/);
  });
});
