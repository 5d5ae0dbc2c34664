import type { DynamicModule, INestApplicationContext, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FlumeModule, type FlumeModuleOptions } from '../../lib/index.js';

type Import = Type<unknown> | DynamicModule;

/**
 * Boots Nest apps for a spec and closes every one of them at the end, even when a
 * test failed half-way: call `closeAll()` in afterEach/afterAll.
 */
export class Apps {
  private readonly open = new Set<INestApplicationContext>();

  /** Compiles and inits a testing module that imports FlumeModule.forRoot(options). */
  boot(
    options: FlumeModuleOptions,
    providers: Provider[] = [],
    imports: Import[] = [],
  ): Promise<INestApplicationContext> {
    return this.bootModule([FlumeModule.forRoot(options), ...imports], providers);
  }

  /** Compiles and inits a testing module from the given imports and providers. */
  async bootModule(
    imports: Import[],
    providers: Provider[] = [],
  ): Promise<INestApplicationContext> {
    const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
    this.open.add(moduleRef);
    await moduleRef.init();
    return moduleRef;
  }

  /** The apps still open. */
  get all(): INestApplicationContext[] {
    return [...this.open];
  }

  /** Closes one app (idempotent here too). */
  async close(app: INestApplicationContext): Promise<void> {
    this.open.delete(app);
    await app.close();
  }

  async closeAll(): Promise<void> {
    const apps = [...this.open];
    this.open.clear();
    await Promise.allSettled(apps.map((app) => app.close()));
  }
}
