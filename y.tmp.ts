import { prepareEnvironment } from './generators/pipeline.js';
import { fixtureSources, formatted } from './test/helpers.js';
for (const f of process.argv.slice(2)) {
  const { name, sources } = fixtureSources('invalid', f + '.yaml');
  console.log(f, '\n  ' + formatted(prepareEnvironment(name, sources)).filter((l) => !l.includes(': warning: ')).join('\n  '));
}
