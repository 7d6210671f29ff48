/**
 * README section "Cost": the monthly on-demand cost of each node pool and their total, from the
 * prices locked by `--refresh-ssm` (cost/estimate.ts). A price the lock does not hold is said to be
 * missing, with the command that locks it; no other number stands in for it.
 */
import { COST_SCOPE, environmentCost, formatUsd, noPriceLocked, shortUsd } from '../../cost/estimate.js';
import { compileTemplate } from '../../lib/templates.js';
import { lockFile, REFRESH_COMMAND } from '../../load/ssm-lock.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { ReadmeSection } from './sections.js';

export const COST_SECTION_TITLE = 'Cost';

const body = compileTemplate(`Monthly estimate: {{scope}}.

| Pool | Instance type | Nodes | On-demand | Root volumes | Per month |
|---|---|---|---|---|---|
{{#each pools}}| {{name}} | {{code instanceType}} | {{size}} | {{hourly}} | {{volumes}} | {{monthly}} |
{{/each}}| **Total** | | {{nodes}} | | | **{{total}}** |

{{source}}
`);

export function costSections(m: EnvironmentModel): ReadmeSection[] {
  const prices = m.aws.prices;
  const cost = environmentCost(m.pools, prices);
  const none = 'no price locked';
  const dates = (key: 'publicationDate' | 'effectiveDate'): string => [...new Set(cost.pools.flatMap((p) => [p.hourly, p.volume]).flatMap((x) => (x ? [x[key].slice(0, 10)] : [])))].sort().join(', ');
  const source = prices
    ? `Prices: the AWS Price List (on-demand, Linux, shared tenancy), region \`${prices.region}\`, ${prices.currency}, published ${dates('publicationDate') || '—'}, effective ${dates('effectiveDate') || '—'}, fetched ${prices.fetchedAt.slice(0, 10)}; locked in \`${lockFile(m.name)}\` with the filters that selected each.${cost.missing.length ? ` Not locked: ${cost.missing.map((x) => `\`${x}\``).join(', ')} — run \`${REFRESH_COMMAND(m.name)}\`.` : ''}`
    : `No prices are locked in \`${lockFile(m.name)}\`: run \`${REFRESH_COMMAND(m.name)}\` (AWS Price List, pricing:GetProducts) to show the cost.`;
  return [
    {
      order: 11,
      title: COST_SECTION_TITLE,
      inputs: [['nodePools'], ['aws', 'region']],
      body: body({
        scope: COST_SCOPE,
        pools: cost.pools.map((p) => ({
          name: p.name,
          instanceType: p.instanceType,
          size: p.size,
          hourly: p.hourly ? `$${shortUsd(p.hourly.usd)}/h` : none,
          volumes: `${p.size} × ${p.volumeGiB} GiB ${p.volumeType} (${p.volume ? `$${shortUsd(p.volume.usd)}/GB-month` : none})`,
          monthly: p.monthly !== undefined ? formatUsd(p.monthly) : none,
        })),
        nodes: cost.pools.reduce((n, p) => n + p.size, 0),
        total: cost.total !== undefined ? `${formatUsd(cost.total)}/month` : noPriceLocked(REFRESH_COMMAND(m.name)),
        source,
      }),
    },
  ];
}
