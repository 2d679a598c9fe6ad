/**
 * Every event type. Apart from the schemas (events.ts) because this is a value the dashboard
 * imports, and a module that builds Zod schemas would pull all of Zod into its bundle.
 */
export const EVENT_TYPES = [
  'lead.created',
  'lead.allocated',
  'lead.unallocated',
  'quota.reset',
  'provider.updated',
  'service.updated',
] as const;

/**
 * Delivery's events (SPEC §9). Stored and streamed like the others, but kept out of
 * EVENT_TYPES and LiveEvent until the dashboard handles them: its reducer switches
 * exhaustively over LiveEvent, and the stream hook subscribes to EVENT_TYPES.
 */
export const DELIVERY_EVENT_TYPES = [
  'delivery.succeeded',
  'delivery.rejected',
  'delivery.failed',
  'provider.delivery_paused',
  'provider.delivery_resumed',
] as const;

/** The types the dashboard's live stream handles. */
export type DashboardEventType = (typeof EVENT_TYPES)[number];
export type EventType = DashboardEventType | (typeof DELIVERY_EVENT_TYPES)[number];
