/**
 * What a CloudFormation stack's status leaves `deploy.sh` able to do, and the exact next command when it cannot go on:
 * one table, read by the rendered shell functions below (`stack_ready`, `stack_failed`, `stack_says`) and by the tests.
 * Facts, as AWS documents them:
 *
 * - `aws cloudformation deploy` (aws/aws-cli awscli/customizations/cloudformation/deployer.py @029e5be7,
 *   `has_stack`, `create_changeset`, `wait_for_execute`): a stack that exists in any status but REVIEW_IN_PROGRESS gets
 *   an UPDATE change set, which CloudFormation refuses for a stack that cannot be updated (ValidationError "… is in
 *   <status> state and can not be updated"); an executed change set is waited on with the stack_create_complete /
 *   stack_update_complete waiters, whose failure ends the command with "Failed to create/update the stack" (exit 255)
 *   once the stack reached ROLLBACK_COMPLETE, UPDATE_ROLLBACK_COMPLETE or UPDATE_ROLLBACK_FAILED. With
 *   `--no-fail-on-empty-changeset`, "No changes to deploy" is exit 0 (a re-run with nothing changed passes quietly).
 * - ROLLBACK_COMPLETE / ROLLBACK_FAILED: a first creation failed (and its rollback did / did not delete what it
 *   created); such a stack cannot be updated, only deleted, then created again (CloudFormation user guide, "Stack status
 *   codes"; "Troubleshooting CloudFormation"). DELETE_FAILED: a
 *   deletion left resources it could not delete; the deletion is run again once the cause is fixed. The nodes stack's
 *   control planes carry termination protection, which CloudFormation cannot get past (./termination.ts): its delete
 *   command runs \`deploy.sh lift-protection\` first.
 * - UPDATE_ROLLBACK_COMPLETE: an update failed and was rolled back; the stack is as before and can be updated again. But
 *   the rollback deletes what the update created in its cleanup (UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS), where a
 *   resource CloudFormation cannot delete is skipped after its retries (aws/aws-cdk-cli#1576: "it retries 3 times, then
 *   abandons the deletion"), the event DELETE_FAILED: a control plane the update had created keeps its termination
 *   protection (./termination.ts) and runs on out of the stack, on its node's fixed address, so the same update again
 *   fails (the address in use). For the protected stack \`rollback_orphans\` finds those instances (DescribeStackEvents:
 *   AWS::EC2::Instance DELETE_FAILED, the CLI paging through the events; still running or stopped; not one the stack
 *   holds, ListStackResources) and the next command lifts, terminates and waits for each before the step again.
 * - UPDATE_ROLLBACK_FAILED: the rollback itself failed; "A stack in the UPDATE_ROLLBACK_FAILED state can't be updated,
 *   but it can be rolled back to a working state (UPDATE_ROLLBACK_COMPLETE)": fix the cause, then
 *   ContinueUpdateRollback, or skip a resource that cannot be fixed with ResourcesToSkip (CloudFormation user guide,
 *   "Continue rolling back an update"; API reference, ContinueUpdateRollback). `aws cloudformation wait
 *   stack-rollback-complete` waits for UPDATE_ROLLBACK_COMPLETE (botocore cloudformation waiters-2.json
 *   StackRollbackComplete), `wait stack-delete-complete` for the stack's deletion (StackDeleteComplete).
 * - Every `*_IN_PROGRESS` status but REVIEW_IN_PROGRESS (a change set never executed, which `deploy` treats as no
 *   stack) ends by itself: another run or the stack's Git sync is at work; deploy.sh waits for it (30 s polls, at most
 *   60 minutes: the hour `aws cloudformation wait` gives a stack) and then judges the status it ended in.
 */
import { shQuote } from '../../render/delivery/bootstrap.js';

/** How long deploy.sh waits for an operation in progress to end: polls of describe-stacks, seconds apart. */
export const STACK_SETTLE_WAIT = { tries: 120, seconds: 30 } as const;

/** Statuses `aws cloudformation deploy` cannot create or update from, and what each needs (the `stack_says` branches). */
export const STACK_BLOCKED = {
  ROLLBACK_COMPLETE: 'delete',
  ROLLBACK_FAILED: 'delete',
  DELETE_FAILED: 'delete',
  UPDATE_ROLLBACK_FAILED: 'continue-rollback',
} as const;

export interface StackShellContext {
  region: string;
  /** The script's path from the repository root (the command a message names to run again). */
  script: string;
  /**
   * The stack whose instances carry termination protection (./termination.ts): its delete command lifts it first
   * (\`<script> lift-protection\`), since CloudFormation cannot terminate a protected instance.
   */
  protectedStack?: string;
}

