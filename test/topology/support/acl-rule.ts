import { readFileSync } from 'node:fs';

/**
 * The minimal ACL rule of docs/deployment.md, for `namespace` and `password`, as
 * arguments of ACL (SETUSER ...): the docs are what the specs test. With `cluster`,
 * the grants the docs add for a Redis Cluster too.
 */
export function documentedAclRule(namespace: string, password: string, cluster = false): string[] {
  const docs = readFileSync(new URL('../../../docs/deployment.md', import.meta.url), 'utf8');
  const line = docs.split('\n').find((l) => l.startsWith('ACL SETUSER flume '));
  if (!line) throw new Error('docs/deployment.md has no "ACL SETUSER flume" line');
  const rule = line.replace('>CHANGE-ME', `>${password}`).replace('~my-app:*', `~${namespace}:*`);
  const extra = cluster ? /On a Redis Cluster also add `([^`]+)`/.exec(docs)?.[1] : '';
  if (extra === undefined) throw new Error('docs/deployment.md names no grants for a cluster');
  return `${rule} ${extra}`.trim().split(/\s+/).slice(1);
}
