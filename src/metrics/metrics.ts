import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
} from 'prom-client';
import type { Pool } from '../db/pool.js';
import { selectQueueDepths, type QueueDepths } from './metrics.sql.js';

export type LeadOutcome = 'created' | 'duplicate' | 'rejected' | 'failed';
/** A lead's allocation outcome (SPEC §10): allocated, waiting in the backlog, a duplicate, or expired. */
export type AllocationOutcome = 'allocated' | 'unallocated' | 'duplicate' | 'expired';
export type DeliveryAttemptOutcome = 'delivered' | 'rejected' | 'retry' | 'failed';

/** How long a depth read from the database is reused: scrapes of many instances cost one query each this often. */
const DEPTH_CACHE_MS = 5_000;

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

function counter<Label extends string>(
  registry: Registry,
  configuration: CounterConfiguration<Label>,
): Counter<Label> {
  return new Counter({ ...configuration, registers: [registry] });
}

/**
 * The process's Prometheus metrics (SPEC §11), one registry per app (two apps in one test
 * process never share counters). Counters count what this instance did, the Prometheus norm:
 * `sum()` over instances gives the fleet. Depths are the database's, the same on every
 * instance: read at scrape time, cached a few seconds.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly leads: Counter<'outcome'>;
  private readonly allocations: Counter<'service_id' | 'outcome'>;
  private readonly deliveryAttempts: Counter<'provider_id' | 'outcome'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private depths: { at: number; value: Promise<QueueDepths> } | undefined;

  constructor(
    pool: Pool,
    private readonly now: () => number = Date.now,
  ) {
    collectDefaultMetrics({ register: this.registry });
    // Three of prom-client's defaults are gauges named `_total`, which `promtool check metrics`
    // refuses; nodejs_active_handles / _requests / _resources say the same without the suffix.
    for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    this.leads = counter(this.registry, {
      name: 'leadflow_leads_total',
      help: 'Ingest requests stored by this instance, by outcome (created, duplicate, rejected, failed)',
      labelNames: ['outcome'],
    });
    this.allocations = counter(this.registry, {
      name: 'leadflow_allocations_total',
      help: 'Leads this instance allocated (to N providers) or left unallocated, by service',
      labelNames: ['service_id', 'outcome'],
    });
    this.deliveryAttempts = counter(this.registry, {
      name: 'leadflow_delivery_attempts_total',
      help: 'Delivery attempts this instance recorded, by provider and outcome (retry: will be sent again)',
      labelNames: ['provider_id', 'outcome'],
    });
    this.httpDuration = new Histogram({
      name: 'leadflow_http_request_duration_seconds',
      help: 'HTTP request durations by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.readDepths = () => selectQueueDepths(pool);
    const backlog: Gauge = new Gauge({
      name: 'leadflow_backlog_leads',
      help: 'Leads waiting for quota (status unallocated), from the database',
      registers: [this.registry],
      collect: async () => backlog.set((await this.queueDepths()).unallocatedLeads),
    });
    const queue: Gauge = new Gauge({
      name: 'leadflow_delivery_queue_depth',
      help: 'Deliveries not yet final (status pending), from the database',
      registers: [this.registry],
      collect: async () => queue.set((await this.queueDepths()).pendingDeliveries),
    });
  }

  private readonly readDepths: () => Promise<QueueDepths>;

  private queueDepths(): Promise<QueueDepths> {
    const now = this.now();
    if (!this.depths || now - this.depths.at >= DEPTH_CACHE_MS) {
      const value = this.readDepths();
      // A failed read is not kept: the next scrape asks again.
      value.catch(() => (this.depths = undefined));
      this.depths = { at: now, value };
    }
    return this.depths.value;
  }

  leadStored(outcome: LeadOutcome, count = 1): void {
    this.leads.inc({ outcome }, count);
  }

  leadSettled(serviceId: number, outcome: AllocationOutcome, count = 1): void {
    this.allocations.inc({ service_id: String(serviceId), outcome }, count);
  }

  deliveryAttempted(providerId: number, outcome: DeliveryAttemptOutcome): void {
    this.deliveryAttempts.inc({ provider_id: String(providerId), outcome });
  }
}
