import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The module order the code keeps (DESIGN.md: one-way dependencies). Each pair names a module that must not
 * import from another, because the other depends on it: an import the wrong way makes a cycle, and the next
 * change to either drags the other along.
 */
const FORBIDDEN: [from: string, to: string, why: string][] = [
  ['endpoints', 'deliveries', 'deliveries are made for endpoints (URL rules and signing live in common)'],
  ['config', 'deliveries', 'everything reads the config'],
  ['tenants', 'auth', 'auth resolves tenants; route access declarations live in access'],
  ['portal', 'auth', 'auth checks portal tokens; route access declarations live in access'],
  ['access', 'auth', 'access is what every controller declares, below auth'],
  ['access', 'tenants', 'access is below every feature module'],
  ['access', 'portal', 'access is below every feature module'],
  ['common', 'deliveries', 'common is below every feature module'],
];

const SRC = __dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The top-level module (folder under src/) of each relative import of a file. */
function importedModules(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.[^']+)'/g)].map((m) => relative(SRC, resolve(dirname(file), m[1])).split('/')[0]);
}

describe('module order', () => {
  it.each(FORBIDDEN)('%s does not import %s (%s)', (from, to) => {
    const offenders = sourceFiles(join(SRC, from)).filter((file) => importedModules(file).includes(to));
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });
});
