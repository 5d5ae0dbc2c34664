import type { ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { FlumeEvent, FlumeEventType, FlumeOptions } from '../engine/index.js';
import { FLUME_EVENT_LISTENER_METADATA } from './events.constants.js';

/** An engine event of one type, as an @OnFlumeEvent listener receives it. */
export type FlumeEventOf<T extends FlumeEventType> = Extract<FlumeEvent, { type: T }>;

/** A method of a class marked @OnFlumeEvent, and the types it listens to. */
export interface ListenerMethod {
  key: string | symbol;
  types: readonly FlumeEventType[];
}

/**
 * The @OnFlumeEvent methods of class `target`, own or inherited; an override without
 * the decorator hides the one it overrides. Descriptors are read, never getters.
 */
export function listenerMethods(target: unknown): ListenerMethod[] {
  if (typeof target !== 'function') return [];
  const found: ListenerMethod[] = [];
  const seen = new Set<string | symbol>();
  let proto: object | null = target.prototype as object | null;
  for (; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Reflect.ownKeys(proto)) {
      if (seen.has(key)) continue;
      seen.add(key);
      const { value } = Object.getOwnPropertyDescriptor(proto, key)!;
      if (typeof value !== 'function') continue;
      const types = Reflect.getMetadata(FLUME_EVENT_LISTENER_METADATA, value) as
        FlumeEventType[] | undefined;
      if (types?.length) found.push({ key, types });
    }
  }
  return found;
}

/** The class of a provider, when known: the instance's for value and factory providers. */
export function providerClass(wrapper: InstanceWrapper): unknown {
  const { instance, metatype } = wrapper;
  return !metatype || wrapper.inject ? instance?.constructor : metatype;
}

/**
 * Whether the app has an @OnFlumeEvent listener, read from the classes of its
 * providers before any is built (the engine decides at construction which pipelines
 * publish events). A factory provider's class is not known yet: the explorer warns
 * about one later.
 */
export function hasEventListeners(modules: ModulesContainer): boolean {
  for (const moduleRef of modules.values()) {
    for (const wrapper of moduleRef.providers.values()) {
      if (wrapper.isAlias) continue;
      if (listenerMethods(providerClass(wrapper)).length > 0) return true;
    }
  }
  return false;
}

/**
 * The options with instrumentation on when the app has a listener and the user did not
 * decide: `instrument: false`, module-wide or per pipeline, still wins.
 */
export function withEventListeners(raw: FlumeOptions, modules: ModulesContainer): FlumeOptions {
  if (raw === null || typeof raw !== 'object' || raw.instrument !== undefined) return raw;
  return hasEventListeners(modules) ? { ...raw, instrument: true } : raw;
}
