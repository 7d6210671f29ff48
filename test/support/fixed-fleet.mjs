#!/usr/bin/env node
/**
 * Stub binaries of a cluster's fixed nodes (AWS::EC2::Instance of the nodes stack) in motion, for tests that run
 * aws/deploy.sh against them (test/aws-fixed-update.test.ts links aws, kubectl and sleep to this file). State:
 * $FLEET/fleet.json; every call is appended to $FLEET/calls.log. They behave as upstream does where the script depends on it:
 *
 * - aws cloudformation deploy (AWS CLI awscli/customizations/cloudformation/deploy.py merge_parameters, aws/aws-cli@051c3296:
 *   a template parameter not in --parameter-overrides is sent with UsePreviousValue; a stack without a previous value for
 *   it fails the change set) runs the update as CloudFormation does for the instance type (`stack.instances`, in the
 *   DependsOn chain's order: the next one once the previous update is done): a changed type stops the instance (its
 *   kubelet goes with it: the Node NotReady, its pods not evicted), changes the type (EC2 ModifyInstanceAttribute: only a
 *   stopped instance, else IncorrectInstanceState), starts it and moves on once it runs; the kubelet posts Ready and
 *   its new boot id (status.nodeInfo.bootID) `fleet.bootAsks` sleeps later. A control plane stopped while another is not Ready is recorded in
 *   `unsafe`, a node stopped with workload pods on it (not drained) in `stoppedWithPods`. No change: "No changes to
 *   deploy. Stack <name> is up to date" (exit 0 with --no-fail-on-empty-changeset). update-termination-protection: accepted.
 * - aws cloudformation describe-stacks --query: the git-sync stack's DeployRoleArn; the nodes stack's StackStatus, an
 *   output's or a parameter's value ('' when absent: the text output of an empty list); a stack never created:
 *   ValidationError "Stack with id <name> does not exist", exit 254 (AWS CLI v2 return codes).
 * - aws ec2 describe-instances --query …InstanceType / …State.Name; autoscaling describe-auto-scaling-groups: no instance.
 * - kubectl get nodes (NODE_ADDRESS_LIST: "<name> <InternalIP>"), get nodes -l node-role.kubernetes.io/control-plane
 *   ("<name> <Ready status>": Unknown once the node controller lost the kubelet), get node NAME -o jsonpath of
 *   status.nodeInfo.bootID and/or the Ready condition, get --raw /readyz ("ok" while a majority of the control planes
 *   run: the API server's etcd check; else the error kubectl prints for a failed readyz, exit 1), drain (kubectl-drain.mjs),
 *   uncordon. `fleet.otherCluster`: kubectl reaches another cluster (none of these Nodes).
 * - aws cloudformation update-stack --use-previous-template --parameters ParameterKey=K,ParameterValue=V |
 *   ParameterKey=K,UsePreviousValue=true … (CloudFormation API UpdateStack, Parameter): the stack's own template, so only
 *   its parameters may be given ("Parameters: [K] do not exist in the template") and each must be ("Parameters: [K] must
 *   have values"); nothing changed: "No updates are to be performed." Then the same instance updates as a deploy, without
 *   the branch's template (its user data, `fleet.templateUserData`, stays undeployed). The stack's StackStatus then
 *   (describe-stacks, as CloudFormation reports an update: CloudFormation API reference, Stack.StackStatus):
 *   UPDATE_IN_PROGRESS for `fleet.updatePolls` queries (0 unless set; for ever with `fleet.updateStuck`), then
 *   UPDATE_COMPLETE, or `fleet.updateFails` (a status such as UPDATE_ROLLBACK_COMPLETE), after `fleet.rollbackPolls`
 *   queries answering UPDATE_ROLLBACK_IN_PROGRESS (a rollback takes its time too).
 * - Failed deploys (aws/aws-cli awscli/customizations/cloudformation/deployer.py @029e5be7; CloudFormation user guide,
 *   "Stack status codes", "Continue rolling back an update"): the stack's own status `stack.status`, once set, answers
 *   describe-stacks; `fleet.statusQueue` is answered first, one status per query (an operation in progress ending).
 *   deploy on a stack in ROLLBACK_COMPLETE, ROLLBACK_FAILED, DELETE_FAILED, UPDATE_ROLLBACK_FAILED or any *_IN_PROGRESS
 *   but REVIEW_IN_PROGRESS: its UPDATE change set refused, "ValidationError … is in <status> state and can not be
 *   updated", exit 254. `fleet.deployFails` (a status: ROLLBACK_COMPLETE for a creation, UPDATE_ROLLBACK_COMPLETE or
 *   UPDATE_ROLLBACK_FAILED for an update): the change set executed, the waiter's failure "Failed to create/update the
 *   stack. Run the following command to fetch the list of events leading up to the failure", exit 255, the stack left in
 *   that status and its parameters as before (rolled back); once. delete-stack: refused while termination protection is
 *   on (update-termination-protection: "Stack [<name>] cannot be deleted while TerminationProtection is enabled"), else
 *   the stack is gone. continue-update-rollback: from UPDATE_ROLLBACK_FAILED only, to UPDATE_ROLLBACK_COMPLETE (still
 *   UPDATE_ROLLBACK_FAILED while `fleet.rollbackBlocked`: the cause not fixed). wait stack-delete-complete /
 *   stack-rollback-complete: exit 0 once the stack is gone / UPDATE_ROLLBACK_COMPLETE, else the waiter's failure, 255.
 *   `fleet.changeSetRefused`: CreateChangeSet refused (a template error), exit 254, nothing changed. update-stack is refused
 *   alike in those statuses, its own update's included while in progress ("An error occurred (ValidationError) when
 *   calling the UpdateStack operation: Stack:arn:… is in UPDATE_IN_PROGRESS state and can not be updated.", as the
 *   AWS CLI reports it: stratospheric-dev/stratospheric issue #21, remind101/empire issue #932);
 *   `fleet.syncOnDrain` (a status): the stack's Git sync begins an operation during `kubectl drain`. Another stack (the
 *   base stack): UPDATE_COMPLETE, and deploy finds nothing to change.
 * - deploy with the branch's template: an instance whose user data differs from `fleet.templateUserData` is stopped and
 *   started as for a type (UserData: "Some interruptions"), its user data then the template's.
 * - Termination protection (instances[id].protected, from the template's DisableApiTermination): aws ec2
 *   modify-instance-attribute --[no-]disable-api-termination sets it; terminate-instances on a protected instance fails
 *   with OperationNotPermitted (exit 254), else the instance is terminated (wait instance-terminated then passes);
 *   delete-stack terminates the stack's instances and ends in DELETE_FAILED while one is protected (CloudFormation deletes
 *   through TerminateInstances); list-stack-resources lists the instances the stack still holds, one terminated by hand
 *   included (CloudFormation does not know; none after ROLLBACK_COMPLETE: the rollback deleted them);
 *   describe-instance-attribute --attribute disableApiTermination: True / False (the CLI's text output of a boolean);
 *   modify-instance-attribute on a terminated instance: refused (IncorrectInstanceState; the wording is the stub's).
 * - The update's cleanup (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS): a stack instance marked \`dropped\` (the branch's template
 *   no longer has its node) is deleted after a successful deploy; a protected one is refused (OperationNotPermitted),
 *   skipped after CloudFormation's retries and left running, the update still UPDATE_COMPLETE ("it retries 3 times, then
 *   abandons the deletion and marks the update as successful": aws/aws-cdk-cli#1576; #1564; "Update successful. One or
 *   more resources could not be deleted": aws-cloudformation/cloudformation-coverage-roadmap#744). Either way it leaves
 *   the stack (its resource and output). \`fleet.rollbackOrphan\` ({ id, type }) with \`deployFails\`
 *   UPDATE_ROLLBACK_COMPLETE: the failed update had created that protected instance and the rollback's cleanup could not
 *   delete it: it runs on, out of the stack, and describe-stack-events (--query … DELETE_FAILED …PhysicalResourceId)
 *   names it, once per attempt (three). Outputs' descriptions: \`stack.descriptions\`.
 * - aws ec2 describe-instance-attribute --attribute userData: the instance's user data, base64 of the bytes EC2 holds (as
 *   EC2 returns it; `instances[id].userData` and `templateUserData` hold that base64).
 * - kubectl --request-timeout=D (lib/kubectl-timeout.ts), wherever on the line: a call without it, while
 *   `fleet.apiUnreachable` (the API server's address does not answer; `fleet.apiDownOnUpdate` sets it at the stack
 *   update), would hang for ever (kubectl's default: no timeout): the stub records it in `hung` and fails; with it, it
 *   fails as client-go does once the timeout passes ("Unable to connect to the server: … (Client.Timeout exceeded while
 *   awaiting headers)"). get node NAME -o jsonpath={.spec.unschedulable}: "true" once cordoned (kubectl drain), else
 *   empty (the field omitted).
 * - kubectl: the control planes' EtcdIsVoter condition (`voter`, False once stopped, True once booted), get --raw
 *   /readyz/etcd (ok while a majority of the control planes run), Leases (./lease-stub.mjs, $FLEET/leases.json).
 * - talosctl version / kubeconfig / etcd members --nodes IP: the node's Talos API answers while its instance runs;
 *   `etcd members` fails while the node is not Ready or no majority of control planes is (no leader), or `fleet.noLeader`.
 * - sleep N: returns at once; time passes for the booting kubelets, and N seconds on the clock the `date` stub reads
 *   (./fleet-clock.mjs: `fleet.clock`). An aws call takes `fleet.awsSeconds` on that clock (0 unless set: a slow call,
 *   the AWS CLI's own retries).
 * - kubectl get nodes -o jsonpath=…annotations.odp-gitops\.io/apply-config-handover…: "<name> <annotation>" lines
 *   (a node's `handover`: an agent drained for its own apply-config.sh run).
 * - timeout DURATION CMD…: runs CMD (coreutils' timeout) with its deadline known to the stubs (STUB_DEADLINE); a
 *   `talosctl etcd members` that would hang (`fleet.etcdHangs`: the Talos API accepted the call, the member's etcd
 *   client waits on a member that answers nothing) exits 124
 *   as timeout does when its deadline expires, and without a deadline is recorded in `hung` and fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { drain, openFleet } from './fleet-stub.mjs';
import { leaseCommand } from './lease-stub.mjs';

const { cmd, args, f, save, opt, event } = openFleet();
const fail = (code, msg) => {
  process.stderr.write(`${msg}\n`);
  process.exit(code);
};
const nodeOf = (instance) => Object.values(f.nodes).find((n) => n.instance === instance);
/** A fixed node's environment name (the Node's is the EC2 host name). */
const fixedName = (n) => n.fixed ?? n.name;
/**
 * EC2 on a protected instance (DisableApiTermination): TerminateInstances is refused with OperationNotPermitted and this
 * message (Amazon EC2 API reference, Error codes; the AWS CLI's text as rebuy-de/aws-nuke#279 quotes it), and so is
 * CloudFormation's deletion of it (generators/infra/aws/termination.ts).
 */
