/**
 * A CommonJS package loaded on the first use of one of its exports, synchronously (render code is
 * synchronous and pure): a command that never renders a workload or never calls AWS does not pay
 * for importing cdk8s-plus or the AWS SDK (hundreds of milliseconds each at start-up).
 *
 * Only for CommonJS packages whose ESM import resolves to the same file (cdk8s, cdk8s-plus-28,
 * handlebars, @aws-sdk/*, @smithy/core: `main`/`node` → dist-cjs), so an object created through
 * the lazy module is the same class a test imports (aws-sdk-client-mock patches that class).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyModule<T extends object>(specifier: string): T {
  let loaded: T | undefined;
  const load = (): T => (loaded ??= require(specifier) as T);
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(load(), key),
    has: (_target, key) => Reflect.has(load(), key),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
}
