import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

// Type-checks the TypeScript snippets of the docs against the package's sources, as an
// app that installed it would import them ('nestjs-flume', 'nestjs-flume/<integration>').
//
// Each ```ts block is a module of its own. A snippet that needs context (a class another
// snippet defines, a variable) says so in an HTML comment right before its fence, which
// readers do not see:
//
//   <!-- snippet-context
//   declare const flume: FlumeClient;
//   -->
//
// A fragment (an option, a class member) is checked where the context marks its place
// with /*snippet*/, e.g. `const options: FlumeModuleOptions = { /*snippet*/ };`.
// `<!-- snippet-skip: why -->` leaves a block out (a signature, not code). Names the package and @nestjs/common export, and prom-client's `register`,
// are imported for a snippet that uses them without importing them: snippets show the
// imports only where they teach something.

export const ROOT = resolve(import.meta.dirname, '../..');

export interface Snippet {
  /** Markdown file, relative to the repository. */
  file: string;
  /** Line of the opening fence, 1-based. */
  line: number;
  code: string;
  /** The hidden context before it, if any. */
  context: string;
}

export interface SnippetError {
  where: string;
  message: string;
}

const FENCE = /^(\s*)```(\w*)\s*$/;
/** Where a snippet-context puts the code, when the code is a fragment (an option, a member). */
const SLOT = '/*snippet*/';

/** The ```ts blocks of a markdown file, with their hidden context; skipped blocks left out. */
export function extractSnippets(
  file: string,
  text = readFileSync(resolve(ROOT, file), 'utf8'),
): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  let comment: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]);
    if (!fence) {
      if (lines[i].trimStart().startsWith('<!-- snippet-')) {
        comment = [];
        for (; i < lines.length; i++) {
          comment.push(lines[i]);
          if (lines[i].includes('-->')) break;
        }
      } else if (lines[i].trim() !== '') {
        comment = [];
      }
      continue;
    }
    const [, indent, lang] = fence;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) {
      body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i]);
    }
    const directive = comment.join('\n');
    comment = [];
    if (lang !== 'ts' && lang !== 'typescript') continue;
    if (directive.includes('<!-- snippet-skip')) continue;
    const context = directive.startsWith('<!-- snippet-context')
      ? directive.replace(/^<!-- snippet-context\s*/, '').replace(/-->\s*$/, '')
      : '';
    snippets.push({ file, line: start + 1, code: body.join('\n'), context });
  }
  return snippets;
}

/** Names a module declares or imports at its top level. */
function declaredNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const bind = (name: ts.BindingName | undefined) => {
    if (!name) return;
    if (ts.isIdentifier(name)) names.add(name.text);
    else
      for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings))
        for (const e of bindings.elements) names.add(e.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name);
    } else if (
      (ts.isClassDeclaration(statement) ||
        ts.isFunctionDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/** Type-checks `snippets`; resolves to one entry per error, naming the markdown line. */
export function checkSnippets(snippets: Snippet[]): SnippetError[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    resolve(ROOT, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  )!;
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    baseUrl: ROOT,
    paths: {
      'nestjs-flume': ['lib/index.ts'],
      'nestjs-flume/*': ['lib/integrations/*/index.ts'],
    },
  };
  const autoImports = exportedNames(options);
  const files = new Map<
    string,
    { text: string; snippet: Snippet; offset: number; lines: number }
  >();
  snippets.forEach((snippet, index) => {
    const name = resolve(ROOT, `test/docs/.snippets/${index}.ts`);
    const probe = ts.createSourceFile(
      name,
      `${snippet.context}\n${snippet.code}`,
      ts.ScriptTarget.ES2023,
    );
    const declared = declaredNames(probe);
    const imports = autoImports
      .map(({ from, names }) => {
        const missing = names.filter((n) => {
          const bare = n.replace(/^type /, '');
          return (
            !declared.has(bare) && new RegExp(`\\b${bare}\\b`).test(snippet.code + snippet.context)
          );
        });
        return missing.length ? `import { ${missing.join(', ')} } from '${from}';` : '';
      })
      .filter(Boolean)
      .join(' ');
    // One line of imports and the context around the code: errors map back by line.
    const [before, after = ''] = snippet.context.includes(SLOT)
      ? snippet.context.split(SLOT)
      : [`${snippet.context}\n`];
    const head = `${imports}\n${before}`;
    files.set(name, {
      text: `${head}${snippet.code}\n${after}\nexport {};\n`,
      snippet,
      offset: head.split('\n').length - 1,
      lines: snippet.code.split('\n').length,
    });
  });
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => {
    const virtual = files.get(resolve(name));
    if (virtual) return ts.createSourceFile(name, virtual.text, language);
    return getSourceFile(name, language, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(resolve(name)) || fileExists(name);
  const program = ts.createProgram([...files.keys()], options, host);
  const errors: SnippetError[] = [];
  for (const [name, { snippet, offset, lines }] of files) {
    const source = program.getSourceFile(name)!;
    for (const diagnostic of [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ]) {
      const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const inCode = line - offset;
      const where =
        inCode >= 0 && inCode < lines
          ? `${snippet.file}:${snippet.line + 1 + inCode}`
          : `${snippet.file}:${snippet.line} (its snippet-context)`;
      errors.push({
        where,
        message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      });
    }
  }
  return errors;
}

/** The names imported for snippets that use them without an import. */
function exportedNames(options: ts.CompilerOptions): { from: string; names: string[] }[] {
  const entries: [string, string][] = [
    ['nestjs-flume', 'lib/index.ts'],
    ['nestjs-flume/prometheus', 'lib/integrations/prometheus/index.ts'],
    ['nestjs-flume/otel', 'lib/integrations/otel/index.ts'],
    ['nestjs-flume/terminus', 'lib/integrations/terminus/index.ts'],
  ];
  const program = ts.createProgram(
    entries.map(([, path]) => resolve(ROOT, path)),
    options,
  );
  const checker = program.getTypeChecker();
  const names = entries.map(([from, path]) => {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(resolve(ROOT, path))!)!;
    // A type-only export is imported with `type`, as isolatedModules wants it.
    const name = (s: ts.Symbol) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return target.flags & ts.SymbolFlags.Value ? s.name : `type ${s.name}`;
    };
    return { from, names: checker.getExportsOfModule(symbol).map(name) };
  });
  return [
    ...names,
    {
      from: '@nestjs/common',
      names: [
        'Injectable',
        'Module',
        'Controller',
        'Get',
        'Post',
        'Header',
        'Inject',
        'Logger',
        'Body',
        'Param',
      ],
    },
    { from: '@nestjs/core', names: ['NestFactory'] },
    { from: 'prom-client', names: ['register'] },
  ];
}
