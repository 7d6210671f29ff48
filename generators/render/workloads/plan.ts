/** The workload facts moved to the engine-neutral delivery plan (generators/plan/workloads.ts). */
export * from '../../plan/workloads.js';
