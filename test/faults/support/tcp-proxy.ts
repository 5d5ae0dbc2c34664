import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder standing for a failover-aware address (a DNS name or virtual IP):
 * new connections go to the current upstream; connections made before a switch
 * stay on the old server, as they do after a real failover.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private upstream: number,
    private readonly rewrite?: (reply: Buffer) => Buffer,
  ) {
    server.on('connection', (client) => this.forward(client));
  }

  /** `rewrite` edits what Redis sends back (same length only: RESP prefixes lengths). */
  static async start(upstreamPort: number, rewrite?: (reply: Buffer) => Buffer): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, upstreamPort, rewrite);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Sends new connections to `port` from now on. */
  switchTo(port: number): void {
    this.upstream = port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket): void {
    const server = connect(this.upstream, '127.0.0.1');
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      // A reset on one side closes the other; errors are part of the scenarios.
      socket.on('error', () => undefined);
    }
    client.pipe(server);
    const rewrite = this.rewrite;
    if (rewrite) server.on('data', (chunk: Buffer) => client.write(rewrite(chunk)));
    else server.pipe(client);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  }
}
