import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { DemoService, type DemoResult } from './demo.service.js';
import { PORT, REDIS_URL } from './sample.config.js';
import { chooseStore, describeStore } from './sample-store.js';

/**
 * Boots the sample as an HTTP app that serves the Flume dashboard, on Redis when one
 * answers at REDIS_URL, else on Flume's memory store; runs the demo workload and prints
 * a summary. The dashboard then stays up until Ctrl-C (Nest closes the app and Flume
 * drains its pipelines); with `--exit` (`npm start -- --exit`) the sample exits once the
 * demo is done. Exit code 0 when every job ended as expected.
 */
async function main(): Promise<void> {
  const store = await chooseStore(REDIS_URL);
  const logger = new Logger('Sample');
  logger.log(describeStore(store));
  const app = await NestFactory.create(AppModule.register(store), {
    logger: ['log', 'warn', 'error'],
  });
  app.enableShutdownHooks();
  await app.listen(PORT, '127.0.0.1');
  logger.log(`Dashboard: http://127.0.0.1:${PORT}/flume`);
  let result: DemoResult;
  try {
    result = await app.get(DemoService).run();
  } catch (err) {
    await app.close();
    throw err;
  }
  process.exitCode = result === 'ok' ? 0 : 1;
  // Interrupted: the shutdown hooks are already closing the app and end the process.
  if (result === 'interrupted') return;
  if (process.argv.includes('--exit')) await app.close();
  else logger.log(`The dashboard stays up at http://127.0.0.1:${PORT}/flume: Ctrl-C to stop.`);
}

main().catch((err: Error) => {
  new Logger('Sample').error(err.message);
  process.exitCode = 1;
});
