/** rendered/<env>/README.md: what this environment is, and its runbooks. */
import { distributionOf } from '../../distributions/registry.js';
import { engineOf } from '../../engines/registry.js';
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../types.js';
import { ec2Sections } from './aws.js';
import { overviewSections } from './overview.js';
import { costSections } from './cost.js';
import type { ReadmeContext, SectionProvider } from './sections.js';
import { workloadSections } from './workloads.js';
import { awsSections } from '../../infra/aws/readme.js';

/**
 * Section providers: the core's (the AWS layer's among them), the environment's distribution's and
 * its engine's. In a function: the distributions' and engines' modules import this one's importers.
 */
export const sectionProviders = (): SectionProvider[] => [overviewSections, costSections, awsSections, ec2Sections, (m, ctx) => distributionOf(m).readme.sections(m, ctx), (m, ctx) => engineOf(m).readme(m, ctx), workloadSections];

/** What the sections may say of the environment's distribution and engine. */
export function readmeContext(model: EnvironmentModel): ReadmeContext {
  const d = distributionOf(model);
  const e = engineOf(model);
  return {
    distribution: { title: d.title, clusterReady: d.clusterReady },
    engine: { title: e.title, bootstrapScript: e.bootstrapScript, addon: e.text.addon, workloadDelivery: e.text.workloadDelivery },
  };
}

export function renderReadme(model: EnvironmentModel): RenderedFile[] {
  const ctx = readmeContext(model);
  const sections = sectionProviders().flatMap((p) => p(model, ctx)).sort((a, b) => a.order - b.order || a.title.localeCompare(b.title));
  const inputs = new Map<string, InputPath>([[JSON.stringify(['name']), ['name']], [JSON.stringify(['description']), ['description']]]);
  for (const s of sections) for (const p of s.inputs) inputs.set(JSON.stringify(p), p);
  // Ordered by those JSON keys (made once each, not twice per comparison).
  const title = `# Environment \`${model.name}\`\n\n${model.description ? `${model.description}\n\n` : ''}`;
  const body = sections.map((s) => `## ${s.title}\n\n${s.body.trim()}\n`).join('\n');
  return [{ path: 'README.md', content: title + body, inputs: [...inputs].sort(([a], [b]) => a.localeCompare(b)).map(([, p]) => p) }];
}
