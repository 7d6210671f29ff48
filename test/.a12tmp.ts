import { runbookScript } from '../generators/distributions/talos/runbook.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { fixtureSources } from './helpers.js';
const { sources } = fixtureSources('valid', 'talos-argocd-pools.yaml');
const r = prepareEnvironment('talos-argocd-pools', sources);
for (const p of process.argv.slice(2)) console.log(runbookScript(r.prepared!.model, p as any));