const TERMINATION_REFUSED = 'OperationNotPermitted';
const terminationRefusedMessage = (id) => `The instance '${id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`;
/** The instances the nodes stack still holds (not terminated). */
const stackInstances = (s) => s.instances.map((x) => x.instance).filter((id) => f.instances[id] && f.instances[id].state !== 'terminated');
const controlPlanes = () => Object.values(f.nodes).filter((n) => n.role === 'controlplane');

function sleep() {
  f.clock = (f.clock ?? 0) + Number(args[0] ?? 0);
  for (const n of Object.values(f.nodes))
    if (n.bootIn !== undefined && --n.bootIn <= 0) {
      delete n.bootIn;
      n.boot = n.nextBoot;
      n.ready = 'True';
      if (n.role === 'controlplane') n.voter = 'True';
    }
  save();
}

/** CloudFormation's update of one instance whose type changed: stop, modify (stopped only), start; done once it runs. */
function updateInstance(id, type) {
  const inst = f.instances[id];
  const n = nodeOf(id);
  if (n.role === 'controlplane' && controlPlanes().some((x) => x !== n && x.ready !== 'True')) f.unsafe = [...(f.unsafe ?? []), fixedName(n)];
  if ((f.pods ?? []).some((p) => p.node === n.name && !p.daemonSet)) f.stoppedWithPods = [...(f.stoppedWithPods ?? []), fixedName(n)];
  inst.state = 'stopped';
  // The node controller marks the Node Unknown once the kubelet missed its grace period; `fleet.staleReady`: the stop and
  // start were quicker, so the Node still shows Ready (and its old boot id) until the new kubelet posts its status.
  if (!f.staleReady) n.ready = 'Unknown';
  if (n.role === 'controlplane') n.voter = 'False';
  event(`stop ${fixedName(n)}`);
  if (inst.state !== 'stopped') fail(254, `An error occurred (IncorrectInstanceState) when calling the ModifyInstanceAttribute operation: The instance '${id}' is not in the 'stopped' state.`);
  inst.type = type;
  inst.state = 'running';
  n.nextBoot = `${n.boot}+${(f.boots = (f.boots ?? 0) + 1)}`;
  n.bootIn = f.bootAsks ?? 2;
  event(`start ${fixedName(n)} ${type}`);
}

