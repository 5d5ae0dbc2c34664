import type { Provider } from '@nestjs/common';
import type { FlumeOptions, FlumeTestMode } from '../engine/index.js';

/**
 * Injection token that turns the app's own FlumeModule into test mode, whatever its
 * options say, with one line in a test and no change to the app:
 *
 * ```ts
 * const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
 *   .overrideProvider(FLUME_TEST_MODE)
 *   .useValue('fake')
 *   .compile();
 * ```
 */
export const FLUME_TEST_MODE = Symbol('FLUME_TEST_MODE');

/** Null (off) until a test overrides it. */
export const testModeProvider: Provider = { provide: FLUME_TEST_MODE, useValue: null };

/** The module's options, with the test mode a test set through FLUME_TEST_MODE. */
export function withTestMode(raw: FlumeOptions, mode: FlumeTestMode | null): FlumeOptions {
  if (mode === null || mode === undefined || raw === null || typeof raw !== 'object') return raw;
  return { ...raw, testing: mode };
}
