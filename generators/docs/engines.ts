/**
 * The engines page: how each GitOps engine carries out the delivery plan (Engine.sync: how units are
 * ordered and waited on, what deleting one does, how a tenant is scoped), its hub mode, its
 * bootstrap script and what promote's health gate reads (Engine.health), read from the engine registry: the same facts its renderer and motion simulator
 * follow, so the page cannot drift from them.
 */
import { engines } from '../engines/registry.js';
import { code, escapeText, generatedPage, listItem, wrap, type Page } from './markdown.js';

export const ENGINES_PAGE = 'docs/reference/engines.md';

export function enginesPage(): Page {
  const body: string[] = [];
  for (const e of engines()) {
    body.push(`## ${e.title} (${code(`gitops: ${e.name}`)})`, '');
    body.push(
      ...listItem(`**Order of units** (${escapeText(e.sync.orderName)}): ${escapeText(e.sync.order)}.`),
      ...listItem(`**Deleting a unit**: ${escapeText(e.sync.cascade)}.`),
      ...listItem(`**Tenants**: ${escapeText(e.sync.tenants)}.`),
      ...listItem(
        e.hubMode
          ? `**Hub mode**: yes: its sync policy section's ${code('manages')} lists the environments whose clusters it delivers to.`
          : '**Hub mode**: no: every environment runs its own instance.',
      ),
      ...listItem(`**Bootstrap**: ${code(`rendered/<env>/${e.bootstrapScript}`)} installs it once; it then manages itself.`),
      ...(e.rules.unitNames
        ? listItem(`**Unit names**: ${escapeText(e.rules.unitNames.object)} names take at most ${e.rules.unitNames.max} characters: ${escapeText(e.rules.unitNames.why)} (rule ${code('unit-name-length')}).`)
        : []),
      ...listItem(
        e.health
          ? `**Promotion health** (${code('promotion.requireHealthy')}, read with kubectl by ${code('npm run promote')}): ${escapeText(e.health.summary)} (${escapeText(e.health.source)}).`
          : `**Promotion health**: not reported: ${code('npm run promote')} refuses ${code('promotion.requireHealthy')} for a source it delivers.`,
      ),
      '',
    );
  }
  const intro = wrap(
    'How each GitOps engine applies the delivery plan of an environment, from the engine registry ' +
      '(`generators/engines/<name>/index.ts`): the facts its renderer and its first-sync simulator follow.',
  );
  return generatedPage(ENGINES_PAGE, 'GitOps engines', intro, body);
}
