import { z } from 'zod';
import { pickedProvider } from './allocation.js';
import { timestamp } from './common.js';
import { EVENT_TYPES, type EventType } from './event-types.js';
import { deliveryState } from './delivery.js';
import { provider, service } from './topology.js';
import { resetProvider } from './webhooks.js';

const change = z.enum(['created', 'updated', 'archived']);

/** A delivery that reached a final state, on its last attempt. */
const deliveryOutcome = z.object({
  deliveryId: z.uuid(),
  leadId: z.uuid(),
  providerId: z.number().int(),
  attempts: z.number().int(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
});

/** What each event says, by type: written once to `events`, sent as the SSE `data:`. */
const eventPayloads = {
  'lead.created': z.object({
    leadId: z.uuid(),
    endpoint: z.string(),
    // `npm run reprocess` wrote lead.created without it before this contract; such rows stay
    // for EVENT_RETENTION_HOURS, and the lead detail answer must still serialise them.
    serviceId: z.number().int().nullable().default(null),
  }),
  'lead.allocated': z.object({
    leadId: z.uuid(),
    serviceId: z.number().int(),
    pointer: z.number().int(),
    providers: z.array(pickedProvider.extend({ remainingQuota: z.number().int() })),
    fromBacklog: z.literal(true).optional().describe('Allocated by a backlog retry (SPEC §10)'),
  }),
  'lead.unallocated': z.object({
    leadId: z.uuid(),
    serviceId: z.number().int(),
    reason: z.string(),
  }),
  'quota.reset': z.object({ eventId: z.string(), providers: z.array(resetProvider) }),
  // The endpoint's health with it: a provider created has none, one whose endpoint was set or
  // removed changes state, and a live dashboard must not show the state from before.
  'provider.updated': z.object({ provider, change, deliveryState }),
  'service.updated': z.object({ service, change }),
  'delivery.succeeded': deliveryOutcome,
  'delivery.rejected': deliveryOutcome,
  'delivery.failed': deliveryOutcome,
  'provider.delivery_paused': z.object({
    providerId: z.number().int(),
    consecutiveFailures: z.number().int(),
  }),
  'provider.delivery_resumed': z.object({ providerId: z.number().int() }),
} satisfies Record<EventType, z.ZodObject>;

export type EventPayload<T extends EventType> = z.infer<(typeof eventPayloads)[T]>;

/** An event as a writer appends it (`appendEvents`). */
export type NewEvent = { [T in EventType]: { type: T; payload: EventPayload<T> } }[EventType];

const stored = <T extends EventType>(type: T) =>
  z.object({
    id: z.number().int(),
    type: z.literal(type),
    payload: eventPayloads[type],
    createdAt: timestamp,
  });

/** An event as stored, with its place in the global sequence. */
export const storedEvent = z.discriminatedUnion('type', [
  stored('lead.created'),
  stored('lead.allocated'),
  stored('lead.unallocated'),
  stored('quota.reset'),
  stored('provider.updated'),
  stored('service.updated'),
  stored('delivery.succeeded'),
  stored('delivery.rejected'),
  stored('delivery.failed'),
  stored('provider.delivery_paused'),
  stored('provider.delivery_resumed'),
]);
export type StoredEvent = z.infer<typeof storedEvent>;

/** An event as the stream delivers it to the dashboard; `at` is when it was committed. */
export type LiveEvent = {
  [T in EventType]: { id: number; type: T; data: EventPayload<T> & { at: string } };
}[EventType];

/** Each frame's `data:`, by the frame's `event:` type. */
export const eventData = z
  .union(Object.values(eventPayloads).map((payload) => payload.extend({ at: timestamp })))
  .describe(`\`event:\` one of ${EVENT_TYPES.join(', ')}; \`data:\` that event's JSON`);

export const eventsQuery = z.object({ lastEventId: z.string().optional() }).strict();
export const eventsHeaders = z.object({ 'last-event-id': z.string().optional() });
