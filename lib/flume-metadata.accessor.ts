import { Injectable, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { BatchOptions } from './engine/index.js';
import { FLUME_BATCH_METADATA, FLUME_WORKER_METADATA } from './flume.constants.js';
import type { WorkerMetadata } from './interfaces/worker-options.interface.js';

/** Reads what @Worker wrote. */
@Injectable()
export class FlumeMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getWorkerMetadata(target: Type<unknown> | Function | undefined): WorkerMetadata | undefined {
    if (typeof target !== 'function') return undefined;
    return this.reflector.get<WorkerMetadata | undefined>(FLUME_WORKER_METADATA, target);
  }

  getBatchOptions(target: Function): BatchOptions | undefined {
    return this.reflector.get<BatchOptions | undefined>(FLUME_BATCH_METADATA, target);
  }
}
