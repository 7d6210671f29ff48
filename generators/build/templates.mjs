/**
 * Build step: the Handlebars templates precompiled into the bundles. A `compileTemplate(`…`)` call
 * whose argument is a template literal without substitutions gets a second argument, the template's
 * precompiled spec (Handlebars.precompile, with the options generators/lib/templates.ts compiles
 * with), so a command never parses and compiles templates at run time (about 0.1 s per thread, and
 * Handlebars' compiler is never loaded: issue 23). A call this does not recognise keeps compiling at
 * its first use, as under tsx and vitest. Pure text in, text out; generators/build/build.mjs runs it
 * through an esbuild plugin.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';

const require = createRequire(import.meta.url);

/** What generators/lib/templates.ts compiles with: the precompiled code must behave the same. */
export const TEMPLATE_OPTIONS = { noEscape: true, strict: true };

const CALL = 'compileTemplate(`';

/** The end (index of the closing backtick) of the template literal opening at `start`, or -1 when it has a substitution. */
function literalEnd(text, start) {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '`') return i;
    else if (c === '$' && text[i + 1] === '{') return -1;
  }
  return -1;
}

/** `text` with each recognised compileTemplate call given its precompiled spec; `count` of them. */
export function precompileTemplates(text, handlebars = require('handlebars')) {
  let out = '';
  let from = 0;
  let count = 0;
  for (let at = text.indexOf(CALL); at !== -1; at = text.indexOf(CALL, at + CALL.length)) {
    // `function compileTemplate(` (its definition) and `.compileTemplate(` are not calls to rewrite.
    if (/[\w.$]$/.test(text.slice(0, at)) || text.slice(Math.max(0, at - 9), at) === 'function ') continue;
    const open = at + CALL.length - 1;
    const end = literalEnd(text, open);
    if (end === -1 || text[end + 1] !== ')') continue;
    // The literal's value, as JavaScript reads it (escapes included).
    const source = new Function(`return ${text.slice(open, end + 1)};`)();
    const spec = handlebars.precompile(source, TEMPLATE_OPTIONS);
    out += text.slice(from, end + 1) + `, ${spec}`;
    from = end + 1;
    count++;
  }
  return { text: out + text.slice(from), count };
}

/** The esbuild plugin: TypeScript sources below generators/ that call compileTemplate. */
export function templatesPlugin() {
  return {
    name: 'precompile-handlebars',
    setup(build) {
      build.onLoad({ filter: /[\\/]generators[\\/].*\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes(CALL)) return undefined;
        return { contents: precompileTemplates(text).text, loader: 'ts' };
      });
    },
  };
}
