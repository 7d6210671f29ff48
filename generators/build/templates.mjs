/**
 * Build step: the Handlebars templates precompiled into the bundles. A `compileTemplate(`…`)` call
 * whose argument is a template literal gets a second argument, the template's precompiled spec
 * (Handlebars.precompile, with the options generators/lib/templates.ts compiles with), so a command
 * never parses and compiles templates at run time (about 0.1 s per thread, and Handlebars' compiler
 * is never loaded: issue 23). The literal may have substitutions when they name only constants: a
 * top-level `const NAME = `…`` (a literal without substitutions) of the same file, or one imported
 * by name from a relative module that declares it `export const NAME = `…``; the literal is then
 * evaluated with those values (the substitutions' own code, e.g. a `.replace(…)`, runs as it would at
 * run time). A call this does not recognise, or whose literal does not evaluate with those constants,
 * keeps compiling at its first use, as under tsx and vitest. Text in, text out (plus reading the
 * imported modules' text); generators/build/build.mjs runs it through an esbuild plugin.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

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

/**
 * The end (index of the closing backtick) of the template literal opening at `start`, substitutions
 * included (their braces, strings and nested template literals skipped); -1 when it does not close.
 * Good enough for the substitutions the templates use: evaluating the literal is the real check.
 */
function templateEnd(text, start) {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '`') return i;
    else if (c === '$' && text[i + 1] === '{') {
      i = substitutionEnd(text, i + 2);
      if (i === -1) return -1;
    }
  }
  return -1;
}

/** The index of the `}` closing a substitution whose code starts at `from`; -1 when none. */
function substitutionEnd(text, from) {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '`') {
      i = templateEnd(text, i);
      if (i === -1) return -1;
    } else if (c === "'" || c === '"') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** The value of a `const NAME = `…`;` (without substitutions) declared at the start of a line of `text`, or undefined. */
function constLiteral(text, name, exported) {
  const m = new RegExp(`^${exported ? 'export ' : '(?:export )?'}const ${name} = \``, 'm').exec(text);
  if (!m) return undefined;
  const open = m.index + m[0].length - 1;
  const end = literalEnd(text, open);
  if (end === -1 || text[end + 1] !== ';') return undefined;
  return new Function(`return ${text.slice(open, end + 1)};`)();
}

/**
 * The constants a substitution may name in the file at `path` (text `text`): its own top-level
 * literal constants, and the names it imports from relative modules that export one. Only
 * CONSTANT_CASE names that the file declares nowhere else (no `const`, `let`, `var` or parameter of
 * that name in a function could shadow the value evaluated here).
 */
function constantsOf(text, path) {
  const out = new Map();
  const declaredOnce = (name) => [...text.matchAll(new RegExp(`\\b(?:const|let|var|function)\\s+${name}\\b|[(,]\\s*${name}\\s*[,)=:]`, 'g'))].length <= 1;
  const allowed = (name) => /^[A-Z][A-Z0-9_]*$/.test(name) && declaredOnce(name);
  for (const m of text.matchAll(/^(?:export )?const ([A-Za-z_$][\w$]*) = `/gm)) {
    if (!allowed(m[1])) continue;
    const v = constLiteral(text, m[1], false);
    if (v !== undefined) out.set(m[1], v);
  }
  if (!path) return out;
  for (const m of text.matchAll(/^import \{([^}]*)\} from '(\.{1,2}\/[^']+)\.js';$/gm)) {
    let source;
    try {
      source = readFileSync(resolve(dirname(path), `${m[2]}.ts`), 'utf8');
    } catch {
      continue;
    }
    for (const spec of m[1].split(',').map((x) => x.trim()).filter(Boolean)) {
      const [imported, local = imported] = spec.replace(/^type\s+/, '').split(/\s+as\s+/);
      if (!allowed(local)) continue;
      const v = constLiteral(source, imported, true);
      if (v !== undefined) out.set(local, v);
    }
  }
  return out;
}

/** The template literal text[open..end] evaluated with `constants` in scope; undefined when it does not evaluate to a string. */
function evaluateLiteral(literal, constants) {
  try {
    const v = new Function(...constants.keys(), `return ${literal};`)(...constants.values());
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `text` with each recognised compileTemplate call given its precompiled spec; `count` of them.
 * `path`: the file's path, to read the modules it imports constants from (none without it).
 */
export function precompileTemplates(text, handlebars = require('handlebars'), path = undefined) {
  let constants;
  let out = '';
  let from = 0;
  let count = 0;
  for (let at = text.indexOf(CALL); at !== -1; at = text.indexOf(CALL, at + CALL.length)) {
    // `function compileTemplate(` (its definition) and `.compileTemplate(` are not calls to rewrite.
    if (/[\w.$]$/.test(text.slice(0, at)) || text.slice(Math.max(0, at - 9), at) === 'function ') continue;
    const open = at + CALL.length - 1;
    const end = templateEnd(text, open);
    if (end === -1 || text[end + 1] !== ')') continue;
    // The literal's value, as JavaScript reads it (escapes included), with the constants it substitutes.
    const literal = text.slice(open, end + 1);
    const plain = literalEnd(text, open) === end;
    const source = plain ? new Function(`return ${literal};`)() : evaluateLiteral(literal, (constants ??= constantsOf(text, path)));
    if (source === undefined) continue;
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
        return { contents: precompileTemplates(text, undefined, args.path).text, loader: 'ts' };
      });
    },
  };
}
