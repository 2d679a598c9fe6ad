import { randomBytes } from 'node:crypto';
import { isIP, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Pool } from '../db/pool.js';
import { DEMO_TOPOLOGY } from '../topology/seed.js';
import { connectDemoBuyer, selectDemoBuyerSecret } from './demo-buyer.sql.js';

const PATH = /^\/api\/demo\/buyer\/[1-9]\d{0,9}$/;
// P4 answers 503 to its 1st, 5th, 9th … request: about one delivery in four is retried, so
// the dashboard shows retries within a few leads (service 3 sends every lead to P4).
const FLAKY_PROVIDER = 4;
const FLAKY_EVERY = 4;

/**
 * The built-in buyer the demo providers deliver to, where test tools are enabled: `npm start`
 * shows deliveries, their attempts and a retry without a buyer of one's own.
 *
 * It lives on this server's own loopback address, which the SSRF guard refuses in production.
 * The guard stays as it is for every URL an operator sets (checked when saved and at every
 * connection); the one exemption is a URL this object built itself — this server's literal
 * address and port, the demo buyer's path — so the exempt send can only reach this route.
 * A literal IP never goes through the guarded DNS lookup, so nothing is resolved either.
 */
export class DemoBuyer {
  /**
   * Signs the demo providers' deliveries: the route answers only Leadflow's own dispatcher.
   * The one an earlier start stored is taken over by `connect`: a retry still pending from
   * before a restart is signed with it, and a fresh secret made every one of them 401 (failed
   * for good).
   */
  private secret = `whsec_${randomBytes(24).toString('base64')}`;
  private verifier = new Webhook(this.secret);
  private origin: string | undefined;
  private readonly requests = new Map<number, number>();

  /** The answer for one request to provider `providerId`'s endpoint: 200, or now and then 503. */
  answers(providerId: number): 200 | 503 {
    const count = (this.requests.get(providerId) ?? 0) + 1;
    this.requests.set(providerId, count);
    return providerId === FLAKY_PROVIDER && count % FLAKY_EVERY === 1 ? 503 : 200;
  }

  /** Until `connect` has run the secret may not be the one deliveries are signed with. */
  get connected(): boolean {
    return this.origin !== undefined;
  }

  /** Whether a delivery is signed with this buyer's secret (throws otherwise). */
  verify(body: Buffer, headers: Record<string, string>): void {
    this.verifier.verify(body, headers);
  }

  /** Whether `url` is this server's demo buyer, as built by `connect` (SSRF guard exemption). */
  owns(url: URL): boolean {
    return (
      this.origin !== undefined &&
      url.origin === this.origin &&
      PATH.test(url.pathname) &&
      url.search === '' &&
      url.username === '' &&
      url.password === ''
    );
  }

  /**
   * Once the server listens (PORT may be 0): points every demo provider without an endpoint
   * of its own at this buyer. Returns the providers connected.
   */
  async connect(pool: Pool, address: AddressInfo, logger: Logger): Promise<number[]> {
    const stored = await selectDemoBuyerSecret(pool);
    if (stored !== null && stored !== this.secret) {
      this.secret = stored;
      this.verifier = new Webhook(stored);
    }
    this.origin = `http://${loopbackFor(address.address)}:${address.port}`;
    const connected = await connectDemoBuyer(
      pool,
      DEMO_TOPOLOGY.providers.map((provider) => provider.id),
      this.origin,
      this.secret,
    );
    if (connected.length > 0) {
      logger.info(
        { providers: connected, buyer: this.origin },
        'demo providers deliver to the demo buyer',
      );
    }
    return connected;
  }
}

/** The literal address to reach a server bound to `address`: a wildcard means loopback. */
function loopbackFor(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return isIP(address) === 6 ? `[${address}]` : address;
}
