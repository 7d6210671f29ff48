import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // SOURCE_DATE_EPOCH: 2026-12-08 12:00 UTC (test/helpers.ts SYNTH_DAY), the day synth stamps (lib/source-date.ts).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', SOURCE_DATE_EPOCH: '1796731200' },
  },
});
