/**
 * Values of the pinned charts that make a pod take AWS credentials from the SDK's default chain ("ambient"
 * credentials): environment variables, a shared config file, a web identity, then the instance profile through IMDS.
 * In a namespace denied IMDS (catalog/network-policies.ts imdsDenyPolicy) the chain ends with nothing, and the
 * component fails at its first AWS call: remote write, a Thanos upload. Rule imds-denied-credentials
 * (validate/imds-credentials.ts) refuses such values there. One row per values path, from the pinned chart's
 * values.yaml and the program's credential code. Paths: dotted keys, `[]` for every element of a list.
 *
 * What this cannot see: objects the environment does not render (a cert-manager ClusterIssuer with a Route53 solver
 * and no accessKeyID/secretAccessKeySecretRef uses ambient credentials, --cluster-issuer-ambient-credentials being on
 * by default), scrape configs given as a string or kept in a Secret, Thanos configs kept in a Secret (`existingSecret`), and a chart's values this
 * table does not list (docs/concepts/hardening.md, "AWS credentials in add-on namespaces").
 */
import { isMap } from './facts.js';

export interface AmbientCredentialUse {
  addon: string;
  who: string;
  path: string;
  /** Whether the object found at `path` leaves the credentials to the default chain. */
  ambient: (o: Record<string, unknown>) => boolean;
  /** What to set instead. */
  instead: string;
  source: string;
}

const SIGV4 =
  'prometheus/sigv4 sigv4.go @ 10cefb3 NewSigV4RoundTripper: static credentials only when AccessKey and SecretKey are both set, otherwise config.LoadDefaultConfig (the default chain), and RoleARN is assumed with those credentials; prometheus-operator API RemoteWriteSpec.sigv4 (accessKey, secretKey: SecretKeySelectors; profile; roleArn)';
const THANOS_S3 =
  'thanos-io/objstore providers/s3/s3.go @ 03fd703 validate: without access_key "envvars/IAM should be used" (aws_sdk_auth: the AWS SDK default chain); kube-prometheus-stack 88.5.3 values.yaml:4840-4866 (prometheus.prometheusSpec.thanos.objectStorageConfig.secret), 5648-5660 (thanosRuler.thanosRulerSpec.objectStorageConfig.secret)';

const EC2_SD =
  'prometheus/prometheus discovery/aws/ec2.go @ 0176623 ec2Client: Credentials nil (the SDK default chain) when access_key and secret_key are both empty, role_arn assumed with those; kube-prometheus-stack 88.5.3 values.yaml:4710 (prometheus.prometheusSpec.additionalScrapeConfigs)';

const keyPairAmbient = (o: Record<string, unknown>): boolean => !(typeof o.access_key === 'string' && o.access_key !== '' && o.secret_key !== undefined);
const sigv4Ambient = (o: Record<string, unknown>): boolean => !(isMap(o.accessKey) && isMap(o.secretKey));
const s3Ambient = (o: Record<string, unknown>): boolean => {
  const config = isMap(o.config) ? o.config : {};
  return String(o.type ?? '').toLowerCase() === 's3' && (config.aws_sdk_auth === true || typeof config.access_key !== 'string' || config.access_key === '');
};
const SIGV4_INSTEAD = 'sigv4.accessKey and sigv4.secretKey (keys of a Secret in the namespace, e.g. written by an ExternalSecret from its store)';
const S3_INSTEAD = 'the configuration in a Secret with access_key and secret_key (objectStorageConfig.existingSecret, written by an ExternalSecret from the namespace\'s store; keys in values would land in the rendered tree)';

export const AMBIENT_CREDENTIAL_USES: readonly AmbientCredentialUse[] = [
  { addon: 'kube-prometheus-stack', who: 'Prometheus remote write (sigv4)', path: 'prometheus.prometheusSpec.remoteWrite[].sigv4', ambient: sigv4Ambient, instead: SIGV4_INSTEAD, source: `${SIGV4}; kube-prometheus-stack 88.5.3 values.yaml:4658` },
  { addon: 'kube-prometheus-stack', who: 'Prometheus remote write (sigv4)', path: 'prometheus.prometheusSpec.additionalRemoteWrite[].sigv4', ambient: sigv4Ambient, instead: SIGV4_INSTEAD, source: `${SIGV4}; kube-prometheus-stack 88.5.3 values.yaml:4661` },
  { addon: 'kube-prometheus-stack', who: 'Thanos Ruler remote write (sigv4)', path: 'thanosRuler.thanosRulerSpec.remoteWrite[].sigv4', ambient: sigv4Ambient, instead: SIGV4_INSTEAD, source: `${SIGV4}; kube-prometheus-stack 88.5.3 values.yaml:5877` },
  {
    addon: 'kube-prometheus-stack',
    who: "Prometheus' EC2 service discovery",
    path: 'prometheus.prometheusSpec.additionalScrapeConfigs[].ec2_sd_configs[]',
    ambient: keyPairAmbient,
    instead: 'the scrape configs in a Secret with access_key and secret_key (additionalScrapeConfigsSecret, written by an ExternalSecret from the namespace\'s store; keys in values would land in the rendered tree)',
    source: EC2_SD,
  },
  { addon: 'kube-prometheus-stack', who: "Prometheus' Thanos sidecar (S3 uploads)", path: 'prometheus.prometheusSpec.thanos.objectStorageConfig.secret', ambient: s3Ambient, instead: S3_INSTEAD, source: THANOS_S3 },
  { addon: 'kube-prometheus-stack', who: 'Thanos Ruler (S3 uploads)', path: 'thanosRuler.thanosRulerSpec.objectStorageConfig.secret', ambient: s3Ambient, instead: S3_INSTEAD, source: THANOS_S3 },
];

/** The ServiceAccount annotation EKS' pod identity webhook reads; nothing reads it on these clusters (./irsa.ts). */
export const IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn';
/** The variable a pod has when it was given a web identity (the SDKs' web identity provider reads it). */
export const WEB_IDENTITY_ENV = 'AWS_WEB_IDENTITY_TOKEN_FILE';

type Path = (string | number)[];

/** Every object at a `[]`-path of `values`, with its concrete path. */
export function objectsAt(values: unknown, path: string): { at: Path; o: Record<string, unknown> }[] {
  let found: { at: Path; v: unknown }[] = [{ at: [], v: values }];
  for (const seg of path.split('.')) {
    const list = seg.endsWith('[]');
    const key = list ? seg.slice(0, -2) : seg;
    found = found.flatMap(({ at, v }) => {
      const next = isMap(v) ? v[key] : undefined;
      if (!list) return next === undefined ? [] : [{ at: [...at, key], v: next }];
      return Array.isArray(next) ? next.map((x, i) => ({ at: [...at, key, i], v: x })) : [];
    });
  }
  return found.flatMap(({ at, v }) => (isMap(v) ? [{ at, o: v }] : []));
}

/** Every path of `values` whose key is `key` (at any depth). */
export function keysNamed(values: unknown, key: string, at: Path = []): Path[] {
  if (Array.isArray(values)) return values.flatMap((x, i) => keysNamed(x, key, [...at, i]));
  if (!isMap(values)) return [];
  return Object.entries(values).flatMap(([k, v]) => [...(k === key ? [[...at, k]] : []), ...keysNamed(v, key, [...at, k])]);
}
