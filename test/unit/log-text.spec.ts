import { describe, expect, it } from 'vitest';
import { escapeControl, escapeStack } from '../../lib/engine/log-text.js';
import { escapingLogger } from '../../lib/engine/logger.js';

const FAKE_LINE = '[Nest] 4242  - 01/01/2026, 10:00:00 AM     LOG [Auth] admin login OK';

describe('escapeControl', () => {
  it('writes line breaks out as two characters, so text stays on one line', () => {
    expect(escapeControl(`mailer\n${FAKE_LINE}`)).toBe(`mailer\\n${FAKE_LINE}`);
    expect(escapeControl('a\r\nb\tc')).toBe('a\\r\\nb\\tc');
  });

  it('escapes every C0 control, DEL, every C1 control and U+2028/U+2029', () => {
    expect(escapeControl('\u0000\u0007\u001b[31m\u001f')).toBe('\\x00\\x07\\x1b[31m\\x1f');
    expect(escapeControl('\u007f\u0080\u0085\u009b\u009f')).toBe('\\x7f\\x80\\x85\\x9b\\x9f');
    expect(escapeControl('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
    const everyChar = Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code));
    expect(escapeControl(everyChar.join(''))).not.toMatch(
      /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/,
    );
  });

  it('leaves printable text alone, accents, emoji and backslashes included', () => {
    const text = 'Job j-1 (Mailer) failed: délai dépassé 🚀 C:\\tmp "quoted" \u00a0nbsp';
    expect(escapeControl(text)).toBe(text);
  });
});

describe('escapeStack', () => {
  it('keeps the frames on their own lines', () => {
    const stack = 'Error: boom\n    at settle (acker.js:1:1)\n    at run (job-runner.js:2:2)';
    expect(escapeStack(stack)).toBe(stack);
  });

  it("escapes line breaks in the message, even one followed by text that mimics a frame's", () => {
    const stack = `Error: bad\n${FAKE_LINE}\n    at fake\nx\n    at real (a.js:1:1)`;
    const escaped = escapeStack(stack);
    expect(escaped).toBe(`Error: bad\\n${FAKE_LINE}\n    at fake\\nx\n    at real (a.js:1:1)`);
    for (const line of escaped.split('\n').slice(1)) expect(line).toMatch(/^\s+at /);
  });
});

describe('escapingLogger', () => {
  it('escapes every message and the stack, and keeps the optional debug optional', () => {
    const seen: unknown[][] = [];
    const logger = escapingLogger({
      log: (...args: unknown[]) => seen.push(['log', ...args]),
      warn: (...args: unknown[]) => seen.push(['warn', ...args]),
      error: (...args: unknown[]) => seen.push(['error', ...args]),
    });
    expect(logger.debug).toBeUndefined();
    logger.log('a\nb');
    logger.warn('c\u2028d');
    logger.error('e\rf');
    logger.error('g\nh', 'Error: g\nh\n    at x (y.js:1:1)');
    expect(seen).toEqual([
      ['log', 'a\\nb'],
      ['warn', 'c\\u2028d'],
      // No stack given, none passed on: Nest's Logger prints an "undefined" line otherwise.
      ['error', 'e\\rf'],
      ['error', 'g\\nh', 'Error: g\\nh\n    at x (y.js:1:1)'],
    ]);
  });

  it('calls the user logger as a method (a class instance keeps its `this`)', () => {
    class Prefixed {
      readonly lines: string[] = [];
      log(message: string) {
        this.lines.push(message);
      }
      warn(message: string) {
        this.lines.push(message);
      }
      error(message: string) {
        this.lines.push(message);
      }
      debug(message: string) {
        this.lines.push(`debug ${message}`);
      }
    }
    const target = new Prefixed();
    const logger = escapingLogger(target);
    logger.log('x\ny');
    logger.debug?.('z\u0000');
    expect(target.lines).toEqual(['x\\ny', 'debug z\\x00']);
  });
});
