import { Module, type DynamicModule } from '@nestjs/common';
import { FlumeConfigError } from '../engine/index.js';
import { describe } from '../engine/payload.js';
import { FlumeModule } from '../flume.module.js';
import type { FlumeTestingModuleOptions } from './testing.interfaces.js';

/**
 * FlumeModule in test mode: the same providers (`FlumeClient`, `FlumeProducer`,
 * `@InjectPipeline` handles, and `FlumeTesting`), the app's `@Worker` classes run the
 * jobs, and no Redis connection is ever opened.
 *
 * Import it in place of `FlumeModule.forRoot(...)`, or swap it in for the app's own
 * import. (Overriding `FLUME_TEST_MODE` is shorter: it keeps the app's module and
 * options.) Nest's `overrideModule` finds a dynamic module by identity, so
 * `overrideModule(FlumeModule)` is ignored: keep the app's `FlumeModule.forRoot(...)`
 * result in an exported constant and override that:
 *
 * ```ts
 * // app.module.ts
 * export const flumeModule = FlumeModule.forRoot({ pipelines: [...] });
 * @Module({ imports: [flumeModule, ...] }) export class AppModule {}
 *
 * // app.spec.ts
 * const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
 *   .overrideModule(flumeModule)
 *   .useModule(FlumeTestingModule.forRoot({ mode: 'fake', pipelines: [...] }))
 *   .compile();
 * ```
 */
@Module({})
export class FlumeTestingModule {
  /**
   * `mode: 'memory'` runs the pipelines on a store in memory, empty at boot;
   * `mode: 'fake'` keeps jobs in memory for `FlumeTesting`; `mode: 'inline'` runs each
   * job as it is enqueued. Other options are those of `FlumeModule.forRoot`: give the
   * same `pipelines` as the app when it injects pipeline handles.
   */
  static forRoot(options: FlumeTestingModuleOptions): DynamicModule {
    const { mode, ...rest } = options ?? ({} as FlumeTestingModuleOptions);
    if (mode !== 'fake' && mode !== 'inline' && mode !== 'memory') {
      throw new FlumeConfigError(
        `FlumeTestingModule.forRoot: expected mode to be 'fake', 'inline' or 'memory', got: ${describe(mode)}`,
      );
    }
    return { ...FlumeModule.forRoot({ ...rest, testing: mode }), module: FlumeTestingModule };
  }
}
