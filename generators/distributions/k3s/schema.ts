/**
 * K3s' fragment of the environment schema (composed by generators/schema/compose.ts into
 * schemas/environment.schema.json): k3sVersion, cluster.k3s, nodePools[].k3s.
 */
import { CONFIG_ARGS_SCHEMA } from '../rancher/schema.js';
import type { DistributionSchema } from '../types.js';

export const K3S_SCHEMA: DistributionSchema = {
  summary: 'k3s (an etcd-less Kine datastore)',
  release: { k3sVersion: {
    "type": "string",
    "pattern": "^v1\\.[0-9]+\\.[0-9]+\\+k3s[0-9]+$",
    "description": "Exact K3s release, e.g. v1.35.1+k3s1 (k3s distribution)."
  } },
  cluster: { k3s: {
    "description": "K3s-specific settings (distribution k3s).",
    "type": "object",
    "additionalProperties": false,
    "properties": {
      "token": {
        "$ref": "#/$defs/secretRef",
        "description": "SSM SecureString holding the K3s server token, read at boot through the instance profile (default /odp/<env>/k3s/token). A restored SQLite datastore needs the same token."
      },
      "agentToken": {
        "$ref": "#/$defs/secretRef",
        "description": "SSM SecureString holding the agent token workers join with (default /odp/<env>/k3s/agent-token); it cannot join servers."
      },
      "extraArgs": {
        "$ref": "#/$defs/configArgs",
        "description": "Extra `k3s server` config.yaml keys for every server (each must be a K3s server flag of the pinned release). Lists are appended to the generated values."
      }
    }
  } },
  pool: { k3s: {
    "description": "K3s-specific settings of this pool (distribution k3s).",
    "type": "object",
    "additionalProperties": false,
    "properties": {
      "extraArgs": {
        "$ref": "#/$defs/configArgs",
        "description": "Extra config.yaml keys for this pool: `k3s server` flags on a controlplane pool, `k3s agent` flags on a worker pool."
      }
    }
  } },
  defs: CONFIG_ARGS_SCHEMA,
};
