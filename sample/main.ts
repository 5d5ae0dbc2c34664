import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { DemoService, type DemoResult } from './demo.service.js';
import { REDIS_URL } from './sample.config.js';
import { chooseStore, describeStore } from './sample-store.js';

/**
 * Boots the sample (no HTTP server: Flume needs none) on Redis when one answers at
 * REDIS_URL, else on Flume's memory store, runs the demo workload and exits when it is
 * done: code 0 when every job ended as expected, 1 otherwise. Ctrl-C stops it
 * cleanly: Nest closes the app and Flume drains its pipelines.
 */
async function main(): Promise<void> {
  const store = await chooseStore(REDIS_URL);
  new Logger('Sample').log(describeStore(store));
  const app = await NestFactory.createApplicationContext(AppModule.register(store), {
    logger: ['log', 'warn', 'error'],
  });
  app.enableShutdownHooks();
  let result: DemoResult = 'failed';
  try {
    result = await app.get(DemoService).run();
  } finally {
    // Interrupted: the shutdown hooks are already closing the app and end the process.
    if (result !== 'interrupted') await app.close();
  }
  process.exitCode = result === 'ok' ? 0 : 1;
}

main().catch((err: Error) => {
  new Logger('Sample').error(err.message);
  process.exitCode = 1;
});
