/**
 * An independent, deliberately naive model of SPEC §3 and the routing rules of §10, written
 * from the spec's text and not sharing code with src/allocation, so a disagreement means one
 * of the two is wrong. Zone arithmetic is Luxon's, asked differently than the service asks it
 * (local fields compared, not period starts counted from).
 */
import { DateTime } from 'luxon';

export interface ModelRules {
  timezone: string;
  caps: { hour?: number; day?: number; week?: number; month?: number };
  schedule: { days: string[]; from: string; to: string }[];
  filters: { field: string; op: string; value?: string | number | (string | number)[] }[];
}

export interface ModelLead {
  id: string;
  fields: Record<string, string | null>;
  extra: Record<string, unknown>;
}

export type ModelOutcome =
  | { status: 'allocated'; taken: string[] }
  | { status: 'unallocated'; skipped: { providerId: number; reason: string }[] }
  | { status: 'duplicate'; of: string };

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// When clocks go back, the local hour 01:00 happens twice; each is an hour of its own (the offset
// tells them apart), so an hour cap never spans 120 minutes.
function sameHour(a: DateTime, b: DateTime): boolean {
  return sameDay(a, b) && a.hour === b.hour && a.offset === b.offset;
}
function sameDay(a: DateTime, b: DateTime): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day;
}
function sameWeek(a: DateTime, b: DateTime): boolean {
  return a.weekYear === b.weekYear && a.weekNumber === b.weekNumber;
}
function sameMonth(a: DateTime, b: DateTime): boolean {
  return a.year === b.year && a.month === b.month;
}

function minutes(time: string): number {
  const [hours, mins] = time.split(':').map(Number);
  return hours! * 60 + mins!;
}

function modelText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim().toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return `${value}`.toLowerCase();
  return undefined;
}

function modelNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  // Decimal only: the SPEC's "a non-number fails" includes "0x10".
  if (typeof value === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim()))
    return Number(value);
  return undefined;
}

function fieldValue(lead: ModelLead, field: string): unknown {
  if (!field.startsWith('extra.')) return lead.fields[field] ?? undefined;
  let value: unknown = lead.extra;
  for (const key of field.split('.').slice(1)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = Object.prototype.hasOwnProperty.call(value, key)
      ? (value as Record<string, unknown>)[key]
      : undefined;
  }
  return value ?? undefined;
}

function filterMatches(filter: ModelRules['filters'][number], lead: ModelLead): boolean {
  const value = fieldValue(lead, filter.field);
  const values = (Array.isArray(filter.value) ? filter.value : [filter.value]).map(modelText);
  const text = modelText(value);
  const isThere = value !== undefined && !(typeof value === 'string' && value.trim() === '');
  if (filter.op === 'exists') return isThere;
  if (filter.op === 'missing') return !isThere;
  if (filter.op === 'eq' || filter.op === 'in') return text !== undefined && values.includes(text);
  if (filter.op === 'neq' || filter.op === 'not_in')
    return text === undefined || !values.includes(text);
  if (filter.op === 'contains') return text !== undefined && text.includes(values[0]!);
  const left = modelNumber(value);
  const right = modelNumber(filter.value);
  if (left === undefined || right === undefined) return false;
  return filter.op === 'gt'
    ? left > right
    : filter.op === 'gte'
      ? left >= right
      : filter.op === 'lt'
        ? left < right
        : left <= right;
}

/** Contacts as SPEC §10 normalises them. */
export function modelContacts(fields: Record<string, string | null>, which: string[]): string[] {
  const out: string[] = [];
  const email = (fields['email'] ?? '').trim().toLowerCase();
  const phone = (fields['phone'] ?? '').replace(/[^0-9]/g, '');
  if (which.includes('email') && email !== '') out.push(`e:${email}`);
  if (which.includes('phone') && phone !== '') out.push(`p:${phone}`);
  return out;
}
export interface ModelService {
  n: number;
  statics: number[];
  pool: number[];
  p: number;
}

export class ReferenceModel {
  remaining = new Map<number, number>();
  /** Providers switched off; every other provider is active. */
  inactive = new Set<number>();
  services = new Map<number, ModelService>();
  /** SPEC §10 rules per provider; a provider without an entry has none. */
  rules = new Map<number, ModelRules>();
  dedupe = new Map<number, { fields: string[]; days: number; scope: 'service' | 'provider' }>();
  /** Every allocation ever made: what caps count and the duplicate window searches. */
  log: { providerId: number; at: Date; leadId: string; serviceId: number; contacts: string[] }[] =
    [];
  /** Unallocated leads in arrival order. */
  backlog: { serviceId: number; lead: ModelLead }[] = [];

  constructor(
    quotas: Record<number, number>,
    services: Record<number, Omit<ModelService, 'p' | 'n'> & { n?: number }>,
  ) {
    for (const [id, quota] of Object.entries(quotas)) this.remaining.set(Number(id), quota);
    for (const [id, service] of Object.entries(services)) {
      this.services.set(Number(id), {
        n: service.n ?? 3,
        p: 0,
        statics: [...service.statics],
        pool: [...service.pool],
      });
    }
  }

  /** Returns the providers taken as "id:role" strings, or null for insufficient quota. */
  allocate(serviceId: number): string[] | null {
    const outcome = this.allocateLead(serviceId, { id: '', fields: {}, extra: {} }, new Date(0));
    return outcome.status === 'allocated' ? outcome.taken : null;
  }

