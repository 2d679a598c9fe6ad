/** Shapes of the Leadflow HTTP API (see /openapi.json), as the UI reads them. */

export type Role = 'static' | 'pool';

export interface Provider {
  id: number;
  name: string;
  quota: number;
  remainingQuota: number;
  active: boolean;
}

export interface Service {
  id: number;
  slug: string;
  name: string;
  providersPerLead: number;
  static: number[];
  pool: number[];
  /** Index into `pool` of the provider the round-robin walk starts from next. */
  pointer: number;
}

export interface ServiceChange {
  service: Service;
  warnings: string[];
}

export type LeadStatus = 'new' | 'allocated' | 'unallocated';

export type RawStatus = 'accepted' | 'duplicate' | 'rejected' | 'failed' | 'reprocessed';

export interface Stats {
  leads: Partial<Record<LeadStatus, number>>;
  leadsToday: number;
  raw: Partial<Record<RawStatus, number>>;
  allocations: number;
  rates: { leadsPerSecond: number; allocationsPerSecond: number; windowSeconds: number };
}

export interface AllocationRow {
  leadId: string;
  serviceId: number;
  providerId: number;
  providerName: string;
  role: Role;
  allocatedAt: string;
}

export interface LeadSummary {
  id: string;
  status: LeadStatus;
  serviceId: number | null;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  country: string | null;
  idempotencyKey: string | null;
  createdAt: string;
}

export interface LeadPage {
  items: LeadSummary[];
  nextCursor: string | null;
}

export interface LeadRecord {
  id: string;
  raw_id: number;
  sender: string;
  idempotency_key: string | null;
  status: LeadStatus;
  service_id: number | null;
  created_at: string;
  extra: Record<string, unknown> | null;
  [column: string]: unknown;
}

export interface RawRequest {
  id: number;
  endpoint: string;
  requestId: string;
  idempotencyKey: string | null;
  receivedAt: string;
  contentType: string | null;
  remoteAddr: string | null;
  headers: Record<string, string>;
  status: RawStatus;
  error: string | null;
  /** The body exactly as received; base64 because it may not be text at all. */
  bodyBase64: string;
  bodyBytes: number;
}

export interface StoredEvent {
  id: number;
  type: EventType;
  payload: Record<string, unknown>;
  createdAt: string;
}

export interface LeadDetail {
  lead: LeadRecord;
  raw: RawRequest | null;
  duplicates: number;
  allocations: AllocationRow[];
  events: StoredEvent[];
}

export interface PickedProvider {
  id: number;
  name: string;
  role: Role;
}

/** `at` is added by the stream to every event's data: when the event was committed. */
export interface LiveEventMap {
  'lead.created': { leadId: string; endpoint: string; serviceId: number | null; at: string };
  'lead.allocated': {
    leadId: string;
    serviceId: number;
    pointer: number;
    providers: (PickedProvider & { remainingQuota: number })[];
    at: string;
  };
  'lead.unallocated': { leadId: string; serviceId: number; reason: string; at: string };
  'quota.reset': {
    eventId: string;
    providers: { id: number; name: string; quota: number; remainingQuota: number }[];
    at: string;
  };
  'provider.updated': { provider: Provider; change: 'created' | 'updated'; at: string };
  'service.updated': { service: Service; change: 'created' | 'updated'; at: string };
}

export type EventType = keyof LiveEventMap;

export const EVENT_TYPES: readonly EventType[] = [
  'lead.created',
  'lead.allocated',
  'lead.unallocated',
  'quota.reset',
  'provider.updated',
  'service.updated',
];

export type LiveEvent = {
  [K in EventType]: { id: number; type: K; data: LiveEventMap[K] };
}[EventType];

/** Validation failures of the configuration API. */
export interface FieldError {
  path: string;
  message: string;
}

/** What this server lets the dashboard show (`GET /api/config/ui`). */
export interface UiConfig {
  testTools: boolean;
  /** ADMIN_TOKEN is set: the pages need a signed-in session. */
  auth: boolean;
  authenticated: boolean;
}
