/**
 * Handlebars for text shaping (READMEs, runbooks, cloud-config): `noEscape` (no HTML escaping),
 * `strict` (a missing value is an error), and a `yaml` helper that writes any value as a quoted YAML
 * scalar or flow collection, so no value can inject structure.
 */
import type HandlebarsType from 'handlebars';
import { lazyValue, vendoredModules } from './lazy.js';
import { yamlInline } from './yaml.js';

/**
 * Loaded when the first template renders (see lazy.ts; the built commands load the build's vendored
 * bundle, VENDOR_BUNDLES in build/build.mjs); a run that renders nothing never loads it.
 */
const full = vendoredModules<{ handlebars: typeof HandlebarsType }>('handlebars', { handlebars: 'handlebars' });
const Handlebars = lazyValue(() => full().handlebars);
/** Handlebars' runtime alone (no compiler): what a precompiled template needs. */
const runtimeOnly = vendoredModules<{ runtime: typeof HandlebarsType }>('handlebars-runtime', { runtime: 'handlebars/runtime' });
const HandlebarsRuntime = lazyValue(() => runtimeOnly().runtime);

/** `yaml`, `code`, `join` and `eq`, registered on an environment (the full one or the runtime). */
function withHelpers(e: typeof HandlebarsType): typeof HandlebarsType {
  e.registerHelper('yaml', (value: unknown, options: unknown) => {
    if (options === undefined || value === undefined) throw new Error('the yaml helper needs a defined value');
    return yamlInline(value);
  });
  e.registerHelper('code', (value: unknown) => {
    if (value === undefined || value === null) throw new Error('the code helper needs a value');
    const s = String(value);
    return '`' + s.replace(/`/g, '\\`') + '`';
  });
  e.registerHelper('join', (values: unknown, sep: unknown) => {
    if (!Array.isArray(values)) throw new Error('the join helper needs a list');
    return values.join(typeof sep === 'string' ? sep : ', ');
  });
  e.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  return e;
}

let engine: typeof HandlebarsType | undefined;
const handlebars = (): typeof HandlebarsType => (engine ??= withHelpers(Handlebars.create()));
let runtime: typeof HandlebarsType | undefined;
const handlebarsRuntime = (): typeof HandlebarsType => (runtime ??= withHelpers(HandlebarsRuntime.create()));

export type Template = (context: object) => string;

/**
 * A template from its source. The bundles pass the source's precompiled spec as well (the build's
 * generators/build/templates.mjs, compiled with the same options): then nothing is compiled at run
 * time. Without it (tsx, vitest, a call the build does not recognise) it compiles at its first use.
 */
export function compileTemplate(source: string, precompiled?: TemplateSpecification): Template {
  let t: HandlebarsTemplateDelegate | undefined;
  return (context) => {
    t ??= precompiled ? handlebarsRuntime().template(precompiled) : handlebars().compile(source, { noEscape: true, strict: true });
    const out = t(context);
    if (/\{\{|\}\}/.test(out)) throw new Error('template output still contains {{ or }}');
    return out;
  };
}
