/**
 * A CommonJS package loaded on the first use of one of its exports, synchronously (render code is
 * synchronous and pure): a command that never renders a workload or never calls AWS does not pay
 * for importing cdk8s-plus or the AWS SDK (hundreds of milliseconds each at start-up).
 *
 * Only for CommonJS packages whose ESM import resolves to the same file (cdk8s, cdk8s-plus-28,
 * handlebars, @aws-sdk/*, @smithy/core: `main`/`node` → dist-cjs), so an object created through
 * the lazy module is the same class a test imports (aws-sdk-client-mock patches that class).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** A value built on the first use of one of its properties (a Proxy over `load`'s result, loaded once). */
export function lazyValue<T extends object>(load: () => T): T {
  let loaded: T | undefined;
  const get = (): T => (loaded ??= load());
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(get(), key),
    has: (_target, key) => Reflect.has(get(), key),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), key);
      return d && { ...d, configurable: true };
    },
  });
}

export function lazyModule<T extends object>(specifier: string): T {
  return lazyValue(() => require(specifier) as T);
}

/**
 * Where the build writes a vendored bundle, relative to the running code: `dist/vendor/<name>.cjs`
 * beside the command bundles (generators/build/build.mjs, VENDOR_BUNDLES). Running from source (the
 * tests, tsx) there is none, and the packages load as they are.
 */
export const vendorBundleUrl = (name: string, base: string = import.meta.url): URL => new URL(`./vendor/${name}.cjs`, base);

/**
 * Several packages loaded together on first use: from the build's vendored bundle `name` when the
 * running code has one beside it (one file holding the packages and their dependencies, so one
 * compile instead of a module resolution and a compile per file: cdk8s-plus-28 with cdk8s,
 * constructs and their dependencies is ~100 CommonJS files and a 2.7 MB generated k8s.js that is
 * mostly doc comments), else from the packages. The bundle exports an object with the same keys,
 * each the package's own exports (build.mjs writes it from the same map).
 */
export function vendoredModules<T extends Record<string, object>>(name: string, packages: { [K in keyof T]: string }, base: string = import.meta.url): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded) return loaded;
    const bundle = fileURLToPath(vendorBundleUrl(name, base));
    if (existsSync(bundle)) return (loaded = require(bundle) as T);
    return (loaded = Object.fromEntries(Object.entries(packages).map(([k, spec]) => [k, require(spec as string)])) as T);
  };
}
