import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type {
  FlumeEngine,
  FlumeEvent,
  FlumeEventType,
  FlumeLogger,
  FlumeOptions,
  ResolvedOptions,
} from '../engine/index.js';
import {
  FLUME_ENGINE,
  FLUME_LOGGER,
  FLUME_MODULE_OPTIONS,
  FLUME_RESOLVED_OPTIONS,
} from '../flume.constants.js';
import { listenerMethods, providerClass } from './event-listeners.js';
import { listenerFailed, listenerNotStatic, listenersWithoutEvents } from './events.messages.js';

type Listener = { where: string; call: (event: FlumeEvent) => unknown };

/**
 * Finds the @OnFlumeEvent methods of the app's providers and calls them with the
 * engine's events, from boot until the pipelines have drained at shutdown.
 */
@Injectable()
export class FlumeEventExplorer implements OnModuleInit, OnApplicationShutdown {
  private readonly byType = new Map<FlumeEventType, Listener[]>();
  private unsubscribe?: () => void;

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(FLUME_LOGGER) private readonly logger: FlumeLogger,
    @Inject(FLUME_MODULE_OPTIONS) private readonly raw: FlumeOptions,
    @Inject(FLUME_RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Optional() @Inject(FLUME_ENGINE) private readonly engine: FlumeEngine | null,
  ) {}

  onModuleInit(): void {
    const found: string[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias) continue;
      const target = providerClass(wrapper) as Function | undefined;
      const methods = listenerMethods(target);
      if (methods.length === 0) continue;
      if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
        this.logger.warn(listenerNotStatic(target!.name));
        continue;
      }
      const instance = wrapper.instance as Record<string | symbol, (e: FlumeEvent) => unknown>;
      for (const { key, types } of methods) {
        const where = `${target!.name}.${String(key)}`;
        found.push(where);
        for (const type of types) {
          const listeners = this.byType.get(type) ?? [];
          listeners.push({ where, call: (event) => instance[key](event) });
          this.byType.set(type, listeners);
        }
      }
    }
    if (found.length === 0 || !this.engine) return;
    if (!this.options.instrument && !this.options.pipelines.some((p) => p.instrument)) {
      this.logger.warn(listenersWithoutEvents(found, this.raw?.instrument === false));
    }
    this.unsubscribe = this.engine.instrumentation.subscribe((event) => this.dispatch(event));
  }

  /** After the pipelines drained (in onModuleDestroy), so no event of a late job is missed. */
  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  private dispatch(event: FlumeEvent): void {
    const listeners = this.byType.get(event.type);
    if (!listeners) return;
    for (const { where, call } of listeners) {
      try {
        const result = call(event);
        if (result instanceof Promise) {
          result.catch((err: unknown) => this.report(where, event.type, err));
        }
      } catch (err) {
        this.report(where, event.type, err);
      }
    }
  }

  private report(where: string, type: string, err: unknown): void {
    this.logger.error(
      listenerFailed(where, type, err),
      err instanceof Error ? err.stack : undefined,
    );
  }
}
