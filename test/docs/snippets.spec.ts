import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSnippets, extractSnippets, ROOT } from './snippets.js';

const FILES = [
  'README.md',
  ...readdirSync(`${ROOT}/docs`)
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

describe('the TypeScript snippets of README.md and docs/', () => {
  const snippets = FILES.flatMap((file) => extractSnippets(file));

  it('are found', () => {
    expect(snippets.length).toBeGreaterThan(20);
  });

  it('are checked: an error is reported at its markdown line, hidden context and skips apply', () => {
    const markdown = [
      '<!-- snippet-context',
      'declare const flume: FlumeClient;',
      '-->',
      '```ts',
      "await flume.enqueue('q', 'Worker', []);",
      "await flume.enqueu('q', 'Worker', []);",
      '```',
      '<!-- snippet-skip: not code -->',
      '```ts',
      'this is not TypeScript',
      '```',
    ].join('\n');
    const errors = checkSnippets(extractSnippets('example.md', markdown));
    expect(errors).toEqual([
      {
        where: 'example.md:6',
        message: expect.stringMatching(/Property 'enqueu' does not exist.*Did you mean 'enqueue'/),
      },
    ]);
  }, 120_000);

  it('type-check against the package', () => {
    const errors = checkSnippets(snippets).map(({ where, message }) => `${where}: ${message}`);
    expect(errors).toEqual([]);
  }, 120_000);
});
