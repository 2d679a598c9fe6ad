/**
 * Every shape of the HTTP API and of its events, declared once. Routes take their request and
 * response schemas from here, the dashboard its types (`z.infer`). No Node imports: the
 * browser bundle imports this module.
 */
export * from './allocation.js';
export * from './audit.js';
export * from './common.js';
export * from './delivery.js';
export * from './demo.js';
export * from './event-types.js';
export * from './events.js';
export * from './ingest.js';
export * from './lead-columns.js';
export * from './leads.js';
export * from './operations.js';
export * from './rules.js';
export * from './reports.js';
export * from './session.js';
export * from './topology.js';
export * from './webhooks.js';
