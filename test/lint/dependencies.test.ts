import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';

/** A miniature src/: each file imports what its name says, and only some imports are allowed. */
const FIXTURE: Record<string, string> = {
  'src/app.ts': `import './shop/shop.routes.js';`,
  'src/errors.ts': `export const code = 'conflict';`,
  'src/db/pool.ts': `export const pool = 1;`,
  'src/http/schemas.ts': `export const body = 1;`,
  'src/shop/shop.routes.ts': `import '../http/schemas.js'; import './shop.service.js';`,
  'src/shop/shop.service.ts': `import '../errors.js'; import './shop.sql.js'; import '../http/schemas.js';`,
  'src/shop/shop.sql.ts': `import '../db/pool.js'; import './shop.service.js';`,
  'src/shop/billing.service.ts': `import './shop.routes.js';`,
  'src/db/migrate.ts': `import '../shop/shop.sql.js';`,
  'src/contracts/order.ts': `import { readFileSync } from 'node:fs'; export const read = readFileSync;`,
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

let dir: string;
let violations: Violation[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'leadflow-depcruise-'));
  for (const [file, source] of Object.entries(FIXTURE)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), `${source}\n`);
  }
  await writeFile(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
  );
  const result = spawnSync(
    path.join(projectRoot, 'node_modules/.bin/depcruise'),
    ['src', '--config', path.join(projectRoot, '.dependency-cruiser.cjs'), '--output-type', 'json'],
    { cwd: dir, encoding: 'utf8' },
  );
  expect(result.stderr).toBe('');
  violations = (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary
    .violations;
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the dependency rules in npm run lint', () => {
  it.each([
    ['domain-not-http', 'src/shop/shop.service.ts', 'src/http/schemas.ts'],
    ['sql-not-up', 'src/shop/shop.sql.ts', 'src/shop/shop.service.ts'],
    ['service-not-routes', 'src/shop/billing.service.ts', 'src/shop/shop.routes.ts'],
    ['routes-only-from-app', 'src/shop/billing.service.ts', 'src/shop/shop.routes.ts'],
    ['db-is-the-bottom', 'src/db/migrate.ts', 'src/shop/shop.sql.ts'],
    ['contracts-stand-alone', 'src/contracts/order.ts', 'fs'],
  ])('%s: refuses %s → %s', (rule, from, to) => {
    expect(violations).toContainEqual(
      expect.objectContaining({ from, to, rule: { name: rule, severity: 'error' } }),
    );
  });

  it('no-circular: refuses shop.sql ⇄ shop.service', () => {
    const cycles = violations.filter((violation) => violation.rule.name === 'no-circular');
    expect(cycles.map((cycle) => [cycle.from, cycle.to].sort())).toContainEqual([
      'src/shop/shop.service.ts',
      'src/shop/shop.sql.ts',
    ]);
  });

  it('allows what points the right way', () => {
    const allowed = [
      ['src/app.ts', 'src/shop/shop.routes.ts'],
      ['src/shop/shop.routes.ts', 'src/http/schemas.ts'],
      ['src/shop/shop.routes.ts', 'src/shop/shop.service.ts'],
      ['src/shop/shop.service.ts', 'src/errors.ts'],
      ['src/shop/shop.sql.ts', 'src/db/pool.ts'],
    ];
    for (const [from, to] of allowed) {
      expect(violations.filter((v) => v.from === from && v.to === to)).toEqual([]);
    }
  });
});
