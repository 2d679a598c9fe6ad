import type { Logger } from 'pino';
import {
  SLUG_PATTERN,
  type AllocationRow,
  type NewEvent,
  type PickedProvider,
} from '../contracts/index.js';
import { CAP_PERIODS, type CapPeriod, type SkipReason } from '../contracts/rules.js';
import { Batcher } from '../db/batcher.js';
import { afterCommit, transaction, type Pool, type Tx } from '../db/pool.js';
import { withRetry } from '../db/retry.js';
import type { EventsCommitted } from '../events/events-committed.js';
import {
  lockAllocationState,
  lockBacklogLeads,
  lockLeads,
  lockProviders,
  type CapCounterKeys,
  type LockedAllocationState,
  type LockedLead,
  type LockedLeads,
} from '../db/locks.sql.js';
import {
  counterKeys,
  selectAllocationsForLeads,
  selectAttemptsForLead,
  selectContactHistory,
  selectLeadAllocationState,
  selectMembership,
  selectServicesByReference,
  writeAllocations,
  type BatchOutcome,
  type LeadOutcome,
  type ServiceRef,
  usageOf,
} from './allocation.sql.js';
import { isIntegerId } from '../db/ids.js';
import { insertAudit } from '../audit/audit.sql.js';
import { DuplicateLead, InsufficientQuota, ServiceNotFound } from '../errors.js';
import { periodStarts, systemClock, type Clock } from './calendar.js';
import { contactsOf } from './contacts.js';
import {
  recordTaken,
  tryProviders,
  unallocatedReason,
  type ProviderQuota,
  type Topology,
} from './rule.js';

export type AllocationResult =
  | { ok: true; serviceId: number; providers: PickedProvider[] }
  | {
      ok: false;
      error: 'insufficient_quota';
      /** The providers that could not take the lead and why; absent on a repeated answer. */
      skipped?: { providerId: number; reason: SkipReason }[];
    }
  | { ok: false; error: 'duplicate_lead'; duplicateOf: string }
  | { ok: false; error: 'service_not_found' | 'not_allocated' };

/** The 409 a refused allocation answers with (SPEC §4, §10). */
export function refusalOf(leadId: string, result: Exclude<AllocationResult, { ok: true }>): Error {
  // Archived between the sender's look-up and the allocation: the lead stays stored (new).
  if (result.error === 'service_not_found') return new ServiceNotFound();
  return result.error === 'duplicate_lead'
    ? new DuplicateLead(leadId, result.duplicateOf)
    : new InsufficientQuota(
        leadId,
        result.error === 'insufficient_quota' ? result.skipped : undefined,
      );
}

/** How a lead came to this attempt: which statuses it may be in, and how it is reported. */
type AttemptKind = 'request' | 'retry' | 'backlog';

interface ContactSeen {
  contact: string;
  leadId: string;
  serviceId: number;
  providerIds: number[];
}

/** Everything one transaction of a service holds while it decides its leads. */
interface Round {
  serviceId: number;
  state: LockedAllocationState;
  topology: Topology;
  quotas: Map<number, ProviderQuota>;
  /** The counters of the providers' capped periods, read with the round's leads. */
  counterKeys: CapCounterKeys;
  names: Map<number, string>;
  now: Date;
  pointer: number;
  history: ContactSeen[];
  outcome: BatchOutcome;
  events: NewEvent[];
}

