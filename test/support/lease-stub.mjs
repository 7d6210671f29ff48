/**
 * Leases in kube-system as kubectl and the API server answer them, for the stubs of the scripts that take the
 * cluster-wide lock (generators/lib/cluster-lock.ts): node-stubs.mjs (apply-config.sh) and fixed-fleet.mjs
 * (aws/deploy.sh node-update). State: a JSON file of Leases by name ({ holderIdentity, leaseDurationSeconds,
 * acquireTime, renewTime, resourceVersion, annotations? }: a write keeps the document's metadata.annotations, as a PUT
 * replaces the whole object).
 *
 * `create -f -` refuses an existing name (AlreadyExists), `replace -f -` a stale metadata.resourceVersion (Conflict), as
 * the API server does for a POST and for a PUT with metadata.resourceVersion (k8s.io/apiserver pkg/storage/etcd3/store.go
 * Create, GuaranteedUpdate); `get lease NAME -o jsonpath=…` (fields by path, `\.` a dot inside a key; a missing one
 * prints nothing, as kubectl's jsonpath does with missing keys allowed) and `delete lease NAME` (NotFound when absent).
 * Every write is appended, in order, to `<file without .json>.log` (what a test asserts of the renewals); a write with
 * `-o jsonpath={.metadata.resourceVersion}` prints the written object's resourceVersion, as kubectl does.
 * `get --ignore-not-found` of an absent Lease prints nothing and exits 0 ("If the requested object does not exist the
 * command will return exit code 0": kubectl reference, kubectl get).
 * An API server that does not answer (`<file without .json>-unreachable.json`, { skip: n, before: n, after: n }): after
 * `skip` Lease calls, the next `before` Lease calls fail without reaching it, and the next `after` replaces are applied but their answer is lost;
 * either way kubectl exits 1 as client-go does once --request-timeout passes (the URL error kubectl prints as "Unable to
 * connect to the server: …": k8s.io/kubectl pkg/cmd/util/helpers.go standardErrorMessage; "Client.Timeout exceeded
 * while awaiting headers" is Go's net/http error for http.Client.Timeout, which client-go sets from rest.Config.Timeout,
 * the --request-timeout value: k8s.io/cli-runtime pkg/genericclioptions/config_flags.go ToRESTConfig).
 * Returns false for any other command (not a Lease's).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const TIMED_OUT = 'Unable to connect to the server: net/http: request canceled (Client.Timeout exceeded while awaiting headers)';

export function leaseCommand(allArgs, file, fail) {
  // kubectl's global --request-timeout (lib/kubectl-timeout.ts) changes no answer here.
  const args = allArgs.filter((a) => !a.startsWith('--request-timeout='));
  const isLease = args.includes('lease') || (args.includes('-f') && ['create', 'replace'].includes((args[0] === '-n' ? args.slice(2) : args)[0]));
  const downFile = file.replace(/\.json$/, '-unreachable.json');
  const down = isLease && existsSync(downFile) ? JSON.parse(readFileSync(downFile, 'utf8')) : undefined;
  // `skip`: that many Lease calls answered first (the lock taken), then the failures.
  if (down?.skip > 0) writeFileSync(downFile, JSON.stringify({ ...down, skip: down.skip - 1 }));
  else if (down?.before > 0) {
    writeFileSync(downFile, JSON.stringify({ ...down, before: down.before - 1 }));
    fail(1, TIMED_OUT);
  }
  const lostAnswer = !(down?.skip > 0) && down?.after > 0 && args.includes('replace');
  if (lostAnswer) writeFileSync(downFile, JSON.stringify({ ...down, after: down.after - 1 }));
  const readLeases = () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {});
  const writeLeases = (l) => writeFileSync(file, JSON.stringify(l));
  const nsArgs = args[0] === '-n' ? args.slice(2) : args;
  const opt = (name) => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  if (['create', 'replace'].includes(nsArgs[0]) && nsArgs[1] === '-f' && nsArgs[2] === '-') {
    const doc = parse(readFileSync(0, 'utf8'));
    if (doc.kind !== 'Lease') fail(1, `kubectl stub: only Leases are created here, not ${doc.kind}`);
    const leases = readLeases();
    const name = doc.metadata.name;
    const kind = 'leases.coordination.k8s.io';
    const annotations = doc.metadata.annotations ? { annotations: doc.metadata.annotations } : {};
    const current = leases[name];
    const written = (verb) => {
      writeLeases(leases);
      appendFileSync(file.replace(/\.json$/, '.log'), `${JSON.stringify({ verb, ...leases[name] })}\n`);
      if (lostAnswer) fail(1, TIMED_OUT);
      const o = opt('-o');
      if (o === 'jsonpath={.metadata.resourceVersion}') process.stdout.write(leases[name].resourceVersion);
      else if (o !== undefined) fail(1, `kubectl stub: unexpected -o ${o}`);
      else process.stdout.write(`lease.coordination.k8s.io/${name} ${verb}\n`);
      return true;
    };
    if (nsArgs[0] === 'create') {
      if (current) fail(1, `Error from server (AlreadyExists): error when creating "STDIN": ${kind} "${name}" already exists`);
      leases[name] = { ...doc.spec, resourceVersion: '1', ...annotations };
      return written('created');
    }
    if (!current) fail(1, `Error from server (NotFound): error when replacing "STDIN": ${kind} "${name}" not found`);
    if (doc.metadata.resourceVersion !== undefined && doc.metadata.resourceVersion !== current.resourceVersion)
      fail(1, `Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on ${kind} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    leases[name] = { ...doc.spec, resourceVersion: String(Number(current.resourceVersion) + 1), ...annotations };
    return written('replaced');
  }
  if (nsArgs[1] === 'lease' && ['get', 'delete'].includes(nsArgs[0])) {
    const leases = readLeases();
    const name = nsArgs[2];
    const l = leases[name];
    if (!l && nsArgs[0] === 'get' && args.includes('--ignore-not-found')) return true;
    if (!l) fail(1, `Error from server (NotFound): leases.coordination.k8s.io "${name}" not found`);
    if (nsArgs[0] === 'delete') {
      delete leases[name];
      writeLeases(leases);
      process.stdout.write(`lease.coordination.k8s.io "${name}" deleted\n`);
      return true;
    }
    const { annotations, ...spec } = l;
    const object = { metadata: { name, namespace: 'kube-system', resourceVersion: l.resourceVersion, annotations }, spec };
    const path = (opt('-o') ?? '').replace(/^jsonpath=/, '');
    const field = (p) => p.split(/(?<!\\)\./).map((k) => k.replace(/\\\./g, '.')).reduce((o, k) => o?.[k], object);
    process.stdout.write(path.replace(/\{\.((?:[A-Za-z0-9/_-]|\\\.|\.)+)\}/g, (_, p) => String(field(p) ?? '')));
    return true;
  }
  return false;
}
