/**
 * Drizzle's typed view of the tables that the migrations in /migrations create. The SQL
 * files are the source of truth; this mirrors them for typed queries outside the hot paths.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

export const leadsRaw = pgTable('leads_raw', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  endpoint: text('endpoint').notNull(),
  sender: text('sender').notNull().default(''),
  idempotencyKey: text('idempotency_key'),
  requestId: text('request_id').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  contentType: text('content_type'),
  remoteAddr: text('remote_addr'),
  headers: jsonb('headers').$type<Record<string, string>>().notNull(),
  body: bytea('body').notNull(),
  status: text('status').notNull(),
  error: text('error'),
  leadId: uuid('lead_id'),
});

export const leads = pgTable('leads', {
  id: uuid('id').primaryKey(),
  rawId: bigint('raw_id', { mode: 'number' }).notNull(),
  sender: text('sender').notNull().default(''),
  idempotencyKey: text('idempotency_key'),
  clickId: text('click_id'),
  country: text('country'),
  creo: text('creo'),
  description: text('description'),
  domain: text('domain'),
  email: text('email'),
  firstName: text('first_name'),
  ip: text('ip'),
  lang: text('lang'),
  lastName: text('last_name'),
  marker: text('marker'),
  offer: text('offer'),
  phone: text('phone'),
  sourcetype: text('sourcetype'),
  extra: jsonb('extra').$type<Record<string, unknown>>().notNull(),
  status: text('status').notNull().default('new'),
  serviceId: integer('service_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const providers = pgTable('providers', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  name: text('name').notNull().unique(),
  quota: integer('quota').notNull(),
  remainingQuota: integer('remaining_quota').notNull(),
  active: boolean('active').notNull().default(true),
  updatedAt: timestamp('updated_at', { withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

export const services = pgTable('services', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  providersPerLead: integer('providers_per_lead').notNull().default(3),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const serviceProviders = pgTable(
  'service_providers',
  {
    serviceId: integer('service_id').notNull(),
    providerId: integer('provider_id').notNull(),
    role: text('role').$type<'static' | 'pool'>().notNull(),
    position: integer('position').notNull(),
  },
  (table) => [primaryKey({ columns: [table.serviceId, table.providerId] })],
);

export const allocationState = pgTable('allocation_state', {
  serviceId: integer('service_id').primaryKey(),
  poolPointer: integer('pool_pointer').notNull().default(0),
});

export const allocations = pgTable('allocations', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  leadId: uuid('lead_id').notNull(),
  serviceId: integer('service_id').notNull(),
  providerId: integer('provider_id').notNull(),
  role: text('role').$type<'static' | 'pool'>().notNull(),
  allocatedAt: timestamp('allocated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const webhookEvents = pgTable('webhook_events', {
  eventId: text('event_id').primaryKey(),
  kind: text('kind').notNull(),
  processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
  result: jsonb('result').notNull(),
});
