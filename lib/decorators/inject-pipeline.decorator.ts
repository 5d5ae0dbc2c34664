import { Inject } from '@nestjs/common';
import { getPipelineToken } from '../flume.constants.js';
import { recordPipelineInjection } from './injected-pipelines.js';

/**
 * Injects the `FlumePipeline` handle of the pipeline named `name`. The name must be
 * among `FlumeModule.forRoot`'s pipelines, or listed in `forRootAsync`'s `pipelines`
 * option; otherwise the boot fails with a FlumeConfigError that says so.
 */
export const InjectPipeline =
  (name: string): ParameterDecorator & PropertyDecorator =>
  (target: object, key: string | symbol | undefined, index?: number) => {
    // A constructor parameter's target is the class; a property's is its prototype.
    recordPipelineInjection(name, typeof target === 'function' ? target : target.constructor);
    const inject = Inject(getPipelineToken(name));
    if (index === undefined) inject(target, key!);
    else inject(target, key, index);
  };
