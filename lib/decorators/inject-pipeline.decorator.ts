import { Inject } from '@nestjs/common';
import { getPipelineToken } from '../flume.constants.js';

/** Injects the `FlumePipeline` handle of the pipeline named `name`. */
export const InjectPipeline = (name: string): ParameterDecorator & PropertyDecorator =>
  Inject(getPipelineToken(name));
