import pg from 'pg';

/**
 * A libpq connection URL, which may list several hosts
 * (`postgres://user@db1:5432,db2:5432/leadflow?target_session_attrs=read-write`), as a primary
 * with its standbys is addressed. node-postgres understands one host only and no
 * `target_session_attrs`, so the list is split here into one single-host URL per host.
 */
export interface DatabaseUrl {
  /** One URL per listed host, in the listed order, without `target_session_attrs`. */
  targets: string[];
  /** `target_session_attrs=read-write`: only a host that accepts writes will do. */
  readWrite: boolean;
}

const URL_SHAPE = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/;

/** Parses a libpq URL; throws a message fit for a configuration error when it is not one. */
export function parseDatabaseUrl(url: string): DatabaseUrl {
  const match = URL_SHAPE.exec(url);
  if (!match) throw new Error('must be a postgres:// or postgresql:// URL');
  const [, scheme, userInfo, hostList, rest] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  const hosts = hostList.split(',');
  if (hosts.some((host) => host.length === 0)) throw new Error('has an empty host in its list');
  const [pathPart, query = ''] = rest.split(/\?(.*)/s, 2) as [string, string | undefined];
  const params = new URLSearchParams(query);
  const attrs = params.get('target_session_attrs') ?? 'any';
  if (attrs !== 'any' && attrs !== 'read-write') {
    throw new Error('target_session_attrs must be any or read-write');
  }
  params.delete('target_session_attrs');
  const search = params.size > 0 ? `?${params.toString()}` : '';
  const targets = hosts.map((host) => {
    const target = `${scheme}${userInfo === undefined ? '' : `${userInfo}@`}${host}${pathPart}${search}`;
    // Throws on what WHATWG URL refuses (a bad port, spaces …), as single-host URLs always did.
    new URL(target);
    return target;
  });
  return { targets, readWrite: attrs === 'read-write' };
}

/** `host:port/database` of each listed host, for messages (never the password). */
export function describeDatabaseUrl(url: string): string {
  return parseDatabaseUrl(url)
    .targets.map((target) => {
      const parsed = new URL(target);
      return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
    })
    .join(', ');
}

type ConnectCallback = (error: Error | null, client?: pg.Client) => void;

/**
 * What pg.Client / pg.Pool need to reach `url`: a plain connection string for one host, or a
 * Client class that picks, at each connect, the first listed host that answers (and accepts
 * writes, under read-write), the way libpq does. After a failover the pool's next connections
 * land on the new primary; the ones to the old primary fail and are discarded.
 */
export function clientOptions(url: string): {
  connectionString: string;
  Client?: typeof pg.Client;
} {
  const { targets, readWrite } = parseDatabaseUrl(url);
  if (targets.length === 1 && !readWrite) return { connectionString: url };
  return { connectionString: targets[0]!, Client: failoverClient(targets, readWrite) };
}

/** A pg.Client constructor for `url` (see clientOptions). */
export function createClient(url: string, config: pg.ClientConfig = {}): pg.Client {
  const { connectionString, Client = pg.Client } = clientOptions(url);
  return new Client({ ...config, connectionString });
}

function failoverClient(targets: string[], readWrite: boolean): typeof pg.Client {
  return class FailoverClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      const connecting = chooseTarget(targets, readWrite).then((target) => {
        const parsed = new URL(target);
        // The instance fields pg.Client reads when it opens its socket (lib/client.js _connect).
        const self = this as unknown as { host: string; port: number };
        self.host = parsed.hostname;
        self.port = Number(parsed.port || 5432);
        return super.connect();
      });
      if (!callback) return connecting;
      connecting.then(
        (client) => callback(null, client),
        (error: Error) => callback(error),
      );
    }
  };
}

/**
 * The first target that answers and, under read-write, is not in recovery. A probe connection
 * per new pooled connection doubles its setup (~2 ms on loopback); pooled connections live for
 * minutes, so it is not on any request's path while the pool is warm.
 */
async function chooseTarget(targets: string[], readWrite: boolean): Promise<string> {
  if (!readWrite) {
    for (const target of targets.slice(0, -1)) {
      if (await answers(target, false)) return target;
    }
    return targets[targets.length - 1]!;
  }
  for (const target of targets) {
    if (await answers(target, true)) return target;
  }
  const error = new Error(`no listed database host accepts writes (${targets.length} tried)`);
  // SQLSTATE 08001, as libpq reports it: "unable to establish connection", i.e. unavailable.
  Object.assign(error, { code: '08001' });
  throw error;
}

async function answers(target: string, mustWrite: boolean): Promise<boolean> {
  const probe = new pg.Client({ connectionString: target, connectionTimeoutMillis: 2_000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    if (!mustWrite) return true;
    const { rows } = await probe.query<{ transaction_read_only: string }>(
      'SHOW transaction_read_only',
    );
    return rows[0]?.transaction_read_only === 'off';
  } catch {
    return false;
  } finally {
    await probe.end().catch(() => undefined);
  }
}
