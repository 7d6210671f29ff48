/**
 * Run AWS SDK code hermetically: no credentials, profiles or config from the machine, no instance
 * metadata lookups; `extra` sets the endpoint. Returns a function restoring the previous values.
 */
export function hermeticAwsEnv(extra: Record<string, string> = {}): () => void {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: '/nonexistent/odp-test/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/odp-test/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  });
  return () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  };
}
