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
 * Returns false for any other command (not a Lease's).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

export function leaseCommand(allArgs, file, fail) {
  // kubectl's global --request-timeout (lib/kubectl-timeout.ts) changes no answer here.
  const args = allArgs.filter((a) => !a.startsWith('--request-timeout='));
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