/**
 * The shell functions: `stack_status STACK` (ST, '' when the stack does not exist), `stack_settle STACK` (ST once no
 * operation is in progress, or once its wait gave up, saying so), `stack_says STACK STATUS AGAIN` (what the status means and the exact next command, on
 * stdout), `stack_ready STACK AGAIN` (exit 1 with words unless deploy can go on) and `stack_failed STACK AGAIN` (after a
 * failed deploy: what it left and the next command; exit 1). `$role` is the deployment role the script read first.
 */
export function stackStateFunctions(c: StackShellContext): string[] {
  const region = shQuote(c.region);
  const events = `aws cloudformation describe-stack-events --region ${c.region} --stack-name $1`;
  const del = `\${lift}aws cloudformation delete-stack --region ${c.region} --stack-name $1 --role-arn $role && aws cloudformation wait stack-delete-complete --region ${c.region} --stack-name $1 && $3`;
  const cont = `aws cloudformation continue-update-rollback --region ${c.region} --stack-name $1 --role-arn $role && aws cloudformation wait stack-rollback-complete --region ${c.region} --stack-name $1 && $3`;
  const minutes = (STACK_SETTLE_WAIT.tries * STACK_SETTLE_WAIT.seconds) / 60;
  const ec2 = (op: string, arg: string) => `aws ec2 ${op} --region ${c.region} ${arg}`;
  const terminate = [ec2('modify-instance-attribute', '--instance-id $oid --no-disable-api-termination'), `${ec2('terminate-instances', '--instance-ids $oid')} >/dev/null`, ec2('wait instance-terminated', '--instance-ids $oid')].join(' && ');
  return [
    `# A stack's status in ST ('' when describe-stacks says it does not exist); any other failure to read it stops the script.`,
    `stack_status() {`,
    `  if ST=$(aws cloudformation describe-stacks --region ${region} --stack-name "$1" --query 'Stacks[0].StackStatus' --output text 2>&1); then return 0; fi`,
    `  case "$ST" in *'does not exist'*) ST=''; return 0 ;; esac`,
    `  echo "deploy: cannot read stack $1: $ST" >&2`,
    `  exit 1`,
    `}`,
    `# ST once the operation in progress on a stack (another run, its Git sync) ended: polled every ${STACK_SETTLE_WAIT.seconds} s, at most ${minutes} minutes.`,
    `stack_settle() {`,
    `  stack_status "$1"`,
    `  settled=0`,
    `  while :; do`,
    `    case "$ST" in REVIEW_IN_PROGRESS) return 0 ;; *_IN_PROGRESS) ;; *) return 0 ;; esac`,
    `    [ "$settled" -lt ${STACK_SETTLE_WAIT.tries} ] || { echo "deploy: stack $1 is still $ST after ${minutes} minutes" >&2; return 0; }`,
    `    [ "$settled" != 0 ] || echo "deploy: stack $1 is $ST (another run, or its Git sync): waiting for it to end" >&2`,
    `    settled=$((settled + 1))`,
    `    sleep ${STACK_SETTLE_WAIT.seconds}`,
    `    stack_status "$1"`,
    `  done`,
    `}`,
    ...(c.protectedStack ? rollbackOrphans(c) : []),
    `# What STATUS ($2) leaves of stack $1, and the exact next command (its last line); $3 runs this step again.`,
    `stack_says() {`,
    // Deleting the nodes stack terminates its control planes: their termination protection is lifted first.
    c.protectedStack ? `  lift=''; [ "$1" != ${shQuote(c.protectedStack)} ] || lift=${shQuote(`sh ${c.script} lift-protection && `)}` : `  lift=''`,
    c.protectedStack ? `  orphans=''; [ "$2" != UPDATE_ROLLBACK_COMPLETE ] || [ "$1" != ${shQuote(c.protectedStack)} ] || rollback_orphans "$1"` : `  orphans=''`,
    `  next="$3"; for oid in $orphans; do next="${terminate} && $next"; done`,
    `  case "$2" in`,
    `    UPDATE_ROLLBACK_COMPLETE) [ -z "$orphans" ] || { printf '%s\\n  %s\\n' "the update of stack $1 failed and CloudFormation rolled it back (UPDATE_ROLLBACK_COMPLETE), but its rollback could not delete the instances it had created, which carry termination protection (DELETE_FAILED: ${events} --query \\"StackEvents[?ResourceType=='AWS::EC2::Instance' && ResourceStatus=='DELETE_FAILED']\\"): $orphans, out of the stack, on their nodes' fixed addresses, so the same update again would fail (address in use). Why it failed: ${events}. Fix the cause, then terminate them (the protection lifted first) and run this again:" "$next"; return 0; } ;;`,
    `  esac`,
    `  case "$2" in`,
    `    '') printf '%s\\n  %s\\n' "stack $1 was not created: the AWS CLI's error above says why. Fix the cause, then run this again:" "$3" ;;`,
    `    ROLLBACK_COMPLETE) printf '%s\\n  %s\\n' "the creation of stack $1 failed and CloudFormation rolled it back (ROLLBACK_COMPLETE): a stack in this state cannot be updated, only deleted. Why it failed: ${events}. Fix the cause, then delete the stack and create it again:" "${del}" ;;`,
    `    ROLLBACK_FAILED | DELETE_FAILED) printf '%s\\n  %s\\n' "stack $1 is $2: CloudFormation could not delete every resource of it (its creation or its deletion failed); it can only be deleted. The events name what and why: ${events}. Fix that, then delete it and create it again:" "${del}" ;;`,
    `    UPDATE_ROLLBACK_COMPLETE) printf '%s\\n  %s\\n' "the update of stack $1 failed and CloudFormation rolled it back (UPDATE_ROLLBACK_COMPLETE): the stack is as it was before. Why it failed: ${events}. Fix the cause, then run this again:" "$3" ;;`,
    `    UPDATE_ROLLBACK_FAILED) printf '%s\\n  %s\\n' "the update of stack $1 failed and so did its rollback (UPDATE_ROLLBACK_FAILED): CloudFormation updates it no more until the rollback is continued. The events name the resource that did not roll back and why: ${events}. Fix that (a resource that cannot be fixed: add --resources-to-skip ITS_LOGICAL_ID to continue-update-rollback, which leaves it as it is), then:" "${cont}" ;;`,
    `    *_IN_PROGRESS) printf '%s\\n  %s\\n' "stack $1 is $2 (another run, or its Git sync, is at work): follow it (${events}); once it has ended, run this again:" "$3" ;;`,
    `    *) printf '%s\\n  %s\\n' "stack $1 was not changed (it is $2): the AWS CLI's error above says why (a template or parameter CloudFormation refused, a permission, an expired session). Fix the cause, then run this again:" "$3" ;;`,
    `  esac`,
    `}`,
    `# Stop (exit 1, saying why and the next command) unless aws cloudformation deploy can create or update stack $1 now.`,
    `stack_ready() {`,
    `  stack_settle "$1"`,
    `  case "$ST" in`,
    `    REVIEW_IN_PROGRESS) return 0 ;;`,
    `    ${Object.keys(STACK_BLOCKED).join(' | ')} | *_IN_PROGRESS) ;;`,
    `    *) return 0 ;;`,
    `  esac`,
    `  echo "deploy: nothing deployed: $(stack_says "$1" "$ST" "$2")" >&2`,
    `  exit 1`,
    `}`,
    `# After aws cloudformation deploy failed on stack $1: what it left, once no operation is in progress, and the next command.`,
    `stack_failed() {`,
    `  stack_settle "$1"`,
    `  echo "deploy: $(stack_says "$1" "$ST" "$2")" >&2`,
    `  exit 1`,
    `}`,
  ];
}

