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
  lockAllocationStates,
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
  selectMemberships,
  selectServicesByReference,
  writeAllocations,
  type LeadOutcome,
  type BatchOutcome,
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

/**
 * What the rounds of one transaction share: the providers, locked once for all of its services
 * (services share providers: a quota or cap taken by one is gone for the next), the clock, and
 * the contacts allocated so far in it (duplicate windows span services).
 */
interface Shared {
  quotas: Map<number, ProviderQuota>;
  /** The counters of the providers' capped periods, read with the transaction's leads. */
  counterKeys: CapCounterKeys;
  names: Map<number, string>;
  made: ContactSeen[];
  /**
   * The clock's reading and the providers' period starts, and what the rounds decided, row by
   * row in the order the leads were decided (pointers aside).
   */
  outcome: Omit<BatchOutcome, 'pointers'>;
  /**
   * The events of every round, in the order the leads were decided: each carries the providers'
   * remaining quota after it, and a client applying them in id order ends on the newest (grouped
   * by service, a batch's last event could hold an older quota than an earlier one).
   */
  events: NewEvent[];
}

/** Everything one service's round holds while it decides its leads. */
interface Round {
  serviceId: number;
  state: LockedAllocationState;
  topology: Topology;
  shared: Shared;
  pointer: number;
  /** Earlier allocations of its leads' contacts within its duplicate window. */
  history: ContactSeen[];
}

