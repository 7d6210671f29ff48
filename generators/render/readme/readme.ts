/** rendered/<env>/README.md: what this environment is, and its runbooks. */
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../types.js';
import { argoCdSections } from './addons.js';
import { ec2Sections } from './aws.js';
import { fluxSections } from '../flux/readme.js';
import { k3sSections } from '../k3s/readme.js';
import { rke2Sections } from '../rke2/readme.js';
import { overviewSections } from './overview.js';
import type { SectionProvider } from './sections.js';
import { talosSections } from './talos.js';
import { workloadSections } from './workloads.js';
import { awsSections } from '../../infra/aws/readme.js';

/** Section providers; domains (Talos, Argo CD, Flux, K3s, RKE2 …) add theirs here. */
export const SECTION_PROVIDERS: SectionProvider[] = [overviewSections, awsSections, ec2Sections, talosSections, k3sSections, rke2Sections, argoCdSections, fluxSections, workloadSections];

export function renderReadme(model: EnvironmentModel): RenderedFile[] {
  const sections = SECTION_PROVIDERS.flatMap((p) => p(model)).sort((a, b) => a.order - b.order || a.title.localeCompare(b.title));
  const inputs = new Map<string, InputPath>([[JSON.stringify(['name']), ['name']], [JSON.stringify(['description']), ['description']]]);
  for (const s of sections) for (const p of s.inputs) inputs.set(JSON.stringify(p), p);
  const title = `# Environment \`${model.name}\`\n\n${model.description ? `${model.description}\n\n` : ''}`;
  const body = sections.map((s) => `## ${s.title}\n\n${s.body.trim()}\n`).join('\n');
  return [{ path: 'README.md', content: title + body, inputs: [...inputs.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) }];
}