/**
 * \`rollback_orphans STACK\`: the instances the protected stack's rolled-back updates could not delete (./termination.ts),
 * in \`orphans\`: AWS::EC2::Instance DELETE_FAILED in its events, each id shape-checked (require_instance_id, which the
 * script defines with the protected stack), listed once, not terminated or shutting-down (nor unknown to EC2), and not
 * held by the stack (an instance it still has is no orphan).
 */
function rollbackOrphans(c: StackShellContext): string[] {
  const region = shQuote(c.region);
  return [
    `# The instances stack $1's rollbacks could not delete (termination protection), still running or stopped: orphans.`,
    `rollback_orphans() {`,
    `  orphans=''`,
    `  held=" $(aws cloudformation list-stack-resources --region ${region} --stack-name "$1" --query "StackResourceSummaries[?ResourceType=='AWS::EC2::Instance' && ResourceStatus!='DELETE_COMPLETE' && PhysicalResourceId].PhysicalResourceId" --output text | tr '\\t' ' ') "`,
    `  for oid in $(aws cloudformation describe-stack-events --region ${region} --stack-name "$1" --query "StackEvents[?ResourceType=='AWS::EC2::Instance' && ResourceStatus=='DELETE_FAILED'].PhysicalResourceId" --output text); do`,
    `    [ "$oid" != None ] || continue`,
    `    require_instance_id "$oid" "in the events of stack $1"`,
    `    case " $orphans $held " in *" $oid "*) continue ;; esac`,
    `    ost=$(aws ec2 describe-instances --region ${region} --instance-ids "$oid" --query 'Reservations[].Instances[].State.Name' --output text 2>/dev/null) || continue`,
    `    case "$ost" in terminated | shutting-down) continue ;; esac`,
    `    orphans="\${orphans:+$orphans }$oid"`,
    `  done`,
    `}`,
  ];
}
