import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file so that `src/` (tsx) and `dist/src/` (built) agree. */
function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + import.meta.url);
    dir = parent;
  }
  return dir;
}

export const projectRoot: string = findProjectRoot();
export const migrationsDir: string = path.join(projectRoot, 'migrations');
export const webDistDir: string = path.join(projectRoot, 'dist', 'web');