/** One allocation request: a stored lead and the service it is for. */
interface Request {
  leadId: string;
  serviceId: number;
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
 * Allocates leads to providers by SPEC §3. Requests waiting on this instance, for any services,
 * are allocated together, in arrival order, under one set of locks and one commit. Correctness
 * across instances rests on the row locks alone; the queue only saves commits and lock waits.
 */
export class AllocationService {
  /**
   * Every service's requests, allocated together: services share providers, and one
   * transaction per service waited for the others' provider locks half of its time
   * (`Lock:transactionid` 30 % of backend samples, bench/: allocation). A lead is in one
   * batch at a time; a second request for it waits for the next, which answers it again.
   */
  private readonly requests = new Batcher<Request, AllocationResult>(
    (requests) => this.allocateBatch(requests),
    { maxBatch: 300, maxConcurrent: 1, conflictKey: (request) => request.leadId },
  );
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
    return this.requests.submit({ leadId, serviceId });
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
    const [lead] = this.withUsage(
      round.shared,
      await lockLeads(tx, [leadId], round.shared.counterKeys),
    );
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
    await this.closeRounds(tx, round.shared, [round]);
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
            round.shared,
            await lockBacklogLeads(tx, serviceId, cursor, BACKLOG_BATCH, round.shared.counterKeys),
          );
          await this.loadHistory(tx, round, leads);
          for (const lead of leads) this.decide(round, lead, 'backlog');
          await this.closeRounds(tx, round.shared, [round]);
          const counts = { allocated: 0, expired: 0 };
          for (const status of round.shared.outcome.leadStatuses) {
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

  private allocateBatch(requests: Request[]): Promise<AllocationResult[]> {
    return withRetry(
      () => transaction(this.pool, (tx) => this.allocateInTransaction(tx, requests)),
      {
        onRetry: (error, attempt) =>
          this.logger.warn({ err: error, attempt, batch: requests.length }, 'allocation retried'),
      },
    );
  }

  /** Step 1–2 for one service: null when it does not exist or is archived. */
  private async openRound(tx: Tx, serviceId: number): Promise<Round | null> {
    return (await this.openRounds(tx, [serviceId])).get(serviceId) ?? null;
  }

  /**
   * Locks the services' states and their providers (steps 1–2) and counts the providers' caps;
   * a round per live service among `serviceIds` (ascending), all sharing the providers.
   */
  private async openRounds(tx: Tx, serviceIds: number[]): Promise<Map<number, Round>> {
    const states = await lockAllocationStates(tx, serviceIds);
    if (states.size === 0) return new Map();
    const memberships = await selectMemberships(tx, [...states.keys()]);
    const memberIds = new Set<number>();
    for (const { staticIds, poolIds } of memberships.values()) {
      for (const id of [...staticIds, ...poolIds]) memberIds.add(id);
    }
    const providers = await lockProviders(tx, [...memberIds]);
    // One clock reading per transaction: every lead of a batch is decided at the same instant.
    const now = this.clock();
    // Every provider's periods, capped or not: its counters are kept from the first
    // allocation, so a cap set later counts the period's allocations before it.
    const starts = new Map<number, Record<CapPeriod, Date>>();
    const capped = new Map<number, Partial<Record<CapPeriod, Date>>>();
    for (const provider of providers) {
      const all = periodStarts(now, provider.timezone);
      starts.set(provider.id, all);
      const periods = CAP_PERIODS.filter((period) => provider.caps[period] !== undefined);
      if (periods.length === 0) continue;
      capped.set(provider.id, Object.fromEntries(periods.map((period) => [period, all[period]])));
    }
    const shared: Shared = {
      // Usage zero until the leads' lock reads the counters (withUsage): one round trip fewer
      // while the providers are locked.
      quotas: new Map(
        providers.map((provider) => [
          provider.id,
          { ...provider, usage: { hour: 0, day: 0, week: 0, month: 0 } },
        ]),
      ),
      counterKeys: counterKeys(capped),
      names: new Map(providers.map((provider) => [provider.id, provider.name])),
      made: [],
      outcome: {
        now,
        periodStarts: starts,
        allocations: [],
        leadStatuses: [],
        contacts: [],
        attempts: [],
      },
      events: [],
    };
    const rounds = new Map<number, Round>();
    for (const [serviceId, state] of states) {
      rounds.set(serviceId, {
        serviceId,
        state,
        topology: { providersPerLead: state.providersPerLead, ...memberships.get(serviceId)! },
        shared,
        pointer: state.pointer,
        history: [],
      });
    }
    return rounds;
  }

  /** The leads, locked, with the providers' cap counters read in the same statement. */
  private withUsage(shared: Shared, locked: LockedLeads): LockedLead[] {
    for (const [id, usage] of usageOf(shared.quotas, locked.counters)) {
      shared.quotas.get(id)!.usage = usage;
    }
    return locked.leads;
  }

  /** The earlier allocations of these leads' contacts within the service's duplicate window. */
  private async loadHistory(tx: Tx, round: Round, leads: LockedLead[]): Promise<void> {
    const dedupe = round.state.dedupe;
    if (!dedupe || leads.length === 0) return;
    const contacts = new Set(leads.flatMap((lead) => contactsOf(lead.fields, dedupe.fields)));
    const since = new Date(round.shared.outcome.now.getTime() - dedupe.days * DAY_MS);
    round.history = await selectContactHistory(tx, [...contacts], since);
  }

  /** Decides one lead by SPEC §3 and §10, carrying quotas, caps and the pointer forward. */
  private decide(round: Round, lead: LockedLead, kind: AttemptKind): AllocationResult {
    const { serviceId, shared } = round;
    const { quotas, outcome } = shared;
    const { now } = outcome;
    const fromBacklog = kind === 'backlog';
    const attempt = (
      status: 'allocated' | 'unallocated' | 'duplicate' | 'expired',
      decisions: BatchOutcome['attempts'][number]['decisions'],
      duplicateOf: string | null = null,
    ): void => {
      outcome.leadStatuses.push({ serviceId, leadId: lead.id, status });
      // A backlog retry that changes nothing is not recorded: a minute's retries of a
      // 10,000-lead backlog would otherwise write 10,000 identical traces.
      if (!fromBacklog || status !== 'unallocated') {
        outcome.attempts.push({
          serviceId,
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
      shared.events.push({
        type: 'lead.unallocated',
        payload: { leadId: lead.id, serviceId, reason: 'expired' },
      });
      return { ok: false, error: 'insufficient_quota', skipped: [] };
    }
    const dedupe = round.state.dedupe;
    const watched = dedupe ? contactsOf(lead.fields, dedupe.fields) : [];
    // Contacts seen before (loaded) and in this transaction (any of its services): the window
    // spans services, and made grows with every lead of a batch, so it is read only when watched.
    const seen =
      watched.length === 0
        ? []
        : [...round.history, ...shared.made].filter(
            (entry) => entry.leadId !== lead.id && watched.includes(entry.contact),
          );
    if (dedupe?.scope === 'service') {
      const original = seen.find((entry) => entry.serviceId === serviceId);
      if (original) {
        attempt('duplicate', [], original.leadId);
        shared.events.push({
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
    const pick = tryProviders(round.topology, quotas, round.pointer, {
      now,
      lead,
      hadContact,
    });
    if (!pick.providers) {
      attempt('unallocated', pick.decisions);
      if (!fromBacklog) {
        shared.events.push({
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
    for (const provider of pick.providers) {
      recordTaken(quotas.get(provider.id)!);
      outcome.allocations.push({
        serviceId,
        leadId: lead.id,
        providerId: provider.id,
        role: provider.role,
      });
    }
    attempt('allocated', pick.decisions);
    const providerIds = pick.providers.map((provider) => provider.id);
    for (const contact of contactsOf(lead.fields)) {
      outcome.contacts.push({ serviceId, contact, leadId: lead.id });
      shared.made.push({ contact, leadId: lead.id, serviceId, providerIds });
    }
    const picked = pick.providers.map((provider) => ({
      id: provider.id,
      name: shared.names.get(provider.id)!,
      role: provider.role,
    }));
    shared.events.push({
      type: 'lead.allocated',
      payload: {
        leadId: lead.id,
        serviceId,
        pointer: round.pointer,
        providers: picked.map((provider) => ({
          ...provider,
          remainingQuota: quotas.get(provider.id)!.remainingQuota,
        })),
        ...(fromBacklog && { fromBacklog: true }),
      },
    });
    return { ok: true, serviceId, providers: picked };
  }

  /** Writes what the rounds decided, in one statement; tells the rest of the server after commit. */
  private async closeRounds(tx: Tx, shared: Shared, rounds: Round[]): Promise<void> {
    const { outcome, events } = shared;
    // Counted from the attempts recorded: a backlog retry that leaves a lead unallocated is none,
    // so the minute's retries of a waiting backlog do not count its leads again (they did, and a
    // backlog of 10,000 added 10,000 `unallocated` a minute to the metric).
    const counts = new Map<number, Map<LeadOutcome, number>>();
    for (const { serviceId, outcome: settled } of outcome.attempts) {
      const own = counts.get(serviceId) ?? new Map<LeadOutcome, number>();
      own.set(settled, (own.get(settled) ?? 0) + 1);
      counts.set(serviceId, own);
    }
    const decided = rounds.filter((round) =>
      outcome.leadStatuses.some((lead) => lead.serviceId === round.serviceId),
    );
    if (decided.length === 0) return;
    const queued = await writeAllocations(
      tx,
      {
        ...outcome,
        pointers: decided.map((round) => ({ serviceId: round.serviceId, pointer: round.pointer })),
      },
      events,
    );
    if (queued > 0) afterCommit(tx, this.deliveriesQueued);
    if (events.length > 0) afterCommit(tx, () => this.committed.announce());
    afterCommit(tx, () => {
      for (const [serviceId, own] of counts) {
        for (const [settled, count] of own) this.settled(serviceId, settled, count);
      }
    });
  }

  /**
   * Allocates the requests of one batch, of any services, in arrival order: a provider's last
   * unit of quota goes to the request that came first, whichever service it was for.
   */
  private async allocateInTransaction(tx: Tx, requests: Request[]): Promise<AllocationResult[]> {
    const serviceIds = [...new Set(requests.map((request) => request.serviceId))].sort(
      (a, b) => a - b,
    );
    const rounds = await this.openRounds(tx, serviceIds);
    const shared = rounds.values().next().value?.shared;
    const locked = shared
      ? this.withUsage(
          shared,
          await lockLeads(
            tx,
            requests.filter((request) => rounds.has(request.serviceId)).map((r) => r.leadId),
            shared.counterKeys,
          ),
        )
      : [];
    const leads = new Map(locked.map((lead) => [lead.id, lead]));
    const results = new Map<string, AllocationResult>();
    const settledEarlier: string[] = [];
    const fresh: { round: Round; lead: LockedLead }[] = [];
    for (const { leadId, serviceId } of requests) {
      const round = rounds.get(serviceId);
      const lead = leads.get(leadId);
      if (!round) results.set(leadId, { ok: false, error: 'service_not_found' });
      else if (!lead) continue;
      else if (lead.status !== 'new' || (lead.serviceId !== null && lead.serviceId !== serviceId)) {
        settledEarlier.push(leadId);
      } else fresh.push({ round, lead });
    }
    for (const round of rounds.values()) {
      await this.loadHistory(
        tx,
        round,
        fresh.filter((entry) => entry.round === round).map((entry) => entry.lead),
      );
    }
    for (const { round, lead } of fresh) {
      results.set(lead.id, this.decide(round, lead, 'request'));
    }
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
    if (shared) await this.closeRounds(tx, shared, [...rounds.values()]);
    return requests.map(
      (request) => results.get(request.leadId) ?? { ok: false, error: 'not_allocated' },
    );
  }
}
