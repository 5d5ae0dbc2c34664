import type { ModulesContainer } from '@nestjs/core';
import type { FlumeOptions, FlumePipelineOptions } from '../engine/index.js';

/** Injection token of the pipelines one `FlumeModule.forFeature` declares (internal). */
export const FLUME_FEATURE_PIPELINES = Symbol('FLUME_FEATURE_PIPELINES');

/**
 * The pipelines the app's feature modules declare with `FlumeModule.forFeature`, read
 * from the modules before any provider is built (the engine needs them at construction).
 */
export function featurePipelines(modules: ModulesContainer): FlumePipelineOptions[] {
  const found: FlumePipelineOptions[] = [];
  for (const moduleRef of modules.values()) {
    const declared = moduleRef.providers.get(FLUME_FEATURE_PIPELINES)?.instance;
    if (Array.isArray(declared)) found.push(...(declared as FlumePipelineOptions[]));
  }
  return found;
}

/** The options with the feature modules' pipelines after forRoot's own. */
export function withFeaturePipelines(raw: FlumeOptions, modules: ModulesContainer): FlumeOptions {
  const features = featurePipelines(modules);
  if (features.length === 0 || raw === null || typeof raw !== 'object') return raw;
  const own = Array.isArray(raw.pipelines) ? raw.pipelines : [];
  return { ...raw, pipelines: [...own, ...features] };
}