  /** SPEC §3 with §10's eligibility, the duplicate window and the backlog. */
  allocateLead(serviceId: number, lead: ModelLead, now: Date, fromBacklog = false): ModelOutcome {
    const service = this.services.get(serviceId)!;
    const dedupe = this.dedupe.get(serviceId);
    const watched = dedupe ? modelContacts(lead.fields, dedupe.fields) : [];
    const windowStart = dedupe ? now.getTime() - dedupe.days * 86_400_000 : 0;
    const earlier = this.log.filter(
      (entry) =>
        entry.at.getTime() >= windowStart && entry.contacts.some((c) => watched.includes(c)),
    );
    if (dedupe?.scope === 'service') {
      const first = earlier.find((entry) => entry.serviceId === serviceId);
      if (first) return { status: 'duplicate', of: first.leadId };
    }
    const reasonFor = (id: number): string | null => {
      if (this.inactive.has(id)) return 'inactive';
      if (this.remaining.get(id)! <= 0) return 'no_quota';
      const rules = this.rules.get(id);
      if (rules) {
        const here = DateTime.fromJSDate(now).setZone(rules.timezone);
        const mine = this.log.filter((entry) => entry.providerId === id);
        const count = (same: (a: DateTime, b: DateTime) => boolean): number =>
          mine.filter((entry) => same(DateTime.fromJSDate(entry.at).setZone(rules.timezone), here))
            .length;
        if (rules.caps.hour !== undefined && count(sameHour) >= rules.caps.hour) return 'cap_hour';
        if (rules.caps.day !== undefined && count(sameDay) >= rules.caps.day) return 'cap_day';
        if (rules.caps.week !== undefined && count(sameWeek) >= rules.caps.week) return 'cap_week';
        if (rules.caps.month !== undefined && count(sameMonth) >= rules.caps.month)
          return 'cap_month';
        if (rules.schedule.length > 0) {
          const minute = here.hour * 60 + here.minute;
          const today = DAY_NAMES[here.weekday - 1]!;
          const yesterday = DAY_NAMES[here.minus({ days: 1 }).weekday - 1]!;
          const open = rules.schedule.some((window) => {
            const from = minutes(window.from);
            const to = minutes(window.to);
            if (from < to) return window.days.includes(today) && from <= minute && minute < to;
            if (window.days.includes(today) && minute >= from) return true;
            return window.days.includes(yesterday) && minute < to;
          });
          if (!open) return 'outside_schedule';
        }
        if (!rules.filters.every((filter) => filterMatches(filter, lead))) return 'filter';
      }
      if (dedupe?.scope === 'provider' && earlier.some((entry) => entry.providerId === id))
        return 'duplicate';
      return null;
    };
    const taken: string[] = [];
    const takenIds: number[] = [];
    const skipped: { providerId: number; reason: string }[] = [];
    for (const id of service.statics) {
      if (taken.length === service.n) break;
      const reason = reasonFor(id);
      if (reason === null) {
        taken.push(`${id}:static`);
        takenIds.push(id);
      } else skipped.push({ providerId: id, reason });
    }
    let lastPoolIndex: number | null = null;
    for (let k = 0; k < service.pool.length && taken.length < service.n; k++) {
      const index = (service.p + k) % service.pool.length;
      const id = service.pool[index]!;
      if (takenIds.includes(id)) continue;
      const reason = reasonFor(id);
      if (reason === null) {
        taken.push(`${id}:pool`);
        takenIds.push(id);
        lastPoolIndex = index;
      } else skipped.push({ providerId: id, reason });
    }
    if (taken.length < service.n) {
      if (!fromBacklog) this.backlog.push({ serviceId, lead });
      return { status: 'unallocated', skipped };
    }
    for (const id of takenIds) {
      this.remaining.set(id, this.remaining.get(id)! - 1);
      this.log.push({
        providerId: id,
        at: now,
        leadId: lead.id,
        serviceId,
        contacts: modelContacts(lead.fields, ['email', 'phone']),
      });
    }
    if (lastPoolIndex !== null) service.p = (lastPoolIndex + 1) % service.pool.length;
    return { status: 'allocated', taken };
  }

  /** Retries the backlog: services by id, each oldest first; returns the leads allocated. */
  drainBacklog(now: Date): string[] {
    const allocated: string[] = [];
    const serviceIds = [...new Set(this.backlog.map((entry) => entry.serviceId))].sort(
      (a, b) => a - b,
    );
    for (const serviceId of serviceIds) {
      for (const entry of this.backlog.filter((waiting) => waiting.serviceId === serviceId)) {
        const outcome = this.allocateLead(serviceId, entry.lead, now, true);
        if (outcome.status !== 'unallocated') {
          this.backlog = this.backlog.filter((waiting) => waiting !== entry);
          if (outcome.status === 'allocated') allocated.push(entry.lead.id);
        }
      }
    }
    return allocated;
  }

  /** Allocations to a provider in the current period of its zone (what capUsage reports). */
  capCount(providerId: number, period: 'hour' | 'day' | 'week' | 'month', now: Date): number {
    const zone = this.rules.get(providerId)?.timezone ?? 'UTC';
    const here = DateTime.fromJSDate(now).setZone(zone);
    const same = { hour: sameHour, day: sameDay, week: sameWeek, month: sameMonth }[period];
    return this.log.filter(
      (entry) =>
        entry.providerId === providerId && same(DateTime.fromJSDate(entry.at).setZone(zone), here),
    ).length;
  }

  resetAll(quotas: Record<number, number>): void {
    for (const [id, quota] of Object.entries(quotas)) this.remaining.set(Number(id), quota);
  }
}

export const DEMO_SERVICES = {
  1: { statics: [1], pool: [2, 3, 4] },
  2: { statics: [5], pool: [6, 7, 8] },
  3: { statics: [1, 4], pool: [2, 3, 5, 6, 7, 8] },
};

export const DEMO_QUOTAS = { 1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 10 };
