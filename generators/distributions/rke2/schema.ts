/**
 * RKE2's fragment of the environment schema (composed by generators/schema/compose.ts into
 * schemas/environment.schema.json): rke2Version, cluster.rke2, nodePools[].rke2, and its datastore notes.
 */
import { CONFIG_ARGS_SCHEMA } from '../rancher/schema.js';
import type { DistributionSchema } from '../types.js';

export const RKE2_SCHEMA: DistributionSchema = {
  summary: 'rke2 (CIS-hardened, FIPS-validated builds; embedded etcd with S3 snapshots, or Kine on PostgreSQL)',
  release: { rke2Version: {
    "type": "string",
    "pattern": "^v1\\.[0-9]+\\.[0-9]+\\+rke2r[0-9]+$",
    "description": "Exact RKE2 release, e.g. v1.35.7+rke2r1 (rke2 distribution; one of the releases the generator lists)."
  } },
  cluster: { rke2: {
    "description": "RKE2-specific settings (distribution rke2).",
    "type": "object",
    "additionalProperties": false,
    "properties": {
      "token": {
        "$ref": "#/$defs/secretRef",
        "description": "SSM SecureString holding the RKE2 server token, read at boot through the instance profile (default /odp/<env>/rke2/token). A restored etcd snapshot needs the same token."
      },
      "agentToken": {
        "$ref": "#/$defs/secretRef",
        "description": "SSM SecureString holding the agent token workers join with (default /odp/<env>/rke2/agent-token); it cannot join servers."
      },
      "extraArgs": {
        "$ref": "#/$defs/configArgs",
        "description": "Extra `rke2 server` config.yaml keys for every server (each must be an RKE2 server flag of the pinned release). Lists are appended to the generated values."
      }
    }
  } },
  pool: { rke2: {
    "description": "RKE2-specific settings of this pool (distribution rke2).",
    "type": "object",
    "additionalProperties": false,
    "properties": {
      "extraArgs": {
        "$ref": "#/$defs/configArgs",
        "description": "Extra config.yaml keys for this pool: `rke2 server` flags on a controlplane pool, `rke2 agent` flags on a worker pool."
      }
    }
  } },
  defs: CONFIG_ARGS_SCHEMA,
  datastoreNotes: {
    'type.etcd': 'embedded, with snapshots to S3',
    // rancher/rke2-docs c7cda232 (2025-06-03, "Remove kine as experimental") removed the warning from
    // docs/datastore/external.md; docs/datastore/backup_restore.md line 368 still reads "External DB
    // Backups (Experimental)".
    'type.kine-postgres': "an external datastore, which RKE2's docs no longer call experimental, though their external-DB backup section still is; RKE2 officially supports embedded etcd",
    backup: 'its own etcd-s3 snapshots through the instance profile',
    'backup.kmsKeyId': "refused, since RKE2's etcd-s3 has no server-side-encryption option (the bucket's default encryption applies)",
    'backup.retention': "etcd-snapshot-retention and etcd-s3-retention (5 is RKE2's own default), applied by each server to its own snapshots; the only distribution that uses it",
  },
};