/** Statuses CloudFormation refuses an UPDATE change set in (with every *_IN_PROGRESS but REVIEW_IN_PROGRESS). */
const BLOCKED = ['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'DELETE_FAILED', 'UPDATE_ROLLBACK_FAILED'];

/** An operation CloudFormation refuses on a stack in `current` (CreateChangeSet of deploy, UpdateStack): the ValidationError. */
function refuseBlocked(s, current, operation) {
  if (current && current !== 'REVIEW_IN_PROGRESS' && (BLOCKED.includes(current) || current.endsWith('_IN_PROGRESS')))
    fail(254, `\nAn error occurred (ValidationError) when calling the ${operation} operation: Stack:arn:aws:cloudformation:eu-west-1:333333333333:stack/${s.name}/1 is in ${current} state and can not be updated.`);
}

/** The nodes stack's StackStatus as describe-stacks answers it now. */
function stackStatus(s) {
  if (f.statusQueue?.length) {
    const next = f.statusQueue.shift();
    save();
    return next;
  }
  if (s.updating === undefined) return s.status ?? 'UPDATE_COMPLETE';
  if (f.updateStuck || s.updating > 0) {
    if (!f.updateStuck) s.updating -= 1;
    save();
    return 'UPDATE_IN_PROGRESS';
  }
  if (f.updateFails && (f.rollbackPolls ?? 0) > 0) {
    f.rollbackPolls -= 1;
    save();
    return 'UPDATE_ROLLBACK_IN_PROGRESS';
  }
  return f.updateFails ?? 'UPDATE_COMPLETE';
}

function deploy() {
  const s = f.stack;
  if (opt('--stack-name') !== s.name) return process.stdout.write(`\nWaiting for changeset to be created..\n\nNo changes to deploy. Stack ${opt('--stack-name')} is up to date\n`);
  refuseBlocked(s, s.exists ? s.status : undefined, 'CreateChangeSet');
  const i = args.indexOf('--parameter-overrides');
  const given = {};
  for (const a of i === -1 ? [] : args.slice(i + 1)) {
    if (a.startsWith('--')) break;
    const k = a.indexOf('=');
    given[a.slice(0, k)] = a.slice(k + 1);
  }
  const next = {};
  for (const p of s.templateParameters) {
    if (p in given) next[p] = given[p];
    else if (s.exists && p in s.parameters) next[p] = s.parameters[p];
    else fail(255, `An error occurred (ValidationError) when calling the CreateChangeSet operation: Parameter: [${p}] must have values`);
  }
  const ud = f.templateUserData ?? {};
  const kept = s.instances.filter((x) => !x.dropped);
  const dropped = s.instances.filter((x) => x.dropped);
  const changed = kept.filter((x) => f.instances[x.instance].type !== next[x.param] || (x.instance in ud && f.instances[x.instance].userData !== ud[x.instance]));
  for (const x of changed) if (x.instance in ud) f.instances[x.instance].userData = ud[x.instance];
  const paramsChanged = JSON.stringify(next) !== JSON.stringify(s.parameters);
  if (s.exists && !paramsChanged && !f.templateChanged && dropped.length === 0) {
    process.stdout.write(`\nWaiting for changeset to be created..\n\nNo changes to deploy. Stack ${s.name} is up to date\n`);
    return;
  }
  if (f.changeSetRefused) fail(254, '\nAn error occurred (ValidationError) when calling the CreateChangeSet operation: Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template');
  if (f.deployFails) {
    s.exists = true;
    s.status = f.deployFails;
    if (f.rollbackOrphan) {
      // Created by the update, then not deleted by its rollback: termination protection (CloudFormation's three tries).
      f.instances[f.rollbackOrphan.id] = { type: f.rollbackOrphan.type, state: 'running', protected: true };
      s.deleteFailed = [...(s.deleteFailed ?? []), ...[1, 2, 3].map(() => f.rollbackOrphan.id)];
      event(`rollback cleanup skipped: ${f.rollbackOrphan.id} ${TERMINATION_REFUSED}`);
      delete f.rollbackOrphan;
    }
    delete s.updating;
    event(`deploy failed: ${f.deployFails}`);
    delete f.deployFails;
    save();
    process.stdout.write('\nWaiting for changeset to be created..\nWaiting for stack create/update to complete\n');
    fail(255, `\nFailed to create/update the stack. Run the following command\nto fetch the list of events leading up to the failure\naws cloudformation describe-stack-events --stack-name ${s.name}`);
  }
  const created = !s.exists;
  for (const x of changed) updateInstance(x.instance, next[x.param]);
  // The cleanup: each dropped instance deleted (TerminateInstances), a protected one skipped; both leave the stack.
  for (const x of dropped) {
    const inst = f.instances[x.instance];
    if (inst.protected && inst.state !== 'terminated') {
      s.deleteFailed = [...(s.deleteFailed ?? []), ...[1, 2, 3].map(() => x.instance)];
      event(`cleanup skipped: ${x.instance} ${TERMINATION_REFUSED}`);
    } else {
      inst.state = 'terminated';
      event(`cleanup deleted: ${x.instance}`);
    }
    s.instances = s.instances.filter((y) => y !== x);
    for (const [k, v] of Object.entries(s.outputs)) if (v === x.instance) delete s.outputs[k];
  }
  s.parameters = next;
  s.exists = true;
  s.status = created ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE';
  delete s.updating;
  f.templateChanged = false;
  event(`stack updated${changed.length > 0 ? `: ${changed.map((x) => fixedName(nodeOf(x.instance))).join(', ')}` : ''}`);
  save();
  process.stdout.write(`\nWaiting for changeset to be created..\nWaiting for stack create/update to complete\nSuccessfully created/updated stack - ${s.name}\n`);
}

/** UpdateStack with the stack's own template: only its parameters, each given or UsePreviousValue. */
function updateStack() {
  const s = f.stack;
  if (!args.includes('--use-previous-template')) fail(252, 'aws stub: update-stack is modelled with --use-previous-template only');
  // The stack's own status (`stack.status`: another run's or Git sync's operation), or this stub's update of it.
  refuseBlocked(s, s.updating === undefined ? s.status : f.updateStuck || s.updating > 0 ? 'UPDATE_IN_PROGRESS' : f.updateFails, 'UpdateStack');
  const i = args.indexOf('--parameters');
  const list = [];
  for (const a of args.slice(i + 1)) {
    if (a.startsWith('--')) break;
    list.push(Object.fromEntries(a.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
  }
  const next = {};
  for (const p of list) {
    if (!(p.ParameterKey in s.parameters)) fail(254, `\nAn error occurred (ValidationError) when calling the UpdateStack operation: Parameters: [${p.ParameterKey}] do not exist in the template`);
    next[p.ParameterKey] = p.UsePreviousValue === 'true' ? s.parameters[p.ParameterKey] : p.ParameterValue;
  }
  const missing = Object.keys(s.parameters).filter((k) => !(k in next));
  // The stack's parameter order (its template's).
  const ordered = Object.fromEntries(Object.keys(s.parameters).filter((k) => k in next).map((k) => [k, next[k]]));
  if (missing.length > 0) fail(254, `\nAn error occurred (ValidationError) when calling the UpdateStack operation: Parameters: [${missing.join(', ')}] must have values`);
  if (JSON.stringify(ordered) === JSON.stringify(s.parameters)) fail(254, '\nAn error occurred (ValidationError) when calling the UpdateStack operation: No updates are to be performed.');
  const changed = s.instances.filter((x) => f.instances[x.instance].type !== ordered[x.param]);
  for (const x of changed) updateInstance(x.instance, ordered[x.param]);
  s.parameters = ordered;
  s.updating = f.updatePolls ?? 0;
  if (f.apiDownOnUpdate) f.apiUnreachable = true;
  event(`stack updated (its own template)${changed.length > 0 ? `: ${changed.map((x) => fixedName(nodeOf(x.instance))).join(', ')}` : ''}`);
  save();
  process.stdout.write(JSON.stringify({ StackId: `arn:aws:cloudformation:eu-west-1:333333333333:stack/${s.name}/1` }) + '\n');
}

function aws() {
  const [service, op] = args;
  const query = opt('--query') ?? '';
  if (service === 'cloudformation' && op === 'deploy') return deploy();
  const s = f.stack;
  if (service === 'cloudformation' && op === 'update-termination-protection') {
    if (opt('--stack-name') === s.name) s.protected = args.includes('--enable-termination-protection');
    return save();
  }
  if (service === 'cloudformation' && op === 'delete-stack') {
    if (opt('--stack-name') !== s.name || !s.exists) return;
    if (s.protected) fail(254, `\nAn error occurred (ValidationError) when calling the DeleteStack operation: Stack [${s.name}] cannot be deleted while TerminationProtection is enabled`);
    // CloudFormation terminates the stack's instances (TerminateInstances): a protected one is refused and the deletion
    // ends in DELETE_FAILED, the others terminated. After ROLLBACK_COMPLETE the rollback deleted them already.
    const held = s.status === 'ROLLBACK_COMPLETE' ? [] : stackInstances(s);
    for (const id of held) if (!f.instances[id].protected) f.instances[id].state = 'terminated';
    for (const x of s.instances) if (f.instances[x.instance]?.state === 'terminated') f.instances[x.instance].cfnDeleted = true;
    const refused = held.filter((id) => f.instances[id].protected);
    if (refused.length > 0) {
      s.status = 'DELETE_FAILED';
      delete s.updating;
      event(`stack delete failed: ${refused.join(' ')} ${TERMINATION_REFUSED}`);
      return save();
    }
    s.exists = false;
    delete s.status;
    delete s.updating;
    event('stack deleted');
    return save();
  }
  if (service === 'cloudformation' && op === 'continue-update-rollback') {
    // The wording of a refusal from another status is the stub's own.
    if (!s.exists || s.status !== 'UPDATE_ROLLBACK_FAILED') fail(254, `\nAn error occurred (ValidationError) when calling the ContinueUpdateRollback operation: stack ${s.name} is not in UPDATE_ROLLBACK_FAILED`);
    s.status = f.rollbackBlocked ? 'UPDATE_ROLLBACK_FAILED' : 'UPDATE_ROLLBACK_COMPLETE';
    event(`rollback continued: ${s.status}`);
    return save();
  }
  if (service === 'cloudformation' && op === 'wait') {
    const status = s.exists ? stackStatus(s) : undefined;
    if (args[2] === 'stack-delete-complete' && status === undefined) return;
    if (args[2] === 'stack-rollback-complete' && status === 'UPDATE_ROLLBACK_COMPLETE') return;
    if (['stack-delete-complete', 'stack-rollback-complete'].includes(args[2]))
      fail(255, `\nWaiter ${args[2] === 'stack-delete-complete' ? 'StackDeleteComplete' : 'StackRollbackComplete'} failed: Waiter encountered a terminal failure state: For expression "Stacks[].StackStatus" we matched expected path: "${status}" at least once`);
  }
  if (service === 'cloudformation' && op === 'update-stack') return updateStack();
  if (service === 'cloudformation' && op === 'describe-stacks') {
    const name = opt('--stack-name');
    if (name !== f.stack.name) return process.stdout.write(query === 'Stacks[0].StackStatus' ? 'UPDATE_COMPLETE\n' : `${f.stack.deployRole}\n`);
    if (!f.stack.exists) fail(254, `\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id ${name} does not exist`);
    if (query === 'Stacks[0].StackStatus') return process.stdout.write(`${stackStatus(f.stack)}\n`);
    if (query === 'Stacks[0].Parameters[].ParameterKey') return process.stdout.write(`${Object.keys(f.stack.parameters).join('\t')}\n`);
    if (query.startsWith("Stacks[0].Outputs[?starts_with(OutputKey, 'Node')"))
      return process.stdout.write(`${Object.keys(f.stack.outputs).filter((k) => k.startsWith('Node') && k.endsWith('InstanceId')).join('\t')}\n`);
    const described = /starts_with\(Description, '([^']*)'\)\]\.OutputKey$/.exec(query)?.[1];
    if (described !== undefined)
      return process.stdout.write(`${Object.keys(f.stack.outputs).filter((k) => (f.stack.descriptions?.[k] ?? '').startsWith(described)).join('\t')}\n`);
    const output = /OutputKey=='([^']+)'/.exec(query)?.[1];
    if (output && query.endsWith('.Description')) return process.stdout.write(`${f.stack.descriptions?.[output] ?? ''}\n`);
    if (output) return process.stdout.write(`${f.stack.outputs[output] ?? ''}\n`);
    const param = /ParameterKey=='([^']+)'/.exec(query)?.[1];
    if (param) return process.stdout.write(`${f.stack.parameters[param] ?? ''}\n`);
  }
  // The stack's instances CloudFormation has not deleted (text output of the list: tab-separated), one terminated by hand
  // included; none after ROLLBACK_COMPLETE.
  if (service === 'cloudformation' && op === 'list-stack-resources') {
    if (opt('--stack-name') !== s.name || !s.exists || s.status === 'ROLLBACK_COMPLETE') return process.stdout.write('\n');
    return process.stdout.write(`${s.instances.map((x) => x.instance).filter((id) => f.instances[id] && !f.instances[id].cfnDeleted).join('\t')}\n`);
  }
  if (service === 'cloudformation' && op === 'describe-stack-events') {
    if (!query.includes("ResourceStatus=='DELETE_FAILED'")) fail(252, `aws stub: describe-stack-events modelled for DELETE_FAILED instances only: ${query}`);
    return process.stdout.write(`${(s.deleteFailed ?? []).join('\t')}\n`);
  }
  if (service === 'ec2' && op === 'describe-instance-attribute' && opt('--attribute') === 'disableApiTermination') {
    const inst = f.instances[opt('--instance-id')] ?? fail(254, 'An error occurred (InvalidInstanceID.NotFound)');
    return process.stdout.write(`${inst.protected ? 'True' : 'False'}\n`);
  }
  if (service === 'ec2' && op === 'modify-instance-attribute' && (args.includes('--no-disable-api-termination') || args.includes('--disable-api-termination'))) {
    const id = opt('--instance-id');
    const inst = f.instances[id] ?? fail(254, `\nAn error occurred (InvalidInstanceID.NotFound) when calling the ModifyInstanceAttribute operation: The instance ID '${id}' does not exist`);
    if (inst.state === 'terminated') fail(254, `\nAn error occurred (IncorrectInstanceState) when calling the ModifyInstanceAttribute operation: The instance '${id}' is terminated.`);
    inst.protected = args.includes('--disable-api-termination');
    event(`${inst.protected ? 'protected' : 'protection lifted'}: ${id}`);
    return save();
  }
  if (service === 'ec2' && op === 'terminate-instances') {
    const id = opt('--instance-ids');
    const inst = f.instances[id] ?? fail(254, `\nAn error occurred (InvalidInstanceID.NotFound) when calling the TerminateInstances operation: The instance ID '${id}' does not exist`);
    if (inst.protected) fail(254, `\nAn error occurred (${TERMINATION_REFUSED}) when calling the TerminateInstances operation: ${terminationRefusedMessage(id)}`);
    inst.state = 'terminated';
    event(`terminated: ${id}`);
    return save();
  }
  if (service === 'ec2' && op === 'wait' && args[2] === 'instance-terminated') {
    if (f.instances[opt('--instance-ids')]?.state === 'terminated') return;
    fail(255, '\nWaiter InstanceTerminated failed: Max attempts exceeded');
  }
  // The pools' groups (deploy.sh nodes tags their instances first): this fleet's pools have none.
  if (service === 'autoscaling' && op === 'describe-auto-scaling-groups') return process.stdout.write('\n');
  if (service === 'ec2' && op === 'describe-instances') {
    const inst = f.instances[opt('--instance-ids')];
    if (!inst) fail(254, `\nAn error occurred (InvalidInstanceID.NotFound) when calling the DescribeInstances operation: The instance ID '${opt('--instance-ids')}' does not exist`);
    if (query.endsWith('.InstanceType')) return process.stdout.write(`${inst.type}\n`);
    if (query.endsWith('.State.Name')) return process.stdout.write(`${inst.state}\n`);
  }
  if (service === 'ec2' && op === 'describe-instance-attribute' && opt('--attribute') === 'userData') {
    const inst = f.instances[opt('--instance-id')] ?? fail(254, 'An error occurred (InvalidInstanceID.NotFound)');
    return process.stdout.write(`${inst.userData === undefined ? 'None' : inst.userData}\n`);
  }
  fail(252, `aws stub: not modelled: ${args.join(' ')}`);
}

