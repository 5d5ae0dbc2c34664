import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TcpProxy } from '../faults/support/tcp-proxy.js';

// The network faults of the chaos run's proxy, against an echo server: what the client
// and the server each see.

describe('TcpProxy faults', () => {
  let echo: Server;
  let proxy: TcpProxy;
  /** Server-side sockets, to see when the proxy closes the upstream side. */
  const upstream: Socket[] = [];

  beforeEach(async () => {
    echo = createServer((socket) => {
      upstream.push(socket);
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    proxy = await TcpProxy.start((echo.address() as { port: number }).port);
  });

  afterEach(async () => {
    await proxy.close();
    for (const socket of upstream) socket.destroy();
    upstream.length = 0;
    echo.close();
  });

  async function client(): Promise<{
    socket: Socket;
    received: () => string;
    closed: () => boolean;
  }> {
    const socket = connect(proxy.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let data = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('close', () => (closed = true));
    await once(socket, 'connect');
    return { socket, received: () => data, closed: () => closed };
  }

  async function until(test: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 200 && !test(); i++) await sleep(10);
    if (!test()) throw new Error(`timed out waiting for ${what}`);
  }

  it('passes bytes both ways, and in order through a delay', async () => {
    const c = await client();
    c.socket.write('a');
    await until(() => c.received() === 'a', 'the echo');
    proxy.delay(150);
    const sent = Date.now();
    c.socket.write('b');
    c.socket.write('c');
    await until(() => c.received() === 'abc', 'the delayed echo');
    // Held once on the way there and once on the way back.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(290);
    proxy.heal();
    c.socket.destroy();
  });

  it('drops every byte, then resets the connections that lost some', async () => {
    const c = await client();
    proxy.drop();
    c.socket.write('lost');
    await sleep(100);
    expect(c.received()).toBe('');
    expect(c.closed()).toBe(false);
    proxy.heal();
    await until(c.closed, 'the reset');
    const d = await client();
    d.socket.write('ok');
    await until(() => d.received() === 'ok', 'a new connection to work');
    d.socket.destroy();
  });

  it('half-opens: the server side closes, the client side stays open and unanswered until heal', async () => {
    const c = await client();
    c.socket.write('x');
    await until(() => c.received() === 'x', 'the echo');
    expect(proxy.halfOpen()).toBe(1);
    await until(
      () => upstream[0].destroyed || upstream[0].readableEnded,
      'the upstream side to close',
    );
    c.socket.write('y');
    await sleep(100);
    expect(c.received()).toBe('x');
    expect(c.closed()).toBe(false);
    // New connections are not affected.
    const d = await client();
    d.socket.write('z');
    await until(() => d.received() === 'z', 'a new connection to work');
    proxy.heal();
    await until(c.closed, 'the half-open connection to be reset');
    expect(d.closed()).toBe(false);
    d.socket.destroy();
  });

  it('cuts every connection', async () => {
    const [c, d] = [await client(), await client()];
    expect(proxy.cut()).toBe(2);
    await until(() => c.closed() && d.closed(), 'both to close');
  });
});
