/**
 * Talos' fragment of the environment schema (composed by generators/schema/compose.ts into
 * schemas/environment.schema.json): talosVersion, cluster.talos, nodePools[].talos, patches and extensions.
 */
import type { DistributionSchema } from '../types.js';

export const TALOS_SCHEMA: DistributionSchema = {
  summary: 'talos (the architecture decision)',
  release: { talosVersion: {
    "type": "string",
    "pattern": "^v1\\.[0-9]+\\.[0-9]+$",
    "description": "Exact Talos release, e.g. v1.13.9 (talos distribution)."
  } },
  cluster: { talos: {
    "description": "Talos-specific settings.",
    "type": "object",
    "additionalProperties": false,
    "properties": {
      "installDisk": {
        "type": "string",
        "pattern": "^/dev/"
      },
      "kubeletExtraArgs": {
        "$ref": "#/$defs/stringMap"
      },
      "apiServerExtraArgs": {
        "$ref": "#/$defs/stringMap"
      },
      "sysctls": {
        "$ref": "#/$defs/stringMap"
      },
      "extensions": {
        "$ref": "#/$defs/talosExtensions",
        "description": "Official Image Factory system extensions for every node (siderolabs/<name>)."
      },
      "patches": {
        "$ref": "#/$defs/talosPatches"
      },
      "nvidiaDriver": {
        "enum": [
          "lts",
          "production"
        ],
        "description": "NVIDIA driver tier for GPU pools: open GPU kernel modules and container toolkit of the same tier (default lts)."
      },
      "secretsBundle": {
        "description": "Where `npm run talos -- secrets import` stores the `talosctl gen secrets` bundle (an SSM SecureString) and where `npm run talos -- config` reads it.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "parameter": {
            "type": "string",
            "pattern": "^(/[A-Za-z0-9_.-]+)+$",
            "description": "SSM parameter name (default /odp/<env>/talos/secrets-bundle)."
          },
          "kmsKeyId": {
            "type": "string",
            "minLength": 1,
            "description": "KMS key (id, ARN or alias/…) encrypting the SecureString (default: the account's aws/ssm key). `--kms-key` overrides it."
          }
        }
      }
    }
  } },
  pool: { talos: {
    "description": "Talos-specific settings of this pool (distribution talos).",
    "type": "object",
    "additionalProperties": false,
    "properties": {
      "extensions": {
        "$ref": "#/$defs/talosExtensions",
        "description": "System extensions for this pool's nodes besides cluster.talos.extensions: the pool gets its own Image Factory schematic (node class <arch>[-nvidia]-<pool>)."
      },
      "patches": {
        "$ref": "#/$defs/talosPatches",
        "description": "Patches for this pool's configs, applied after cluster.talos.patches."
      }
    }
  } },
  defs: {
    talosPatches: {
      "description": "Strategic-merge patches on the rendered Talos machine configs, merged as Talos merges them (maps merge, scalars replace unless zero, lists append except podSubnets/serviceSubnets/auditPolicy, which replace; interfaces by interface/deviceSelector, vlans by vlanId, admissionControl by name; extraArgs per flag; `{ $patch: delete }` removes a key). One list item is one document: without `kind` it patches the v1alpha1 config; with apiVersion and kind (and name) it patches or adds that document. Secret reference fields, the installer and Kubernetes images and machine.type cannot be patched; denied kube-apiserver/kubelet flags stay denied.",
      "type": "array",
      "items": {
        "type": "object",
        "minProperties": 1
      }
    },
    talosExtensions: {
      "type": "array",
      "items": {
        "type": "string",
        "pattern": "^[a-z0-9-]+/[a-z0-9-]+$"
      },
      "uniqueItems": true
    },
  },
  backup: {
    expireAfterDays: {
      type: 'integer',
      minimum: 1,
      maximum: 3650,
      description:
        "Talos only: days the snapshot bucket keeps each snapshot (default 30). The uploader never deletes, so the bucket's lifecycle rule (rendered/<env>/aws/base.yaml) expires snapshots below the prefix this many days after upload.",
    },
  },
  datastoreNotes: {
    'type.etcd': 'Talos-managed',
    backup: 'through the Talos API (the etcd-backup add-on: talos-backup, encrypted)',
  },
};
