import type { Logger } from 'pino';
import type { EventType, StoredEvent } from '../contracts/index.js';
import type { Pool } from '../db/pool.js';
import type { EventHub } from '../events/event-hub.js';
import type { AllocationService } from './allocation.service.js';
import { selectBacklogServices } from './allocation.sql.js';

/** Events after which capacity may have appeared (SPEC §10), from any instance. */
const CAPACITY_EVENTS: ReadonlySet<EventType> = new Set<EventType>([
  'quota.reset',
  'provider.updated',
  'service.updated',
  'provider.delivery_resumed',
]);

/**
 * Retries unallocated leads. Every instance runs one: at each minute boundary (where cap
 * periods and schedule windows open, since both are whole minutes) and whenever the event
 * stream says capacity may have appeared. Two instances draining at once never retry one lead
 * twice: each batch holds the service's state row and claims its leads with SKIP LOCKED.
 */
export class BacklogDrainer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly allocation: AllocationService,
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
  ) {}

  start(hub: EventHub): void {
    this.unsubscribe = hub.subscribe({
      deliver: (events: StoredEvent[]) => {
        if (events.some((event) => CAPACITY_EVENTS.has(event.type))) this.kick();
        return true;
      },
      close: () => {},
    });
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  /** Drains now (or once more after the drain under way); resolves when that drain is done. */
  async drain(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    // To the next whole minute of the system clock, where periods and windows begin.
    const wait = this.intervalMs - (Date.now() % this.intervalMs);
    this.timer = setTimeout(() => {
      this.kick();
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    try {
      for (const serviceId of await selectBacklogServices(this.pool)) {
        if (this.stopped) return;
        const drained = await this.allocation.drainBacklog(serviceId);
        if (drained.allocated > 0 || drained.expired > 0) {
          this.logger.info({ serviceId, ...drained }, 'backlog drained');
        }
      }
    } catch (error) {
      // The next minute, or the next event, tries again.
      this.logger.warn({ err: error }, 'backlog drain failed');
    }
  }
}
