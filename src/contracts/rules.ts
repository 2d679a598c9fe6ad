import { z } from 'zod';
import { LEAD_COLUMNS } from './lead-columns.js';

/**
 * The routing rules of SPEC §10: what a provider accepts (time zone, calendar caps, schedule,
 * filters) and how a service treats a repeated contact (dedupe, backlog). Shared by the
 * routes, the allocation rule and the dashboard's editors.
 */

/** An IANA zone the runtime knows; Intl refuses unknown names with a RangeError. */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value.length > 0 && value.length <= 64;
  } catch {
    return false;
  }
}

export const timeZone = z
  .string()
  .trim()
  .refine(isTimeZone, { message: 'an IANA time zone, such as Europe/Riga or UTC' });

export const CAP_PERIODS = ['hour', 'day', 'week', 'month'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];

const capLimit = z.number().int().min(0).max(1_000_000_000);
export const caps = z
  .object({ hour: capLimit, day: capLimit, week: capLimit, month: capLimit })
  .partial()
  .strict();
export type Caps = z.infer<typeof caps>;

/** Allocations counted in the current period of each cap, in the provider's zone. */
export const capUsage = z.object({
  hour: z.number().int(),
  day: z.number().int(),
  week: z.number().int(),
  month: z.number().int(),
});
export type CapUsage = z.infer<typeof capUsage>;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 00:00 to 23:59');

export const scheduleWindow = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7),
    from: clockTime,
    to: clockTime,
  })
  .strict()
  .refine((window) => window.from !== window.to, {
    message: 'from and to must differ (an empty schedule is always open)',
    path: ['to'],
  });
export type ScheduleWindow = z.infer<typeof scheduleWindow>;
export const schedule = z.array(scheduleWindow).max(50);
export type Schedule = z.infer<typeof schedule>;

export const FILTER_OPS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'missing',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

const EXTRA_PATH = /^extra\.[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;
const filterField = z
  .string()
  .refine(
    (field) => (LEAD_COLUMNS as readonly string[]).includes(field) || EXTRA_PATH.test(field),
    { message: `a lead column (${LEAD_COLUMNS.join(', ')}) or extra.<path>` },
  );
const filterScalar = z.union([z.string().max(500), z.number()]);

export const filter = z
  .object({
    field: filterField,
    op: z.enum(FILTER_OPS),
    value: z.union([filterScalar, z.array(filterScalar).max(500)]).optional(),
  })
  .strict()
  .superRefine((rule, context) => {
    const isList = Array.isArray(rule.value);
    const needs =
      rule.op === 'exists' || rule.op === 'missing'
        ? 'none'
        : rule.op === 'in' || rule.op === 'not_in'
          ? 'list'
          : rule.op === 'gt' || rule.op === 'gte' || rule.op === 'lt' || rule.op === 'lte'
            ? 'number'
            : 'scalar';
    const ok =
      needs === 'none'
        ? rule.value === undefined
        : needs === 'list'
          ? isList
          : needs === 'number'
            ? typeof rule.value === 'number' ||
              (typeof rule.value === 'string' &&
                rule.value.trim() !== '' &&
                Number.isFinite(Number(rule.value)))
            : rule.value !== undefined && !isList;
    if (!ok) {
      context.addIssue({
        code: 'custom',
        path: ['value'],
        message:
          needs === 'none'
            ? `${rule.op} takes no value`
            : needs === 'list'
              ? `${rule.op} takes a list`
              : needs === 'number'
                ? `${rule.op} takes a number`
                : `${rule.op} takes one value`,
      });
    }
  });
export type Filter = z.infer<typeof filter>;
export const filters = z.array(filter).max(50);
export type Filters = z.infer<typeof filters>;

export const DEDUPE_FIELDS = ['email', 'phone'] as const;
export const dedupe = z
  .object({
    fields: z.array(z.enum(DEDUPE_FIELDS)).min(1).max(2),
    days: z.number().int().min(1).max(3650),
    scope: z.enum(['service', 'provider']),
  })
  .strict();
export type Dedupe = z.infer<typeof dedupe>;

export const backlogHours = z
  .number()
  .int()
  .min(0)
  .max(24 * 365);

export const SKIP_REASONS = [
  'inactive',
  'no_quota',
  'cap_hour',
  'cap_day',
  'cap_week',
  'cap_month',
  'outside_schedule',
  'filter',
  'duplicate',
  'delivery_paused',
  'not_needed',
] as const;
export const skipReason = z.enum(SKIP_REASONS);
export type SkipReason = z.infer<typeof skipReason>;

/** One provider as one allocation attempt saw it. */
export const decision = z.object({
  providerId: z.number().int(),
  role: z.enum(['static', 'pool']),
  outcome: z.enum(['taken', 'skipped']),
  reason: skipReason.nullable(),
});
export type Decision = z.infer<typeof decision>;

export const attemptOutcome = z.enum(['allocated', 'unallocated', 'duplicate', 'expired']);
export type AttemptOutcome = z.infer<typeof attemptOutcome>;

/** One allocation attempt of a lead, with the trace of every provider it considered. */
export const allocationAttempt = z.object({
  serviceId: z.number().int(),
  attemptedAt: z.iso.datetime({ offset: true }),
  outcome: attemptOutcome,
  fromBacklog: z.boolean(),
  duplicateOf: z.uuid().nullable(),
  decisions: z.array(decision),
});
export type AllocationAttempt = z.infer<typeof allocationAttempt>;

export const skipped = z.array(z.object({ providerId: z.number().int(), reason: skipReason }));

export const allocateLeadBody = z
  .object({ serviceId: z.number().int().positive().max(2_147_483_647).optional() })
  .strict();
