/**
 * Two managed environments on one API server (argocd-managed-endpoint), when their endpoints are read
 * from SSM: the same parameter in the same account and region is the same endpoint; the same name in
 * another account is another parameter.
 */
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { fixtureSources } from './helpers.js';

const endpointFindings = (edit: (sources: Map<string, string>) => void): string[] => {
  const { name, sources } = fixtureSources('invalid', 'argocd-managed-endpoint-ssm.yaml');
  edit(sources);
  return prepareEnvironment(name, sources).diagnostics.filter((d) => d.rule === 'argocd-managed-endpoint').map((d) => d.message);
};

describe('managed environments whose endpoints are SSM parameters', () => {
  it('one parameter named by two managed environments is refused', () => {
    expect(endpointFindings(() => {})).toStrictEqual([expect.stringMatching(/^'ssm-b' has cluster\.endpoint \{ ssm: \/odp\/fixture\/api\/endpoint \}, as 'ssm-a' does/)]);
  });

  it('the same name in another account is another parameter', () => {
    expect(endpointFindings((s) => s.set('environments/ssm-b.yaml', `${s.get('environments/ssm-b.yaml')!}aws:\n  accountId: "999999999999"\n`))).toStrictEqual([]);
  });

  it('different parameters are different endpoints', () => {
    expect(endpointFindings((s) => s.set('environments/ssm-b.yaml', s.get('environments/ssm-b.yaml')!.replace('/odp/fixture/api/endpoint', '/odp/fixture/api/endpoint-bare')))).toStrictEqual([]);
  });
});
