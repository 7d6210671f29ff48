/**
 * rendered/<env>/aws/: the environment's AWS layer.
 *
 *   base.yaml, nodes.yaml                 CloudFormation templates (stacks.ts)
 *   base.deployment.yaml, nodes.deployment.yaml   Git sync deployment files
 *   git-sync.yaml                         the deployment and Git sync roles (deployed once)
 *   deploy.sh, enable-git-sync.sh         the runbook's commands (deploy.ts)
 *   images/<class>.sh                     AMI registration, where the distribution needs it
 *   <join script>                         how pool instances get their config, where it is a step
 *
 * Pure: model in, files out. Synth never loads the CloudFormation specification.
 */
import type { InputPath } from '../../lib/paths.js';
import { SYNC_POLICY_KEY } from '../../engines/registry.js';
import { toYaml } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../../render/types.js';
import { AWS_DIR, deployScript, deploymentFileOf, enableGitSyncScript, gitSyncTemplate, ssmParametersScript, STACK_FILES, deploymentFile } from './deploy.js';
import { awsPlan, type AwsPlan } from './plan.js';
import { baseTemplate, nodesTemplate } from './stacks.js';

/** What the templates read (the sync policy section: a hub's managed environments' cluster secrets). A function: the registry may still be loading when this module is. */
const inputs = (): InputPath[] => [['name'], ['aws'], ['cluster'], ['nodePools'], ['addons'], ['workloads'], [SYNC_POLICY_KEY], ['git']];

export function renderAwsFiles(p: AwsPlan): RenderedFile[] {
  const m = p.model;
  const file = (name: string, content: string, paths: InputPath[] = inputs()): RenderedFile => ({ path: `${AWS_DIR}/${name}`, content, inputs: paths });
  const files: RenderedFile[] = [
    file(STACK_FILES.base, toYaml(baseTemplate(p))),
    file(STACK_FILES.nodes, toYaml(nodesTemplate(p))),
    file(STACK_FILES.gitSync, toYaml(gitSyncTemplate(p)), [['name'], ['aws'], ['cluster', 'name'], ['git'], ['workloads'], ['addons']]),
    file(deploymentFile('base'), toYaml(deploymentFileOf(p, 'base')), [['name'], ['cluster', 'name']]),
    file(deploymentFile('nodes'), toYaml(deploymentFileOf(p, 'nodes')), [['name'], ['cluster'], ['nodePools']]),
    file('deploy.sh', deployScript(p)),
    file('enable-git-sync.sh', enableGitSyncScript(p), [['name'], ['aws'], ['cluster', 'name'], ['git']]),
    file('ssm-parameters.sh', ssmParametersScript(p)),
  ];
  for (const img of p.images) if (img.registration) files.push(file(`images/${img.cls.name}.sh`, img.registration.script, [['name'], ['aws'], ['cluster'], ['nodePools']]));
  const join = p.facts.poolJoin;
  if (join.kind === 'apply' && m.pools.some((x) => x.count !== undefined)) {
    const s = join.script(m, { asg: p.names.pool, region: m.aws.region });
    files.push(file(s.file, s.content, [['name'], ['aws'], ['cluster', 'name'], ['nodePools']]));
  }
  return files;
}

export function renderAws(m: EnvironmentModel): RenderedFile[] {
  return renderAwsFiles(awsPlan(m, m.aws.images));
}
