/**
 * Handlebars for text shaping (READMEs, runbooks, cloud-config): `noEscape` (no HTML escaping),
 * `strict` (a missing value is an error), and a `yaml` helper that writes any value as a quoted YAML
 * scalar or flow collection, so no value can inject structure.
 */
import Handlebars from 'handlebars';
import { yamlInline } from './yaml.js';

const engine = Handlebars.create();

engine.registerHelper('yaml', (value: unknown, options: unknown) => {
  if (options === undefined || value === undefined) throw new Error('the yaml helper needs a defined value');
  return yamlInline(value);
});
engine.registerHelper('code', (value: unknown) => {
  if (value === undefined || value === null) throw new Error('the code helper needs a value');
  const s = String(value);
  return '`' + s.replace(/`/g, '\\`') + '`';
});
engine.registerHelper('join', (values: unknown, sep: unknown) => {
  if (!Array.isArray(values)) throw new Error('the join helper needs a list');
  return values.join(typeof sep === 'string' ? sep : ', ');
});
engine.registerHelper('eq', (a: unknown, b: unknown) => a === b);

export type Template = (context: object) => string;

export function compileTemplate(source: string): Template {
  const t = engine.compile(source, { noEscape: true, strict: true });
  return (context) => {
    const out = t(context);
    if (/\{\{|\}\}/.test(out)) throw new Error('template output still contains {{ or }}');
    return out;
  };
}