const majority = () => controlPlanes().filter((n) => n.ready === 'True').length * 2 > controlPlanes().length;

function kubectl() {
  const bound = args.findIndex((a) => a.startsWith('--request-timeout='));
  if (f.apiUnreachable && bound === -1) {
    f.hung = [...(f.hung ?? []), args.join(' ')];
    save();
    fail(99, `kubectl stub: the API server does not answer and this call has no --request-timeout: kubectl would wait for ever (${args.join(' ')})`);
  }
  if (bound !== -1) {
    if (!/^--request-timeout=[1-9][0-9]*[smh]$/.test(args[bound])) fail(1, `error: invalid argument "${args[bound]}" for "--request-timeout" flag`);
    args.splice(bound, 1);
  }
  if (f.apiUnreachable) fail(1, 'Unable to connect to the server: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)');
  if (leaseCommand(args, join(process.env.FLEET, 'leases.json'), fail)) return;
  const listed = f.otherCluster ? [] : Object.values(f.nodes);
  const byName = (name) => listed.find((n) => n.name === name) ?? fail(1, `Error from server (NotFound): nodes "${name}" not found`);
  const jsonpath = opt('-o') ?? '';
  if (args[0] === 'drain') {
    // `fleet.syncOnDrain`: an operation on the nodes stack (its Git sync) begins while the node drains: the stack's status.
    if (f.syncOnDrain) {
      f.stack.status = f.syncOnDrain;
      delete f.stack.updating;
    }
    return drain(f, byName(args[1]), args, save);
  }
  if (args[0] === 'uncordon') {
    delete byName(args[1]).cordoned;
    event(`uncordon ${args[1]}`);
    save();
    return process.stdout.write(`node/${args[1]} uncordoned\n`);
  }
  if (args.join(' ') === 'get --raw /readyz') {
    if (majority()) return process.stdout.write('ok');
    fail(1, 'Error from server (InternalServerError): an error on the server ("[+]ping ok\\n[-]etcd failed: reason withheld\\nreadyz check failed") has prevented the request from succeeding');
  }
  if (args.join(' ') === 'get --raw /readyz/etcd') {
    if (majority()) return process.stdout.write('ok');
    fail(1, 'Error from server (InternalServerError): an error on the server ("[-]etcd failed: reason withheld\\nhealthz check failed") has prevented the request from succeeding');
  }
  if (args[0] === 'get' && args[1] === 'nodes' && opt('-l') === 'node-role.kubernetes.io/control-plane' && jsonpath.includes('EtcdIsVoter'))
    return process.stdout.write(listed.filter((n) => n.role === 'controlplane').map((n) => `${n.name} ${n.voter ?? 'True'}\n`).join(''));
  if (args[0] === 'get' && args[1] === 'nodes' && opt('-l') === 'node-role.kubernetes.io/control-plane' && jsonpath.includes('Ready'))
    return process.stdout.write(listed.filter((n) => n.role === 'controlplane').map((n) => `${n.name} ${n.ready}\n`).join(''));
  if (args[0] === 'get' && args[1] === 'nodes' && !opt('-l') && jsonpath.includes('annotations.odp-gitops\\.io/apply-config-handover'))
    return process.stdout.write(listed.map((n) => `${n.name} ${n.handover ?? ''}\n`).join(''));
  if (args[0] === 'get' && args[1] === 'nodes' && !opt('-l') && jsonpath.includes('InternalIP'))
    return process.stdout.write(Object.entries(f.nodes).filter(() => !f.otherCluster).map(([ip, n]) => `${n.name} ${ip}\n`).join(''));
  if (args[0] === 'get' && args[1] === 'node') {
    const n = byName(args[2]);
    if (jsonpath === 'jsonpath={.spec.unschedulable}') return process.stdout.write(n.cordoned ? 'true' : '');
    const parts = [...(jsonpath.includes('bootID') ? [n.boot] : []), ...(jsonpath.includes('Ready') ? [n.ready] : [])];
    return process.stdout.write(parts.join(' '));
  }
  fail(1, `kubectl stub: not modelled: ${args.join(' ')}`);
}

