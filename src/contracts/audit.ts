import { z } from 'zod';
import { timestamp } from './common.js';

/**
 * Every kind of audited change (SPEC §11): each configuration write and each manual action
 * writes one row of one of these, in the transaction of the change itself.
 */
export const AUDIT_ACTIONS = [
  'provider.created',
  'provider.updated',
  'provider.archived',
  'service.created',
  'service.updated',
  'service.archived',
  'quota.reset',
  'delivery.retried',
  'delivery.bulk_retried',
  'delivery.test_sent',
  'lead.allocation_requested',
] as const;
export const auditAction = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof auditAction>;

export const auditEntity = z.enum(['provider', 'service', 'delivery', 'lead']);
export type AuditEntity = z.infer<typeof auditEntity>;

/**
 * Who made a change: `admin` (the ADMIN_TOKEN as bearer), `session:<first 8 of its id>` (a
 * dashboard login), `webhook` (the quota-reset webhook), `anonymous` (no ADMIN_TOKEN set).
 */
export const auditActor = z.string();

export const auditEntry = z.object({
  id: z.string().describe('Increasing; also the paging cursor'),
  at: timestamp,
  actor: auditActor,
  action: auditAction,
  entity: auditEntity,
  entityId: z.string().nullable().describe('null for a change to several (a quota reset of all)'),
  before: z.unknown().describe('The state before (secrets masked); null for a creation'),
  after: z.unknown().describe('The state after (secrets masked)'),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export const auditQuery = z
  .object({
    cursor: z
      .string()
      .regex(/^[1-9][0-9]{0,17}$/, 'the nextCursor of a previous page')
      .optional()
      .describe('`nextCursor` of the previous page'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type AuditQuery = z.infer<typeof auditQuery>;

export const auditPage = z.object({
  items: z.array(auditEntry),
  nextCursor: z.string().nullable(),
});
export type AuditPage = z.infer<typeof auditPage>;
