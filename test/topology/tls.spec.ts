import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, FlumeConnectionError, type FlumeModuleOptions } from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import { freePort } from '../support/redis-server.js';
import { uniqueNamespace } from '../support/redis.js';
import { FLOW_QUEUE, FlowWorker } from './support/flow.js';
import { EPHEMERAL, Topology } from './support/servers.js';

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

describe('TLS: rediss:// to a redis-server with TLS only', () => {
  const topology = new Topology('tls');
  const apps = new Apps();
  let port: number;
  let ca: Buffer;

  beforeAll(async () => {
    // A throwaway CA, and a certificate for 127.0.0.1 it signed.
    const { group, dir } = topology;
    const subject = (cn: string) => ['-subj', `/CN=${cn}`];
    await group.run('openssl', [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      ...subject('flume-test-ca'),
    ]);
    await group.run('openssl', [
      'req',
      ...EC_KEY,
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      ...subject('localhost'),
    ]);
    writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await group.run('openssl', [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '1',
      '-extfile',
      'san.cnf',
    ]);
    ca = readFileSync(join(dir, 'ca.crt'));
    port = await freePort();
    await group.spawn([
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      'server.crt',
      '--tls-key-file',
      'server.key',
      '--tls-ca-cert-file',
      'ca.crt',
      '--tls-auth-clients',
      'no',
      '--dir',
      dir,
      ...EPHEMERAL,
    ]);
  });

  afterEach(() => apps.closeAll());

  afterAll(async () => {
    await apps.closeAll();
    await topology.stop();
  });

  async function flow(connection: FlumeModuleOptions['connection']): Promise<void> {
    const log = new JobLog();
    const app = await apps.boot(
      {
        connection,
        namespace: uniqueNamespace('tls'),
        pipelines: [{ name: 'flow', queue: FLOW_QUEUE, maxDemand: 5 }],
        backoffInitial: 20,
        backoffMax: 40,
        logger: new CaptureLogger(),
      },
      [{ provide: JobLog, useValue: log }, FlowWorker],
    );
    const client = app.get(FlumeClient);
    await client.enqueue(FLOW_QUEUE, 'flow', ['now']);
    await client.enqueue(FLOW_QUEUE, 'flow', ['retried', true]);
    await client.enqueueIn(FLOW_QUEUE, 100, 'flow', ['later']);
    await log.untilCount(3, 'flow');
    expect(log.performed.map((p) => p.args[0]).sort()).toEqual(['later', 'now', 'retried']);
  }

  it('runs jobs over a rediss:// URL with the CA in `tls`', async () => {
    await flow({ url: `rediss://127.0.0.1:${port}`, tls: { ca } });
  });

  it('runs jobs with host, port and `tls` fields', async () => {
    await flow({ host: '127.0.0.1', port, tls: { ca } });
  });

  it('refuses a server whose certificate it cannot verify, and says why', async () => {
    const logger = new CaptureLogger();
    const app = await apps.boot({
      connection: { url: `rediss://127.0.0.1:${port}` },
      namespace: uniqueNamespace('tls-untrusted'),
      commandTimeout: 500,
      logger,
    });
    const rejection = await app
      .get(FlumeClient)
      .enqueue(FLOW_QUEUE, 'flow', ['x'])
      .catch((err: Error) => err);
    expect(rejection).toBeInstanceOf(FlumeConnectionError);
    expect(logger.find(/certificate/, 'error')).not.toEqual([]);
  });
});
