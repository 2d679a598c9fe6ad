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
  'delivery.succeeded',
  'delivery.rejected',
  'delivery.failed',
  'provider.delivery_paused',
  'provider.delivery_resumed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
