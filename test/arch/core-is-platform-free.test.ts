import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const core = join(root, 'src/core');
/** Packages the core may import: pure ECMAScript, no platform. */
const ALLOWED_PACKAGES = new Set(['valibot']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports, statically or dynamically. */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/** Why an import is not allowed in the core, or undefined when it is. */
function violation(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    return target.startsWith(core) ? undefined : `reaches outside the core to ${relative(root, target)}`;
  }
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');
  return ALLOWED_PACKAGES.has(name) ? undefined : `imports the package ${specifier}`;
}

function typecheck(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'omnipersona-core-probe-'));
  const config = join(dir, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({ extends: join(root, 'tsconfig.core.json'), include: files, compilerOptions: { noEmit: true } }),
  );
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', config], { encoding: 'utf8' });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}

describe('the core', () => {
  it('imports only core modules and pure packages', () => {
    const problems = sourceFiles(core).flatMap((file) =>
      importsOf(readFileSync(file, 'utf8')).flatMap((specifier) => {
        const problem = violation(file, specifier);
        return problem ? [`${relative(root, file)} ${problem}`] : [];
      }),
    );
    expect(problems).toEqual([]);
  });

  it('would catch an import of the browser, ML or server modules or of a platform package', () => {
    const file = join(core, 'probe.ts');
    const source = [
      "import { openDB } from 'idb';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "import { readFile } from 'node:fs';",
      "import { startDomCapture } from '../browser/dom-capture.js';",
      "const ml = await import('../ml/index.js');",
    ].join('\n');
    expect(importsOf(source).map((specifier) => violation(file, specifier))).toEqual([
      'imports the package idb',
      'imports the package @tensorflow/tfjs-core',
      'imports the package node:fs',
      'reaches outside the core to src/browser/dom-capture.js',
      'reaches outside the core to src/ml/index.js',
    ]);
  });

  it('compiles without DOM or Node types', () => {
    expect(typecheck([join(core, '**/*.ts')])).toBe('');
  });

  it('fails to compile code that uses DOM or Node globals', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnipersona-core-bad-'));
    const probe = join(dir, 'probe.ts');
    writeFileSync(
      probe,
      'export const a = window.location;\nexport const b = process.env;\nexport const c = indexedDB;\n',
    );
    const output = typecheck([probe]);
    expect(output).toContain("Cannot find name 'window'");
    expect(output).toContain("Cannot find name 'process'");
    expect(output).toContain("Cannot find name 'indexedDB'");
  });
});
