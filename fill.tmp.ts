import { readFileSync, writeFileSync } from 'node:fs';
import { prepareEnvironment } from './generators/pipeline.js';
import { fixtureSources, formatted } from './test/helpers.js';
for (const f of process.argv.slice(2)) {
  const { name, sources } = fixtureSources('invalid', f + '.yaml');
  const errs = formatted(prepareEnvironment(name, sources)).filter((l) => !l.includes(': warning: '));
  const p = `test/fixtures/invalid/${f}.yaml`;
  const text = readFileSync(p, 'utf8');
  if (errs.length !== 1 || !text.includes('# expect: X\n')) { console.log('SKIP', f, errs); continue; }
  writeFileSync(p, text.replace('# expect: X\n', `# expect: ${errs[0]}\n`));
}
