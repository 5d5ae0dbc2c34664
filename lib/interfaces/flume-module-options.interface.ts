import type {
  InjectionToken,
  ModuleMetadata,
  OptionalFactoryDependency,
  Type,
} from '@nestjs/common';
import type { FlumeOptions } from '../engine/index.js';

/** Options of `FlumeModule.forRoot`: see docs/operations.md, Options, for each option and its default. */
export interface FlumeModuleOptions extends FlumeOptions {}

/** A class that builds the options, for `forRootAsync({ useClass })`. */
export interface FlumeOptionsFactory {
  createFlumeOptions(): FlumeModuleOptions | Promise<FlumeModuleOptions>;
}

/** Options of `FlumeModule.forRootAsync`. */
export interface FlumeModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory?: (...args: any[]) => FlumeModuleOptions | Promise<FlumeModuleOptions>;
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useClass?: Type<FlumeOptionsFactory>;
  useExisting?: Type<FlumeOptionsFactory>;
  /**
   * Names of the pipelines to expose as providers for `@InjectPipeline(name)`. The
   * names must be known before the factory runs; each must be among the pipelines
   * the factory returns, or the app fails to boot.
   */
  pipelines?: string[];
}
