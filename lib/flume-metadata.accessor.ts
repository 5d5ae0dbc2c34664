import { Injectable, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { BatchOptions } from './engine/index.js';
import {
  FLUME_BATCH_METADATA,
  FLUME_HANDLER_METADATA,
  FLUME_PERIODIC_METADATA,
  FLUME_WORKER_METADATA,
} from './flume.constants.js';
import type { PeriodicMetadata } from './decorators/periodic.decorator.js';
import type { WorkerMetadata } from './interfaces/worker-options.interface.js';

/** Reads what @Worker, @Handler and @Batch wrote. */
@Injectable()
export class FlumeMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getWorkerMetadata(target: Type<unknown> | Function | undefined): WorkerMetadata | undefined {
    if (typeof target !== 'function') return undefined;
    return this.reflector.get<WorkerMetadata | undefined>(FLUME_WORKER_METADATA, target);
  }

  /** The @Periodic schedules declared on worker class `target`, in declaration order. */
  getPeriodic(target: Function): PeriodicMetadata[] {
    return (Reflect.getOwnMetadata(FLUME_PERIODIC_METADATA, target) as PeriodicMetadata[]) ?? [];
  }

  getBatchOptions(target: Function): BatchOptions | undefined {
    return this.reflector.get<BatchOptions | undefined>(FLUME_BATCH_METADATA, target);
  }

  /**
   * The methods a job may call on worker class `target`: its default `method` and the
   * methods marked @Handler(), own or inherited. An override without @Handler() is no
   * handler, even when the method it overrides was one.
   */
  getHandlers(target: Function, method: string): Set<string> {
    const handlers = new Set([method]);
    const seen = new Set<string>();
    let proto: object | null = target.prototype as object | null;
    for (; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (seen.has(name)) continue;
        seen.add(name);
        // The descriptor, not proto[name]: reading a getter would run user code.
        const { value } = Object.getOwnPropertyDescriptor(proto, name)!;
        if (typeof value === 'function' && this.reflector.get(FLUME_HANDLER_METADATA, value)) {
          handlers.add(name);
        }
      }
    }
    return handlers;
  }
}