function resultFromRows(serviceId: number, rows: AllocationRow[]): AllocationResult {
  return {
    ok: true,
    serviceId,
    providers: rows.map((row) => ({ id: row.providerId, name: row.providerName, role: row.role })),
  };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Leads one backlog transaction takes: long enough to pay for its locks, short enough not to
 * hold the service's state row from live requests for long. */
const BACKLOG_BATCH = 200;

/**
 * Allocates leads to providers by SPEC §3. Each service has its own queue: leads waiting
 * for the same service are allocated together, in arrival order, under one set of locks and
 * one commit, while services that share no provider proceed in parallel. Correctness across
 * instances rests on the row locks alone; the queue only saves commits.
 */
export class AllocationService {
  private readonly batchers = new Map<number, Batcher<string, AllocationResult>>();
  private readonly lookups = new Batcher<number | string, ServiceRef | null>(
    (references) => this.lookUpServices(references),
    { maxBatch: 500, maxConcurrent: 2 },
  );

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly committed: EventsCommitted,
    /** Called after a commit that queued deliveries: this instance's dispatcher sends at once. */
    private readonly deliveriesQueued: () => void = () => {},
    private readonly clock: Clock = systemClock,
    /** Told after each commit how many leads of a service came to each outcome (metrics). */
    private readonly settled: (
      serviceId: number,
      outcome: LeadOutcome,
      count: number,
    ) => void = () => {},
  ) {}

  /**
   * A live service by id or slug. Not cached: a service archived on any instance must answer
   * `service_not_found` from the next request on. Look-ups that arrive while one is in flight
   * go together in the next statement (each one still reads after its request arrived): one
   * query per request was most of the server's round trips to PostgreSQL (bench/: allocation).
   */
  async findService(reference: number | string): Promise<ServiceRef | null> {
    // References no service can have are not worth a query, and some would fail one (an id
    // beyond integer, a NUL in a slug): they name nothing.
    if (typeof reference === 'number' ? !isIntegerId(reference) : !SLUG_PATTERN.test(reference)) {
      return null;
    }
    return this.lookups.submit(reference);
  }

  private async lookUpServices(references: (number | string)[]): Promise<(ServiceRef | null)[]> {
    const ids = references.filter((reference) => typeof reference === 'number');
    const slugs = references.filter((reference) => typeof reference === 'string');
    const found = await selectServicesByReference(this.pool, ids, slugs);
    return references.map(
      (reference) =>
        found.find((service) =>
          typeof reference === 'number' ? service.id === reference : service.slug === reference,
        ) ?? null,
    );
  }

  /** Allocates a stored lead; a lead allocated before gets its first answer again. */
  allocateLead(leadId: string, serviceId: number): Promise<AllocationResult> {
    let batcher = this.batchers.get(serviceId);
    if (!batcher) {
      batcher = new Batcher((leadIds) => this.allocateBatch(serviceId, leadIds), {
        maxBatch: 100,
        maxConcurrent: 1,
      });
      this.batchers.set(serviceId, batcher);
    }
    return batcher.submit(leadId);
  }

  /**
   * The answer for a lead already stored (an idempotent retry), allocating it if still new. A
   * lead first stored without a service (POST /api/lead) is allocated to `serviceId`, the
   * service the retry names: it had no allocation to repeat.
   */
  async answerFor(leadId: string, serviceId?: number): Promise<AllocationResult> {
    const lead = await selectLeadAllocationState(this.pool, leadId);
    const leadServiceId = lead?.serviceId ?? (lead?.status === 'new' ? serviceId : undefined);
    if (!lead || leadServiceId === undefined) return { ok: false, error: 'not_allocated' };
    if (lead.status === 'new') return this.allocateLead(leadId, leadServiceId);
    if (lead.status === 'allocated')
      return resultFromRows(leadServiceId, await selectAllocationsForLeads(this.pool, [leadId]));
    return { ok: false, error: 'insufficient_quota' };
  }

  /**
   * An operator's "try it now" (POST /api/leads/:id/allocate): a new, unallocated or expired
   * lead is allocated to `serviceId` (default: its own service); an allocated one gets its
   * allocation again. Null when the lead does not exist.
   */
  async allocateNow(
    leadId: string,
    serviceId: number | undefined,
    actor: string,
  ): Promise<{ result: AllocationResult; repeated: boolean } | null> {
    return withRetry(() =>
      transaction(this.pool, async (tx) => {
        const current = await selectLeadAllocationState(tx, leadId);
        if (!current) return null;
        const answer = await this.allocateNowIn(tx, leadId, current, serviceId);
        if (!answer) return null;
        // The operator's action, whatever it came to, in the transaction of its effect.
        const after = await selectLeadAllocationState(tx, leadId);
        await insertAudit(tx, {
          actor,
          action: 'lead.allocation_requested',
          entity: 'lead',
          entityId: leadId,
          before: { ...current, requestedServiceId: serviceId ?? null },
          after: {
            ...after,
            outcome: answer.result.ok ? 'allocated' : answer.result.error,
            providers: answer.result.ok ? answer.result.providers.map((p) => p.id) : [],
          },
        });
        return answer;
      }),
    );
  }

  private async allocateNowIn(
    tx: Tx,
    leadId: string,
    current: { status: string; serviceId: number | null },
    serviceId: number | undefined,
  ): Promise<{ result: AllocationResult; repeated: boolean } | null> {
    if (current.status === 'allocated') {
      const rows = await selectAllocationsForLeads(tx, [leadId]);
      return { result: resultFromRows(current.serviceId!, rows), repeated: true };
    }
    const target = serviceId ?? current.serviceId;
    if (target === null) return { result: { ok: false, error: 'not_allocated' }, repeated: false };
    const round = await this.openRound(tx, target);
    if (!round) return { result: { ok: false, error: 'service_not_found' }, repeated: false };
    const [lead] = this.withUsage(round, await lockLeads(tx, [leadId], round.counterKeys));
    if (!lead) return null;
    if (lead.status === 'duplicate') {
      // Final (SPEC §10): the same 409 that named the original when the lead was refused.
      const refused = (await selectAttemptsForLead(tx, leadId)).findLast(
        (attempt) => attempt.outcome === 'duplicate' && attempt.duplicateOf !== null,
      );
      return refused
        ? {
            result: { ok: false, error: 'duplicate_lead', duplicateOf: refused.duplicateOf! },
            repeated: true,
          }
        : { result: { ok: false, error: 'not_allocated' }, repeated: true };
    }
    if (lead.status === 'allocated') {
      const rows = await selectAllocationsForLeads(tx, [leadId]);
      return rows.length > 0
        ? { result: resultFromRows(rows[0]!.serviceId, rows), repeated: true }
        : { result: { ok: false, error: 'not_allocated' }, repeated: true };
    }
    await this.loadHistory(tx, round, [lead]);
    const result = this.decide(round, lead, 'retry');
    await this.closeRound(tx, round);
    return { result, repeated: false };
  }

  /**
   * Retries a service's backlog, oldest first, until every waiting lead was tried once;
   * expires those older than the service's backlogHours. Returns the leads allocated.
   */
  async drainBacklog(
    serviceId: number,
  ): Promise<{ allocated: number; expired: number; tried: number }> {
    const totals = { allocated: 0, expired: 0, tried: 0 };
    let after: { createdAt: Date; id: string } | null = null;
    for (;;) {
      const cursor: { createdAt: Date; id: string } | null = after;
      const batch = await withRetry(() =>
        transaction(this.pool, async (tx) => {
          const round = await this.openRound(tx, serviceId);
          if (!round) return null;
          const leads = this.withUsage(
            round,
            await lockBacklogLeads(tx, serviceId, cursor, BACKLOG_BATCH, round.counterKeys),
          );
          await this.loadHistory(tx, round, leads);
          for (const lead of leads) this.decide(round, lead, 'backlog');
          await this.closeRound(tx, round);
          const counts = { allocated: 0, expired: 0 };
          for (const status of round.outcome.leadStatuses) {
            if (status.status === 'allocated') counts.allocated++;
            if (status.status === 'expired') counts.expired++;
          }
          return { leads, ...counts };
        }),
      );
      if (!batch) return totals;
      totals.tried += batch.leads.length;
      totals.allocated += batch.allocated;
      totals.expired += batch.expired;
      const last = batch.leads[batch.leads.length - 1];
      if (batch.leads.length < BACKLOG_BATCH || !last) return totals;
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  private allocateBatch(serviceId: number, leadIds: string[]): Promise<AllocationResult[]> {
    return withRetry(
      () => transaction(this.pool, (tx) => this.allocateInTransaction(tx, serviceId, leadIds)),
      {
        onRetry: (error, attempt) =>
          this.logger.warn(
            { err: error, attempt, serviceId, batch: leadIds.length },
            'allocation retried',
          ),
      },
    );
  }

  /** Locks the service's state and its providers (steps 1–2) and counts their caps. */
  private async openRound(tx: Tx, serviceId: number): Promise<Round | null> {
    const state = await lockAllocationState(tx, serviceId);
    if (!state) return null;
    const membership = await selectMembership(tx, serviceId);
    const providers = await lockProviders(tx, [...membership.staticIds, ...membership.poolIds]);
    // One clock reading per transaction: every lead of a batch is decided at the same instant.
    const now = this.clock();
    // Every provider's periods, capped or not: its counters are kept from the first
    // allocation, so a cap set later counts the period's allocations before it.
    const allStarts = new Map<number, Record<CapPeriod, Date>>();
    const starts = new Map<number, Partial<Record<CapPeriod, Date>>>();
    for (const provider of providers) {
      const all = periodStarts(now, provider.timezone);
      allStarts.set(provider.id, all);
      const capped = CAP_PERIODS.filter((period) => provider.caps[period] !== undefined);
      if (capped.length === 0) continue;
      starts.set(provider.id, Object.fromEntries(capped.map((period) => [period, all[period]])));
    }
    // Usage zero until the leads' lock reads the counters (withUsage): one round trip fewer
    // while the providers are locked.
    const quotas = new Map<number, ProviderQuota>(
      providers.map((provider) => [
        provider.id,
        { ...provider, usage: { hour: 0, day: 0, week: 0, month: 0 } },
      ]),
    );
    return {
      serviceId,
      state,
      topology: { providersPerLead: state.providersPerLead, ...membership },
      quotas,
      counterKeys: counterKeys(starts),
      names: new Map(providers.map((provider) => [provider.id, provider.name])),
      now,
      pointer: state.pointer,
      history: [],
      outcome: {
        allocations: [],
        leadStatuses: [],
        pointer: state.pointer,
        now,
        periodStarts: allStarts,
        contacts: [],
        attempts: [],
      },
      events: [],
    };
  }

  /** The round's leads, locked, with the providers' cap counters read in the same statement. */
  private withUsage(round: Round, locked: LockedLeads): LockedLead[] {
    for (const [id, usage] of usageOf(round.quotas, locked.counters)) {
      round.quotas.get(id)!.usage = usage;
    }
    return locked.leads;
  }

  /** The earlier allocations of these leads' contacts within the service's duplicate window. */
  private async loadHistory(tx: Tx, round: Round, leads: LockedLead[]): Promise<void> {
    const dedupe = round.state.dedupe;
    if (!dedupe) return;
    const contacts = new Set(leads.flatMap((lead) => contactsOf(lead.fields, dedupe.fields)));
    const since = new Date(round.now.getTime() - dedupe.days * DAY_MS);
    round.history = await selectContactHistory(tx, [...contacts], since);
  }

  /** Decides one lead by SPEC §3 and §10, carrying quotas, caps and the pointer forward. */
  private decide(round: Round, lead: LockedLead, kind: AttemptKind): AllocationResult {
    const { serviceId, outcome, now } = round;
    const fromBacklog = kind === 'backlog';
    const attempt = (
      status: 'allocated' | 'unallocated' | 'duplicate' | 'expired',
      decisions: BatchOutcome['attempts'][number]['decisions'],
      duplicateOf: string | null = null,
    ): void => {
      outcome.leadStatuses.push({ leadId: lead.id, status });
      // A backlog retry that changes nothing is not recorded: a minute's retries of a
      // 10,000-lead backlog would otherwise write 10,000 identical traces.
      if (!fromBacklog || status !== 'unallocated') {
        outcome.attempts.push({
          leadId: lead.id,
          outcome: status,
          fromBacklog,
          duplicateOf,
          decisions,
        });
      }
    };
    if (
      fromBacklog &&
      now.getTime() - lead.createdAt.getTime() > round.state.backlogHours * HOUR_MS
    ) {
      attempt('expired', []);
      round.events.push({
        type: 'lead.unallocated',
        payload: { leadId: lead.id, serviceId, reason: 'expired' },
      });
      return { ok: false, error: 'insufficient_quota', skipped: [] };
    }
    const dedupe = round.state.dedupe;
    const watched = dedupe ? contactsOf(lead.fields, dedupe.fields) : [];
    const seen = round.history.filter(
      (entry) => entry.leadId !== lead.id && watched.includes(entry.contact),
    );
    if (dedupe?.scope === 'service') {
      const original = seen.find((entry) => entry.serviceId === serviceId);
      if (original) {
        attempt('duplicate', [], original.leadId);
        round.events.push({
          type: 'lead.unallocated',
          payload: { leadId: lead.id, serviceId, reason: 'duplicate' },
        });
        return { ok: false, error: 'duplicate_lead', duplicateOf: original.leadId };
      }
    }
    const hadContact =
      dedupe?.scope === 'provider' && seen.length > 0
        ? (providerId: number) => seen.some((entry) => entry.providerIds.includes(providerId))
        : undefined;
    const pick = tryProviders(round.topology, round.quotas, round.pointer, {
      now,
      lead,
      hadContact,
    });
    if (!pick.providers) {
      attempt('unallocated', pick.decisions);
      if (!fromBacklog) {
        round.events.push({
          type: 'lead.unallocated',
          payload: { leadId: lead.id, serviceId, reason: unallocatedReason(pick.decisions) },
        });
      }
      const skipped = pick.decisions
        .filter((decision) => decision.reason !== null)
        .map((decision) => ({ providerId: decision.providerId, reason: decision.reason! }));
      return { ok: false, error: 'insufficient_quota', skipped };
    }
    round.pointer = pick.pointer;
    outcome.pointer = pick.pointer;
    for (const provider of pick.providers) {
      recordTaken(round.quotas.get(provider.id)!);
      outcome.allocations.push({ leadId: lead.id, providerId: provider.id, role: provider.role });
    }
    attempt('allocated', pick.decisions);
    const providerIds = pick.providers.map((provider) => provider.id);
    for (const contact of contactsOf(lead.fields)) {
      outcome.contacts.push({ contact, leadId: lead.id });
      round.history.push({ contact, leadId: lead.id, serviceId, providerIds });
    }
    const picked = pick.providers.map((provider) => ({
      id: provider.id,
      name: round.names.get(provider.id)!,
      role: provider.role,
    }));
    round.events.push({
      type: 'lead.allocated',
      payload: {
        leadId: lead.id,
        serviceId,
        pointer: round.pointer,
        providers: picked.map((provider) => ({
          ...provider,
          remainingQuota: round.quotas.get(provider.id)!.remainingQuota,
        })),
        ...(fromBacklog && { fromBacklog: true }),
      },
    });
    return { ok: true, serviceId, providers: picked };
  }

  private async closeRound(tx: Tx, round: Round): Promise<void> {
    if (round.outcome.leadStatuses.length === 0) return;
    const queued = await writeAllocations(tx, round.serviceId, round.outcome, round.events);
    if (queued > 0) afterCommit(tx, this.deliveriesQueued);
    if (round.events.length > 0) afterCommit(tx, () => this.committed.announce());
    const counts = new Map<LeadOutcome, number>();
    for (const { status } of round.outcome.leadStatuses) {
      counts.set(status, (counts.get(status) ?? 0) + 1);
    }
    afterCommit(tx, () => {
      for (const [outcome, count] of counts) this.settled(round.serviceId, outcome, count);
    });
  }

  private async allocateInTransaction(
    tx: Tx,
    serviceId: number,
    leadIds: string[],
  ): Promise<AllocationResult[]> {
    const round = await this.openRound(tx, serviceId);
    if (!round) return leadIds.map(() => ({ ok: false, error: 'service_not_found' }));
    const locked = this.withUsage(round, await lockLeads(tx, leadIds, round.counterKeys));
    const leads = new Map(locked.map((lead) => [lead.id, lead]));
    const results = new Map<string, AllocationResult>();
    const settledEarlier: string[] = [];
    const fresh: LockedLead[] = [];
    for (const leadId of leadIds) {
      const lead = leads.get(leadId);
      if (!lead || fresh.includes(lead) || settledEarlier.includes(leadId)) continue;
      if (lead.status !== 'new' || (lead.serviceId !== null && lead.serviceId !== serviceId)) {
        settledEarlier.push(leadId);
      } else fresh.push(lead);
    }
    await this.loadHistory(tx, round, fresh);
    for (const lead of fresh) results.set(lead.id, this.decide(round, lead, 'request'));
    if (settledEarlier.length > 0) {
      const rows = await selectAllocationsForLeads(tx, settledEarlier);
      for (const leadId of settledEarlier) {
        const own = rows.filter((row) => row.leadId === leadId);
        results.set(
          leadId,
          own.length > 0
            ? resultFromRows(own[0]!.serviceId, own)
            : leads.get(leadId)!.status === 'new'
              ? { ok: false, error: 'not_allocated' }
              : { ok: false, error: 'insufficient_quota' },
        );
      }
    }
    await this.closeRound(tx, round);
    return leadIds.map((leadId) => results.get(leadId) ?? { ok: false, error: 'not_allocated' });
  }
}
