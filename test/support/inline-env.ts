/**
 * Environments written inline next to the test fixtures (`extends: _fixture`), prepared and rendered
 * in memory: tests of one feature state the few lines they need and never read environments/.
 */
import { prepareEnvironment, renderEnvironment, type PrepareResult } from '../../generators/pipeline.js';
import { fixtureSources, formatted } from '../helpers.js';

/** Sources with environments/<name>.yaml = `name`, `extends: _fixture` and `body`, and the fixture lock. */
export function inlineSources(name: string, body: string): Map<string, string> {
  return sourcesWith(name, `name: ${name}\nextends: _fixture\n${body}`);
}

/** Sources with environments/<name>.yaml = the schema comment and `text` as given, and the fixture lock. */
export function sourcesWith(name: string, text: string): Map<string, string> {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set(`environments/${name}.yaml`, `# yaml-language-server: $schema=../schemas/environment.schema.json\n${text}`);
  sources.set(`environments/${name}.ssm.lock.json`, sources.get('environments/_fixture.ssm.lock.json')!);
  return sources;
}

export const prepareInline = (name: string, body: string): PrepareResult => prepareEnvironment(name, inlineSources(name, body));

/** The diagnostics in the inline file itself, formatted (`file:line:col  path: message  (hint)`), warnings included. */
export const diagnosticsOf = (name: string, body: string): string[] => formatted(prepareInline(name, body)).filter((l) => l.startsWith(`environments/${name}.yaml:`));

/** The rendered files of a valid inline environment (throws with its diagnostics otherwise). */
export function renderInline(name: string, body: string) {
  const r = prepareInline(name, body);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return { prepared: r.prepared, files: renderEnvironment(r.prepared) };
}
