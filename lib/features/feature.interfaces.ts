import type { FlumePipelineOptions } from '../engine/index.js';

/** Options of `FlumeModule.forFeature`. */
export interface FlumeFeatureOptions {
  /**
   * Pipelines of the workers this feature module owns, as in `forRoot`'s `pipelines`:
   * added to them (names stay unique across the app), run unless `runPipelines`
   * leaves them out, and injectable with `@InjectPipeline(name)` anywhere.
   */
  pipelines: FlumePipelineOptions[];
}
