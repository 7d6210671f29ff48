/**
 * The node-to-node ports page: the node security groups' table (infra/aws/ports.ts portTable, which
 * reads each distribution's aws.ts port facts, the CNI's ports and the host-network add-ons') for each
 * distribution, CNI and datastore the example and fixture environments use. The AWS layer's templates
 * and each environment README read the same table, so the page cannot disagree with them.
 */
import { distributionOf } from '../distributions/registry.js';
import { GROUP_TEXT, PEER_TEXT, portTable, portText } from '../infra/aws/ports.js';
import type { EnvironmentModel } from '../model/types.js';
import { code, compareText, escapeText, generatedPage, listItem, wrap, type Page } from './markdown.js';

export const PORTS_PAGE = 'docs/reference/node-ports.md';

interface Variant {
  key: string;
  title: string;
  env: string;
  model: EnvironmentModel;
}

/** One variant per distribution, CNI and datastore type, from the first environment that has it (examples first). */
function variants(examples: readonly { env: string; model: EnvironmentModel }[]): Variant[] {
  const out = new Map<string, Variant>();
  for (const e of examples) {
    const d = distributionOf(e.model);
    const cni = e.model.cluster.network.cni;
    const datastore = e.model.cluster.datastore.type;
    const key = `${d.title}|${cni}|${datastore}`;
    const said = d.readme.cni?.(e.model);
    if (!out.has(key)) out.set(key, { key, title: `${d.title}, CNI ${cni}${said && said !== cni ? ` (${said})` : ''}, datastore ${datastore}`, env: e.env, model: e.model });
  }
  return [...out.values()].sort((a, b) => compareText(a.key, b.key));
}

export function nodePortsPage(examples: readonly { env: string; model: EnvironmentModel }[]): Page {
  const body: string[] = [];
  for (const v of variants(examples)) {
    body.push(`## ${v.title}`, '');
    body.push(...wrap(`As rendered for the example environment ${code(v.env)} (its pools decide which groups exist and where Prometheus runs).`), '');
    for (const r of portTable(v.model))
      body.push(...listItem(`**${portText(r)}** on ${r.targets.map((t) => GROUP_TEXT[t]).join(' and ')}, from ${r.peers.map((p) => PEER_TEXT[p]).join(' and ')}: ${escapeText(r.component)}, ${escapeText(r.purpose)} (${escapeText(r.source)}).`));
    body.push('');
  }
  body.push('## Not in these tables', '');
  body.push(
    ...listItem('NodePorts (30000-32767): the AWS Load Balancer Controller opens exactly those of its target groups, from its own security group.'),
    ...listItem('Rows that depend on add-ons appear only where the add-on is on: node-exporter (kube-prometheus-stack: only while it runs on the host network and Prometheus runs, on its values\' port, from the node groups Prometheus can be scheduled on), the Litestream metrics port (litestream-alerts).'),
    '',
  );
  const intro = wrap(
    'The ports each node security group admits between nodes, per distribution, CNI and datastore: the table the AWS ' +
      "layer's templates (`rendered/<env>/aws/base.yaml`) and each environment README's port table are made from, with " +
      'the upstream source of every row.',
  );
  return generatedPage(PORTS_PAGE, 'Node-to-node ports', intro, body);
}