/** talosctl through the node's Talos API (answers while its instance runs). */
function talosctl() {
  if (f.etcdHangs && args[0] === 'etcd' && args[1] === 'members') {
    if (process.env.STUB_DEADLINE) process.exit(124);
    f.hung = [...(f.hung ?? []), `talosctl ${args.join(' ')}`];
    save();
    fail(99, `talosctl stub: the Talos API does not answer and this call has no deadline: talosctl would wait for ever (${args.join(' ')})`);
  }
  const ip = opt('--nodes');
  const n = f.nodes[ip];
  const up = n && f.instances[n.instance]?.state === 'running';
  if (!up) fail(1, `error: rpc error: code = Unavailable desc = connection error: dial tcp ${ip}:50000: connect: connection refused`);
  if (args[0] === 'version') return process.stdout.write('Server:\n\tTag: v1.13.9\n');
  if (args[0] === 'kubeconfig') {
    const file = args.find((a, i) => i > 0 && !a.startsWith('--') && args[i - 1] !== '--nodes');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `# kubeconfig of ${ip}\n`);
    return;
  }
  if (args[0] === 'etcd' && args[1] === 'members') {
    if (f.noLeader || n.ready !== 'True' || !majority()) fail(1, `error: rpc error: code = Unavailable desc = etcdserver: no leader (node ${ip})`);
    return process.stdout.write('NODE ID HOSTNAME\n');
  }
  fail(1, `talosctl stub: not modelled: ${args.join(' ')}`);
}

/** coreutils timeout: CMD run with its deadline known to the stubs (talosctl's hang ends with 124, as timeout's does). */
function timeout() {
  const r = spawnSync(args[1], args.slice(2), { stdio: 'inherit', env: { ...process.env, STUB_DEADLINE: args[0] } });
  process.exit(r.status ?? 1);
}

if (cmd === 'aws') {
  if (f.awsSeconds) {
    f.clock = (f.clock ?? 0) + f.awsSeconds;
    save();
  }
  aws();
} else if (cmd === 'timeout') timeout();
else if (cmd === 'talosctl') talosctl();
else if (cmd === 'kubectl') kubectl();
else if (cmd === 'sleep') sleep();
else fail(1, `fixed-fleet: unknown command ${cmd}`);
