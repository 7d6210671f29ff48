/**
 * The core of the environment schema: what every environment has, whatever its distribution and engine.
 * ./compose.ts adds their fragments (placeholders: the empty enums and descriptions, `$syncPolicy`).
 */
import type { JsonSchema } from './compose.js';

export const CORE_SCHEMA: JsonSchema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://opendev.dev/odp-gitops/schemas/environment.schema.json",
  "title": "odp-gitops environment",
  "description": "One environment of the OpenDev Platform. Files whose name starts with '_' are shared bases: other environments `extends` them (maps merge deeply, lists replace). The resolved (merged) document is what this schema validates.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "name",
    "aws",
    "cluster",
    "nodePools",
    "git"
  ],
  "properties": {
    "name": {
      "description": "Environment name; equals the file name (prod.yaml → prod). Used in paths and resource names.",
      "$ref": "#/$defs/dnsLabel"
    },
    "extends": {
      "description": "Name of a shared base in environments/ (without .yaml), e.g. _base.",
      "type": "string",
      "pattern": "^_[a-z0-9][a-z0-9-]*$"
    },
    "description": {
      "type": "string"
    },
    "acknowledge": {
      "description": "Warnings seen and accepted, so CI logs show only new ones. Each entry silences the warning of `rule` at the document path `path` (as printed: `path: warning: … [rule]`); an entry that matches no warning of the run is an error, so stale entries surface. Errors cannot be acknowledged, except the version-skew rules' (version-skew, version-downgrade, version-order) for a cluster rebuilt from scratch: the refusal then stays printed as a warning with the reason (docs/how-to/upgrade.md).",
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "rule",
          "path",
          "reason"
        ],
        "properties": {
          "rule": {
            "description": "The rule id printed after the warning, e.g. addon-values-unchecked.",
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9.-]*$"
          },
          "path": {
            "description": "The document path printed in the warning, e.g. addons.reloader.values.",
            "type": "string",
            "minLength": 1
          },
          "reason": {
            "description": "Why the warning is accepted, for the reviewer.",
            "type": "string",
            "minLength": 1
          }
        }
      }
    },
    "git": {
      "description": "Where the GitOps engine reads this repository.",
      "type": "object",
      "additionalProperties": false,
      "required": [
        "repoURL",
        "targetRevision"
      ],
      "properties": {
        "repoURL": {
          "type": "string",
          "pattern": "^(https://|ssh://|git@)\\S+$"
        },
        "targetRevision": {
          "type": "string",
          "minLength": 1
        }
      }
    },
    "aws": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "region",
        "accountId",
        "vpc"
      ],
      "properties": {
        "region": {
          "type": "string",
          "pattern": "^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"
        },
        "accountId": {
          "type": "string",
          "pattern": "^[0-9]{12}$",
          "description": "12-digit AWS account id, quoted (e.g. \"123456789012\")"
        },
        "vpc": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "id",
            "cidr",
            "subnets"
          ],
          "properties": {
            "id": {
              "$ref": "#/$defs/stringOrSsm",
              "description": "VPC id (vpc-…)."
            },
            "cidr": {
              "$ref": "#/$defs/cidr"
            },
            "operatorCidrs": {
              "type": "array",
              "uniqueItems": true,
              "items": {
                "$ref": "#/$defs/cidr"
              },
              "description": "Networks outside the VPC (a VPN, an office network over a transit gateway) from which operators reach the API load balancer and the node ports the distribution opens to operators (its node API, where operators call the nodes directly). The VPC CIDR is always admitted; a network wider than /8 (0.0.0.0/0 included) is refused. Default: none."
            },
            "subnets": {
              "type": "array",
              "minItems": 1,
              "items": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "name",
                  "cidr",
                  "zone"
                ],
                "properties": {
                  "name": {
                    "$ref": "#/$defs/dnsLabel"
                  },
                  "id": {
                    "$ref": "#/$defs/stringOrSsm"
                  },
                  "cidr": {
                    "$ref": "#/$defs/cidr"
                  },
                  "zone": {
                    "type": "string",
                    "pattern": "^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$"
                  },
                  "public": {
                    "type": "boolean",
                    "description": "A public subnet (its route table routes 0.0.0.0/0 to an internet gateway): internet-facing ALBs are placed in the public subnets, internal ALBs in the private ones (default false: private). An ALB needs subnets of its tier in at least two Availability Zones."
                  }
                }
              }
            }
          }
        },
        "iam": {
          "description": "How pods get AWS credentials: EC2 instance profiles (default) or IRSA.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "mode": {
              "enum": [
                "instance-profile",
                "irsa"
              ]
            },
            "issuerURL": {
              "$ref": "#/$defs/stringOrSsm",
              "description": "IRSA: public OIDC issuer URL (S3 bucket or CloudFront) serving the service-account discovery documents."
            },
            "controllersPool": {
              "$ref": "#/$defs/dnsLabel",
              "description": "The worker pool that runs the add-ons calling AWS with the node's credentials (AWS Load Balancer Controller, EBS CSI controller, External Secrets when it assumes store roles). Default: the control planes. Only that pool gets IMDS hop limit 2 and their permissions; every other worker pool gets hop limit 1. The pool needs nodes and labels to select it by; its taints are tolerated. Where the control planes' role reads secrets at boot (node tokens, a datastore password) and worker pools exist, the default is no pinning: the controllers may run on any untainted worker, each with hop limit 2."
            }
          }
        }
      }
    },
    "cluster": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "name",
        "distribution",
        "kubernetesVersion",
        "endpoint",
        "datastore",
        "network"
      ],
      "properties": {
        "name": {
          "$ref": "#/$defs/dnsLabel"
        },
        "distribution": {
          "enum": [],
          "description": ""
        },
        "kubernetesVersion": {
          "type": "string",
          "pattern": "^1\\.[0-9]+\\.[0-9]+$",
          "description": "Exact Kubernetes version without v, e.g. 1.35.2."
        },
        "endpoint": {
          "description": "Kubernetes API endpoint (a DNS name on an internal NLB, or the control-plane address). A string, or { ssm: /name }.",
          "$ref": "#/$defs/endpointOrSsm"
        },
        "extraSANs": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/stringOrSsm",
            "description": "Extra API server certificate SAN (DNS name or IP), or { ssm: /name }."
          },
          "uniqueItems": true
        },
        "datastore": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "type"
          ],
          "properties": {
            "type": {
              "enum": [],
              "description": "The datastore the cluster state lives in; what each distribution runs:"
            },
            "backup": {
              "description": "etcd snapshots to S3.",
              "type": "object",
              "additionalProperties": false,
              "required": [
                "bucket"
              ],
              "properties": {
                "bucket": {
                  "$ref": "#/$defs/stringOrSsm"
                },
                "prefix": {
                  "type": "string"
                },
                "schedule": {
                  "$ref": "#/$defs/cron"
                },
                "kmsKeyId": {
                  "$ref": "#/$defs/stringOrSsm",
                  "description": "KMS key for S3 server-side encryption (default: the bucket's)."
                },
                "ageRecipientPublicKey": {
                  "$ref": "#/$defs/stringOrSsm",
                  "description": "age public key the snapshot is encrypted to before upload (the private key never enters the cluster)."
                },
                "retention": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 1000,
                  "description": "Snapshots kept locally and in S3 (default 5), per server: every server takes and prunes its own snapshots (their names carry its node name), so S3 holds up to this many times the number of servers."
                }
              }
            },
            "postgres": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "host",
                "database",
                "user",
                "password"
              ],
              "properties": {
                "host": {
                  "$ref": "#/$defs/stringOrSsm"
                },
                "port": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 65535
                },
                "database": {
                  "type": "string",
                  "pattern": "^[a-z_][a-z0-9_]*$"
                },
                "user": {
                  "type": "string",
                  "pattern": "^[a-z_][a-z0-9_]*$"
                },
                "password": {
                  "$ref": "#/$defs/secretRef"
                },
                "caBundlePath": {
                  "type": "string",
                  "pattern": "^/",
                  "description": "The CA bundle the nodes verify the database with (datastore-cafile; default /etc/ssl/certs/rds-global-bundle.pem, where the boot script downloads the RDS global bundle at the instance's first boot: user data runs once per instance). Any other path is the environment's own file: never overwritten, and the boot stops when it is missing or empty (put it on the AMI)."
                }
              }
            },
            "litestream": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "bucket"
              ],
              "properties": {
                "bucket": {
                  "$ref": "#/$defs/stringOrSsm"
                },
                "prefix": {
                  "type": "string"
                },
                "version": {
                  "type": "string",
                  "pattern": "^v[0-9]+\\.[0-9]+\\.[0-9]+$"
                }
              }
            }
          }
        },
        "network": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "podCIDR",
            "serviceCIDR"
          ],
          "properties": {
            "podCIDR": {
              "$ref": "#/$defs/cidr"
            },
            "serviceCIDR": {
              "$ref": "#/$defs/cidr"
            },
            "cni": {
              "enum": [
                "flannel",
                "cilium"
              ]
            },
            "dnsDomain": {
              "type": "string",
              "pattern": "^[a-z0-9.-]+$"
            }
          }
        },
        "plannedPods": {
          "type": "integer",
          "minimum": 1,
          "description": "Pods the environment must hold; the pod slots (nodes × (maxPods − DaemonSet pods)) of the pools workloads can land on are checked against it (a warning). Default 300."
        }
      }
    },
    "gitops": {
      "description": "",
      "enum": []
    },
    "$syncPolicy": {
      "type": "object",
      "additionalProperties": false,
      "description": "Sync policy, for every engine.",
      "properties": {
        "automated": {
          "type": "boolean",
          "description": "Automated sync (default true). Set false for manual syncs (e.g. prod)."
        },
        "prune": {
          "type": "boolean"
        },
        "selfHeal": {
          "type": "boolean"
        }
      }
    },
    "promotion": {
      "description": "How versions reach this environment (npm run promote; docs/how-to/promote-between-environments.md): `from` names the environment they come from, `soak` how long they must have run there (measured from Git history: when that environment's rendered tree first carried them), `freeze` the windows in which nothing is promoted here, `requireHealthy` whether `from`'s cluster must have applied them and be healthy. The fleet matrix (rendered/README.md) shows what this environment is behind `from` by.",
      "type": "object",
      "additionalProperties": false,
      "required": ["from"],
      "properties": {
        "from": { "description": "The environment versions are promoted from (another environment's name).", "$ref": "#/$defs/dnsLabel" },
        "soak": { "description": "How long a version must have run in `from` before it is promoted here: a number and a unit (m, h, d), e.g. 72h.", "type": "string", "pattern": "^[1-9][0-9]*(m|h|d)$" },
        "requireHealthy": { "description": "Whether npm run promote checks, at promote time, that `from`'s cluster has applied and is healthy at a revision containing the commit that introduced each version moved (its GitOps engine's delivery objects, read with kubectl through --source-context: the cluster's own context, or its hub's when a hub manages it); an unreachable cluster refuses. Default false: the soak is measured from Git history only, and promote says the health was not checked.", "type": "boolean" },
        "freeze": {
          "description": "Windows in which promotion to this environment is refused (each with its reason): a cron schedule and a duration (every Friday from 16:00 for 64h: `schedule: \"0 16 * * 5\"`, `duration: 64h`), or a date range (`start`, `end`: dates or UTC date-times, end exclusive).",
          "type": "array",
          "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["reason"],
            "properties": {
              "schedule": { "description": "When the window opens (five-field cron, UTC).", "$ref": "#/$defs/cron" },
              "duration": { "description": "How long it stays open after each start: a number and a unit (m, h, d).", "type": "string", "pattern": "^[1-9][0-9]*(m|h|d)$" },
              "start": { "description": "First moment of a date-range window (YYYY-MM-DD or YYYY-MM-DDTHH:MMZ, UTC).", "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}Z)?$" },
              "end": { "description": "First moment after a date-range window (exclusive).", "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}Z)?$" },
              "reason": { "description": "Why nothing is promoted then (printed with the refusal).", "type": "string", "minLength": 1 }
            },
            "oneOf": [
              { "required": ["schedule", "duration"], "not": { "anyOf": [{ "required": ["start"] }, { "required": ["end"] }] } },
              { "required": ["start", "end"], "not": { "anyOf": [{ "required": ["schedule"] }, { "required": ["duration"] }] } }
            ]
          }
        }
      }
    },
    "nodePools": {
      "type": "array",
      "minItems": 1,
      "items": {
        "$ref": "#/$defs/nodePool"
      }
    },
    "addons": {
      "description": "Platform add-ons by name. Catalog add-ons take enabled/values; any other name is a third-party chart and needs `chart`.",
      "type": "object",
      "propertyNames": {
        "$ref": "#/$defs/dnsLabel"
      },
      "additionalProperties": {
        "$ref": "#/$defs/addon"
      }
    },
    "workloads": {
      "type": "array",
      "items": {
        "$ref": "#/$defs/workload"
      }
    }
  },
  "$defs": {
    "dnsLabel": {
      "type": "string",
      "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
    },
    "cidr": {
      "type": "string",
      "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$"
    },
    "ipv4": {
      "type": "string",
      "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){3}$"
    },
    "cron": {
      "type": "string",
      "minLength": 1,
      "description": "Cron schedule as Kubernetes CronJobs take it (robfig/cron standard parser): five fields minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-6 or SUN-SAT), each a list of *, N, N-M with optional /step; or @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly. No seconds field, no TZ= prefix. Checked by the rule cron-schedule."
    },
    "stringMap": {
      "type": "object",
      "additionalProperties": {
        "type": "string"
      }
    },
    "ssmRef": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "ssm"
      ],
      "properties": {
        "ssm": {
          "type": "string",
          "pattern": "^/[A-Za-z0-9_./-]+$",
          "description": "Name of a non-secret SSM String (or StringList) parameter, resolved at synth from environments/<env>.ssm.lock.json (refresh it with npm run synth -- --env <env> --refresh-ssm). A SecureString is refused: use { secret: … }."
        }
      }
    },
    "stringOrSsm": {
      "if": {
        "type": "object"
      },
      "then": {
        "$ref": "#/$defs/ssmRef"
      },
      "else": {
        "type": "string",
        "minLength": 1
      }
    },
    "secretRef": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "secret"
      ],
      "properties": {
        "secret": {
          "type": "string",
          "pattern": "^/[A-Za-z0-9_./-]+$",
          "description": "Name of an SSM SecureString. Never read at synth: rendered as an ExternalSecret or a reference."
        }
      }
    },
    "taint": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "key",
        "effect"
      ],
      "properties": {
        "key": {
          "type": "string",
          "pattern": "^([a-z0-9.-]+/)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
        },
        "value": {
          "type": "string"
        },
        "effect": {
          "enum": [
            "NoSchedule",
            "PreferNoSchedule",
            "NoExecute"
          ]
        }
      }
    },
    "nodePool": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "name",
        "role",
        "arch",
        "instanceType"
      ],
      "properties": {
        "name": {
          "$ref": "#/$defs/dnsLabel"
        },
        "role": {
          "enum": [
            "controlplane",
            "worker"
          ]
        },
        "arch": {
          "enum": [
            "amd64",
            "arm64"
          ]
        },
        "instanceType": {
          "description": "EC2 instance type: one of the instance table (generators/model/instance-types.ts) or locked from EC2 by --refresh-ssm; its arch and GPUs must match the pool's.",
          "type": "string",
          "pattern": "^[a-z][a-z0-9-]*\\.[a-z0-9]+$"
        },
        "subnet": {
          "$ref": "#/$defs/dnsLabel",
          "description": "Name of the private subnet in aws.vpc.subnets the pool's nodes run in (a node may name its own; public subnets are refused). No default: without one, the kubelet takes its node IP from the VPC CIDR and nodes get no zone label."
        },
        "maxPods": {
          "type": "integer",
          "minimum": 10,
          "maximum": 250
        },
        "labels": {
          "$ref": "#/$defs/stringMap"
        },
        "taints": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/taint"
          }
        },
        "gpu": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "vendor"
          ],
          "properties": {
            "vendor": {
              "enum": [
                "nvidia"
              ]
            },
            "perNode": {
              "description": "GPUs per node offered as nvidia.com/gpu (default: the instance type's GPU count; at most that).",
              "type": "integer",
              "minimum": 1,
              "maximum": 16
            }
          }
        },
        "count": {
          "type": "integer",
          "minimum": 0,
          "maximum": 500,
          "description": "Auto-scaled pool: one config per pool, nodes join with it."
        },
        "nodes": {
          "type": "array",
          "minItems": 1,
          "items": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "name",
              "ip"
            ],
            "properties": {
              "name": {
                "$ref": "#/$defs/dnsLabel"
              },
              "ip": {
                "$ref": "#/$defs/ipv4"
              },
              "subnet": {
                "$ref": "#/$defs/dnsLabel"
              },
              "replacement": {
                "type": "integer",
                "minimum": 1,
                "maximum": 999,
                "description": "Replaces a lost node's instance: raise it by one (absent counts as 0) once the old instance is terminated, and the nodes stack creates a new instance with the same name, address and user data (the number is part of the instance's logical id, so the change is a reviewed merge that Git sync or deploy.sh nodes applies). Follow the AWS runbook's replacement step: the cluster-side step of the distribution comes first. Default: none."
              }
            }
          }
        }
      }
    },
    "addon": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "enabled": {
          "type": "boolean"
        },
        "namespace": {
          "$ref": "#/$defs/dnsLabel"
        },
        "values": {
          "type": "object",
          "description": "Helm values merged over the catalog's defaults; keys are checked against the chart."
        },
        "settings": {
          "type": "object",
          "description": "Add-on specific settings (see the add-on catalog, docs/concepts/add-ons.md)."
        },
        "syncWave": {
          "type": "integer",
          "description": "Refused (rule addon-sync-wave): the delivery order comes from the delivery graph, each unit after the units providing what it needs (its namespace, the CRDs, webhooks and secret stores its objects use), not from a number."
        },
        "chart": {
          "description": "Third-party chart: repoURL, name and version (required for names outside the catalog). Catalog add-ons: only version, the chart version this environment runs instead of the catalog's pin (values are then checked against that version's key table).",
          "type": "object",
          "additionalProperties": false,
          "minProperties": 1,
          "properties": {
            "repoURL": {
              "type": "string",
              "pattern": "^(https://|oci://)\\S+$"
            },
            "name": {
              "type": "string",
              "minLength": 1
            },
            "version": {
              "type": "string",
              "pattern": "^v?[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?$",
              "description": "Exact chart version (no ranges)."
            }
          }
        },
        "secrets": {
          "description": "Secrets this chart needs, delivered as ExternalSecrets into its namespace: Secret name → key → SSM SecureString.",
          "type": "object",
          "additionalProperties": {
            "type": "object",
            "additionalProperties": {
              "$ref": "#/$defs/secretRef"
            }
          }
        },
        "clusterResources": {
          "description": "Cluster-scoped kinds a third-party chart creates, as group/Kind ('/Kind' for the core group), e.g. rbac.authorization.k8s.io/ClusterRole; whitelisted by name in the AppProject.",
          "type": "array",
          "uniqueItems": true,
          "items": {
            "type": "string",
            "pattern": "^([a-z0-9.-]*)/[A-Z][A-Za-z0-9]*$"
          }
        },
        "podSecurity": {
          "enum": [
            "privileged",
            "baseline",
            "restricted"
          ],
          "description": "Pod Security Standard enforced on the namespace the GitOps engine creates for this add-on (label pod-security.kubernetes.io/enforce). Third-party charts default to restricted; catalog add-ons have their own level, which this overrides."
        },
        "serverSideApply": {
          "type": "boolean",
          "description": "Third-party charts: sync with server-side apply and server-side diff (default true: a chart's CRDs may exceed the 262144-byte last-applied annotation of client-side apply). Set false only for a chart that breaks under server-side apply."
        },
        "extraNamespaces": {
          "description": "Existing namespaces the chart writes to besides its own (e.g. a RoleBinding in kube-system), added to the namespaces its delivery may write to. Each must exist on the cluster (kube-system, kube-public, kube-node-lease, default, or the namespace of another add-on or a workload) unless the chart creates it (clusterResources lists /Namespace); never the namespace the engine keeps its delivery objects in.",
          "type": "array",
          "uniqueItems": true,
          "items": {
            "$ref": "#/$defs/dnsLabel"
          }
        }
      }
    },
    "envValue": {
      "if": {
        "type": "object"
      },
      "then": {
        "if": {
          "required": [
            "secret"
          ]
        },
        "then": {
          "$ref": "#/$defs/secretRef"
        },
        "else": {
          "$ref": "#/$defs/ssmRef"
        }
      },
      "else": {
        "type": "string"
      }
    },
    "quantity": {
      "description": "A Kubernetes quantity: a string such as 250m, 512Mi or 2, or a plain number such as 0.5 or 2, which Kubernetes reads the same way (a number has no unit: cores for cpu, bytes for memory and size).",
      "type": ["string", "number"],
      "pattern": "^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$",
      "minimum": 0
    },
    "resources": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "cpu": {
          "$ref": "#/$defs/quantity"
        },
        "memory": {
          "$ref": "#/$defs/quantity"
        }
      }
    },
    "probe": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "httpGet": {
          "type": "string",
          "pattern": "^/",
          "description": "HTTP path on the workload's first port."
        },
        "tcp": {
          "type": "boolean"
        },
        "port": {
          "type": "integer",
          "minimum": 1,
          "maximum": 65535
        },
        "initialDelaySeconds": {
          "type": "integer",
          "minimum": 0
        },
        "periodSeconds": {
          "type": "integer",
          "minimum": 1
        },
        "failureThreshold": {
          "type": "integer",
          "minimum": 1
        }
      }
    },
    "workload": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "name",
        "image"
      ],
      "properties": {
        "name": {
          "$ref": "#/$defs/dnsLabel",
          "description": "Workload name: the name of its objects, its manifests directory and its unit of delivery."
        },
        "namespace": {
          "$ref": "#/$defs/dnsLabel",
          "description": "Namespace (default: the workload's name). Workloads may share one; the alphabetically first owns the Namespace and its default-deny policies."
        },
        "kind": {
          "enum": [
            "deployment",
            "statefulset",
            "cronjob"
          ],
          "description": "Default deployment; statefulset when volumes are declared and stable identity is needed; cronjob for batch work (needs schedule)."
        },
        "image": {
          "type": "string",
          "pattern": "^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[a-f0-9]{64})?$",
          "description": "Container image with a tag or a digest (registry/repo:tag, repo@sha256:…). Untagged images and the tag `latest` are refused."
        },
        "replicas": {
          "type": "integer",
          "minimum": 0,
          "description": "Pods (default 2). With autoscaling, the HPA owns the replica count and this is its default minReplicas."
        },
        "schedule": {
          "$ref": "#/$defs/cron",
          "description": "Cron schedule of a cronjob (UTC)."
        },
        "command": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "args": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "ports": {
          "type": "array",
          "items": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "name",
              "port"
            ],
            "properties": {
              "name": {
                "type": "string",
                "pattern": "^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$"
              },
              "port": {
                "type": "integer",
                "minimum": 1,
                "maximum": 65535
              },
              "protocol": {
                "enum": [
                  "TCP",
                  "UDP"
                ]
              }
            }
          }
        },
        "metricsPort": {
          "type": "string",
          "description": "Name of the port Prometheus scrapes at /metrics: adds a ServiceMonitor and lets the monitoring namespace in."
        },
        "env": {
          "type": "object",
          "propertyNames": {
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"
          },
          "additionalProperties": {
            "$ref": "#/$defs/envValue"
          }
        },
        "envFrom": {
          "description": "Environment variables from SSM: each { ssmPath: /prefix/ } adds every String parameter directly below the prefix (base name → value). Later entries win over earlier ones; env wins over envFrom.",
          "type": "array",
          "items": {
            "$ref": "#/$defs/ssmPathRef"
          }
        },
        "configFiles": {
          "description": "Files mounted read-only from a ConfigMap: absolute path → content.",
          "type": "object",
          "propertyNames": {
            "pattern": "^/[A-Za-z0-9_./-]+$"
          },
          "additionalProperties": {
            "type": "string"
          }
        },
        "resources": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "requests": {
              "$ref": "#/$defs/resources"
            },
            "limits": {
              "$ref": "#/$defs/resources"
            }
          },
          "description": "Requests are required (cpu and memory). Limits default to: memory = the memory request (no memory overcommit), no CPU limit (no throttling); set them to override."
        },
        "liveness": {
          "$ref": "#/$defs/probe"
        },
        "readiness": {
          "$ref": "#/$defs/probe"
        },
        "placement": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "arch": {
              "enum": [
                "amd64",
                "arm64",
                "any"
              ]
            },
            "gpu": {
              "type": "integer",
              "minimum": 1,
              "maximum": 16
            },
            "pool": {
              "$ref": "#/$defs/dnsLabel"
            }
          },
          "description": "Where pods run: arch (amd64, arm64 or any, default any: the image must be multi-arch), gpu (NVIDIA GPUs per pod: nvidia.com/gpu limit, GPU toleration, runtimeClassName nvidia) and pool (a worker pool, selected by its labels)."
        },
        "ingress": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "host"
          ],
          "properties": {
            "host": {
              "type": "string",
              "pattern": "^[a-z0-9*.-]+$"
            },
            "path": {
              "type": "string",
              "pattern": "^/"
            },
            "port": {
              "type": "string",
              "description": "Name of the port to expose (default the first)."
            },
            "scheme": {
              "enum": [
                "internet-facing",
                "internal"
              ],
              "description": "internal (default) or internet-facing."
            },
            "certificateArn": {
              "$ref": "#/$defs/stringOrSsm",
              "description": "ACM certificate: adds an HTTPS:443 listener and redirects HTTP to it."
            },
            "groupName": {
              "$ref": "#/$defs/dnsLabel",
              "description": "ALB group (alb.ingress.kubernetes.io/group.name): Ingresses of one group share one ALB. Default <cluster name>-<internal|public>."
            }
          }
        },
        "autoscaling": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "maxReplicas"
          ],
          "properties": {
            "minReplicas": {
              "type": "integer",
              "minimum": 1
            },
            "maxReplicas": {
              "type": "integer",
              "minimum": 1
            },
            "targetCPUUtilization": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100
            }
          }
        },
        "disruptionBudget": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "minAvailable": {
              "type": "integer",
              "minimum": 0
            },
            "maxUnavailable": {
              "type": "integer",
              "minimum": 0
            }
          }
        },
        "volumes": {
          "type": "array",
          "items": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "name",
              "mountPath",
              "size"
            ],
            "properties": {
              "name": {
                "$ref": "#/$defs/dnsLabel"
              },
              "mountPath": {
                "type": "string",
                "pattern": "^/"
              },
              "size": {
                "$ref": "#/$defs/quantity"
              }
            }
          },
          "description": "Persistent volumes (EBS, StorageClass gp3 (encrypted), ReadWriteOnce) as volumeClaimTemplates: needs kind statefulset."
        },
        "serviceAccount": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "iamRoleArn": {
              "$ref": "#/$defs/stringOrSsm",
              "description": "IAM role assumed through IRSA (needs aws.iam.mode irsa): annotates the ServiceAccount (eks.amazonaws.com/role-arn) and mounts a projected token for sts.amazonaws.com."
            }
          }
        },
        "network": {
          "description": "Traffic allowed on top of the namespace's default deny.",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "ingressFrom": {
              "type": "array",
              "items": {
                "type": "string",
                "description": "workload name, or namespace/<ns>"
              }
            },
            "egressTo": {
              "type": "array",
              "items": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "workload": {
                    "$ref": "#/$defs/dnsLabel"
                  },
                  "cidr": {
                    "$ref": "#/$defs/cidr"
                  },
                  "ports": {
                    "type": "array",
                    "items": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 65535
                    }
                  }
                }
              }
            }
          }
        },
        "runAsUser": {
          "type": "integer",
          "minimum": 1,
          "maximum": 2147483647,
          "description": "UID (and GID) the containers run as; also the fsGroup of persistent volumes. Default: the image's user, which must be non-root."
        },
        "metricsPath": {
          "type": "string",
          "pattern": "^/",
          "description": "Path Prometheus scrapes (default /metrics)."
        }
      },
      "description": "One of the platform's own services, rendered with cdk8s-plus-28 into rendered/<env>/manifests/<name>/ and delivered as its own unit by the GitOps engine. Hardened by default (Pod Security Standards restricted, default-deny network policies)."
    },
    "ssmPathRef": {
      "type": "object",
      "additionalProperties": false,
      "required": [
        "ssmPath"
      ],
      "properties": {
        "ssmPath": {
          "type": "string",
          "pattern": "^/([A-Za-z0-9_.-]+/)+$",
          "description": "SSM path prefix ending in '/': every String parameter directly below it, base name → value, resolved at synth from environments/<env>.ssm.lock.json. SecureStrings below the prefix are refused (use { secret: … } one by one)."
        }
      }
    },
    "endpointOrSsm": {
      "description": "Kubernetes API endpoint, or { ssm: /name } of a parameter holding one (e.g. an NLB DNS name written by Terraform).",
      "if": {
        "type": "object"
      },
      "then": {
        "$ref": "#/$defs/ssmRef"
      },
      "else": {
        "type": "string",
        "pattern": "^https://[a-z0-9.-]+(:[0-9]+)?$"
      }
    }
  }
};
