import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * One direction of a proxied connection: chunks go out in order, each no earlier than
 * the proxy's delay after it arrived (one timer per direction, so order is kept).
 */
class Lane {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private timer?: NodeJS.Timeout;
  private ending = false;

  constructor(private readonly to: Socket) {}

  push(chunk: Buffer, delayMs: number): void {
    if (delayMs <= 0 && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    const last = this.queue[this.queue.length - 1]?.at ?? 0;
    this.queue.push({ at: Math.max(Date.now() + delayMs, last), chunk });
    this.arm();
  }

  /** Ends the far side once what is queued has gone out. */
  end(): void {
    this.ending = true;
    if (this.queue.length === 0) this.to.end();
  }

  /** Drops what is queued (the connection is being torn down). */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private arm(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, this.queue[0].at - Date.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].at <= now) this.write(this.queue.shift()!.chunk);
    if (this.queue.length > 0) this.arm();
    else if (this.ending) this.to.end();
  }

  private write(chunk: Buffer): void {
    if (!this.to.destroyed) this.to.write(chunk);
  }
}

/** A client connection and the proxy's connection to the upstream server for it. */
interface Link {
  client: Socket;
  server: Socket;
  toServer: Lane;
  toClient: Lane;
  /** Bytes were dropped (the stream is corrupt) or the upstream side is gone: reset at heal(). */
  broken: boolean;
  /** The upstream side was closed silently; the client's side stays open, unanswered. */
  halfOpen: boolean;
}

/**
 * A TCP forwarder standing for a failover-aware address (a DNS name or virtual IP):
 * new connections go to the current upstream; connections made before a switch
 * stay on the old server, as they do after a real failover.
 *
 * It can also break the network between the apps and Redis, as the chaos run does:
 * `cut()` resets every connection, `delay(ms)` holds every chunk back, `drop()` loses
 * every byte (a partition), `halfOpen()` closes the Redis side of every connection
 * without telling the app; `heal()` ends the fault and resets the connections it broke.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private delayMs = 0;
  private dropping = false;

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

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.links.size;
  }

  /** Sends new connections to `port` from now on. */
  switchTo(port: number): void {
    this.upstream = port;
  }

  /** Resets every open connection, both sides (the apps see ECONNRESET); resolves to how many. */
  cut(): number {
    const count = this.links.size;
    for (const link of [...this.links]) this.reset(link);
    return count;
  }

  /** Holds every chunk, both ways, `ms` before passing it on, until `heal()`. */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /**
   * Loses every byte, both ways, on open connections and new ones, until `heal()`,
   * which resets them (a stream that lost bytes cannot go on).
   */
  drop(): void {
    this.dropping = true;
  }

  /**
   * Closes the Redis side of every open connection and leaves the app's side open:
   * what the app sends goes nowhere and nothing comes back, with no FIN or RST, as when
   * a peer or a NAT forgets the connection. Until `heal()` resets them. New connections
   * work. Resolves to how many connections were half-opened.
   */
  halfOpen(): number {
    let count = 0;
    for (const link of this.links) {
      if (link.halfOpen) continue;
      link.halfOpen = true;
      link.broken = true;
      link.toServer.clear();
      link.toClient.clear();
      link.server.destroy();
      count++;
    }
    return count;
  }

  /** Ends a delay, a drop or a half-open state; connections that lost bytes are reset. */
  heal(): void {
    this.delayMs = 0;
    this.dropping = false;
    for (const link of [...this.links]) if (link.broken) this.reset(link);
  }

  async close(): Promise<void> {
    for (const link of [...this.links]) this.reset(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket): void {
    const server = connect(this.upstream, '127.0.0.1');
    const link: Link = {
      client,
      server,
      toServer: new Lane(server),
      toClient: new Lane(client),
      broken: false,
      halfOpen: false,
    };
    this.links.add(link);
    // A reset on one side closes the other; errors are part of the scenarios.
    client.on('error', () => undefined);
    server.on('error', () => undefined);
    client.on('data', (chunk: Buffer) => this.pass(link, chunk, link.toServer));
    server.on('data', (chunk: Buffer) =>
      this.pass(link, this.rewrite ? this.rewrite(chunk) : chunk, link.toClient),
    );
    client.on('end', () => link.toServer.end());
    server.on('end', () => {
      if (!link.halfOpen) link.toClient.end();
    });
    client.on('close', () => {
      this.links.delete(link);
      link.toServer.clear();
      server.destroy();
    });
    server.on('close', () => {
      if (link.halfOpen) return;
      link.toClient.clear();
      client.destroy();
    });
  }

  private pass(link: Link, chunk: Buffer, lane: Lane): void {
    if (link.halfOpen) return;
    if (this.dropping) {
      link.broken = true;
      return;
    }
    lane.push(chunk, this.delayMs);
  }

  private reset(link: Link): void {
    this.links.delete(link);
    link.toServer.clear();
    link.toClient.clear();
    link.halfOpen = false;
    link.server.destroy();
    if (!link.client.destroyed) link.client.resetAndDestroy();
  }
}
