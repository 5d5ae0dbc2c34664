import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FlumeConfigError } from '../../lib/engine/errors/index.js';
import { resolveOptions, type FlumeOptions } from '../../lib/engine/options.js';

/** The error resolveOptions throws for `connection`; fails the test when it does not throw. */
function refusal(connection: unknown): FlumeConfigError {
  try {
    resolveOptions({ connection } as FlumeOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(FlumeConfigError);
    return err as FlumeConfigError;
  }
  throw new Error('the connection was accepted');
}

/** Neither the message nor anything util.inspect prints (cause, input, stack) shows `secret`. */
function expectHidden(err: Error, secret: string): void {
  expect(err.message).not.toContain(secret);
  expect(inspect(err, { depth: 10 })).not.toContain(secret);
  expect(err.cause).toBeUndefined();
}

describe('connection options never echo a secret', () => {
  it('refuses a URL with an unencoded base64 password, says how to fix it, and hides it', () => {
    const secret = 'Ab3/x+Yz=';
    const err = refusal({ url: `redis://:${secret}@127.0.0.1:6379` });
    expect(err.message).toMatch(/^Invalid option "connection\.url": it cannot be parsed as a URL/);
    expect(err.message).toContain('encodeURIComponent');
    expect(err.message).toContain('connection.password');
    expectHidden(err, secret);
    expectHidden(err, 'Ab3');
  });

  it('refuses a URL whose unencoded password pushed text into the path, and hides it', () => {
    const err = refusal({ url: 'redis://user:12/s3cret@127.0.0.1:6379' });
    expect(err.message).toContain('encodeURIComponent');
    expectHidden(err, 's3cret');
  });

  it('refuses a password with a stray "%" (ioredis would fail to decode it), and hides it', () => {
    const err = refusal({ url: 'redis://:50%off@127.0.0.1:6379' });
    expectHidden(err, '50%off');
  });

  it('accepts the same passwords URL-encoded', () => {
    const url = `redis://:${encodeURIComponent('Ab3/x+Yz=')}@127.0.0.1:6379/2`;
    expect(resolveOptions({ connection: { url } }).connection).toEqual({ url });
  });

  it('does not show a connection of the wrong type (a URL in an array, a bare string)', () => {
    for (const connection of [['redis://:pw-in-array@h'], 'redis://:pw-in-string@h']) {
      const err = refusal(connection);
      expect(err.message).toMatch(
        /^Invalid option "connection": expected .*, got: an? (array|string)/,
      );
      expectHidden(err, 'pw-in-');
    }
  });

  it('does not show a tls given as a string (a PEM key)', () => {
    const pem =
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    for (const tls of [pem, [pem]]) {
      const err = refusal({ host: '127.0.0.1', tls });
      expect(err.message).toMatch(
        /^Invalid option "connection\.tls": expected true or TLS options/,
      );
      expectHidden(err, 'MIIEvQ');
    }
  });
});
