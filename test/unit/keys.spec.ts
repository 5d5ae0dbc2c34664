import { describe, expect, it } from 'vitest';
import { keyNameProblem, keyNameProblemFor, queueKeys } from '../../lib/engine/keys.js';

describe('queueKeys', () => {
  it('spells the documented layout', () => {
    expect(queueKeys('my-app', 'default')).toEqual({
      waiting: 'my-app:queue:{default}',
      processing: 'my-app:queue:{default}:processing',
      leases: 'my-app:queue:{default}:leases',
      recoveries: 'my-app:queue:{default}:recoveries',
      leaseSeq: 'my-app:queue:{default}:lease_seq',
      prioritized: 'my-app:queue:{default}:prioritized',
      prioritySeq: 'my-app:queue:{default}:priority_seq',
      groups: 'my-app:queue:{default}:groups',
      groupLeases: 'my-app:queue:{default}:group_leases',
      groupsPaused: 'my-app:queue:{default}:groups_paused',
      groupPrefix: 'my-app:queue:{default}:group:',
      groupLimitPrefix: 'my-app:queue:{default}:group_limit:',
      scheduled: 'my-app:queue:{default}:scheduled',
      retry: 'my-app:queue:{default}:retry',
      dead: 'my-app:queue:{default}:dead',
      periodic: 'my-app:queue:{default}:periodic',
      periodicPaused: 'my-app:queue:{default}:periodic_paused',
    });
  });

  it('gives every key of a queue the same hash tag, and only one', () => {
    for (const key of Object.values(queueKeys('ns:with:colons', 'emails.high-priority'))) {
      expect(key.match(/\{[^}]*\}/g)).toEqual(['{emails.high-priority}']);
    }
  });

  it('keeps queues and namespaces apart', () => {
    const a = Object.values(queueKeys('ns', 'a'));
    const b = Object.values(queueKeys('ns', 'b'));
    const other = Object.values(queueKeys('ns2', 'a'));
    expect(new Set([...a, ...b, ...other]).size).toBe(a.length * 3);
  });
});

describe('keyNameProblem', () => {
  it('accepts ordinary names', () => {
    for (const name of ['default', 'emails', 'a', 'with:colon', 'dots.and-dashes_1', 'ünïcode']) {
      expect(keyNameProblem(name)).toBeUndefined();
    }
  });

  it('refuses names that would break the hash tag or are not strings', () => {
    expect(keyNameProblem('')).toBe('expected a non-empty string');
    expect(keyNameProblem(undefined)).toBe('expected a non-empty string');
    expect(keyNameProblem(42)).toBe('expected a non-empty string');
    for (const name of ['a{b', 'a}b', '{x}', 'with space', 'tab\there', 'line\nbreak']) {
      expect(keyNameProblem(name)).toBe('it must not contain braces or whitespace');
    }
  });

  it('quotes the value when phrased for a message', () => {
    expect(keyNameProblemFor('a b')).toBe('it must not contain braces or whitespace, got: "a b"');
    expect(keyNameProblemFor(undefined)).toBe('expected a non-empty string, got: undefined');
    expect(keyNameProblemFor('ok')).toBeUndefined();
  });
});
