import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { Pool } from '../../src/db/pool.js';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request over node:http (not fetch: its pool keeps idle sockets that make server
 * shutdowns wait). Rejects on connection errors and after `timeoutMs` without an answer.
 */
export function httpRequest(
  url: string,
  {
    method = 'POST',
    headers = {},
    body,
    agent,
    timeoutMs = 15_000,
  }: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: http.Agent | false;
    timeoutMs?: number;
  } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method, headers, agent: agent ?? false, signal: AbortSignal.timeout(timeoutMs) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export interface LeadOutcome {
  key: string;
  /** null: no answer (connection refused or reset, or timed out). */
  status: number | null;
  leadId?: string;
  error?: string;
}

export async function sendLead(
  baseUrl: string,
  key: string,
  agent?: http.Agent,
  extraHeaders: Record<string, string> = {},
): Promise<LeadOutcome> {
  try {
    const answer = await httpRequest(`${baseUrl}/api/lead`, {
      headers: { 'content-type': 'application/json', 'idempotency-key': key, ...extraHeaders },
      body: JSON.stringify({ email: `${key}@example.com`, firstName: 'Load', marker: key }),
      agent,
    });
    let leadId: string | undefined;
    try {
      leadId = (JSON.parse(answer.body) as { lead_id?: string }).lead_id;
    } catch {
      leadId = undefined;
    }
    return { key, status: answer.status, leadId };
  } catch (error) {
    return { key, status: null, error: (error as Error).message };
  }
}

/**
 * `clients` senders, each posting leads with its own fresh Idempotency-Keys back to back
 * until `stop()` says so. Every attempt is recorded in `outcomes` as it ends, answered or not.
 */
export async function runSenders(
  baseUrl: string,
  {
    clients = 16,
    prefix,
    stop,
    maxPerClient = 5000,
    outcomes = [],
  }: {
    clients?: number;
    prefix: string;
    stop: () => boolean;
    maxPerClient?: number;
    outcomes?: LeadOutcome[];
  },
): Promise<LeadOutcome[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        for (let seq = 0; seq < maxPerClient && !stop(); seq++) {
          const outcome = await sendLead(baseUrl, `${prefix}-${client}-${seq}`, agent);
          outcomes.push(outcome);
          // A dead server refuses at once; do not spin on it.
          if (outcome.status === null || outcome.status === 503) await sleep(20);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return outcomes;
}

export const isAcknowledged = (outcome: LeadOutcome): boolean =>
  outcome.status === 201 || outcome.status === 409;

export function tally(outcomes: LeadOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const label = String(outcome.status ?? 'no_answer');
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

/** Every acknowledged lead is in the database under its key, with the id the sender was given. */
export async function expectAcknowledgedStored(pool: Pool, outcomes: LeadOutcome[]): Promise<void> {
  const acknowledged = outcomes.filter(isAcknowledged);
  const { rows } = await pool.query<{ idempotency_key: string; id: string }>(
    `SELECT idempotency_key, id FROM leads WHERE sender = '' AND idempotency_key = ANY($1::text[])`,
    [acknowledged.map((outcome) => outcome.key)],
  );
  const stored = new Map(rows.map((row) => [row.idempotency_key, row.id]));
  const lost = acknowledged.filter((outcome) => stored.get(outcome.key) !== outcome.leadId);
  expect(lost, 'acknowledged leads missing or with another id').toEqual([]);
}

/** Exactly one lead for every key in `keys`, and none twice. */
export async function expectOneLeadPerKey(pool: Pool, keys: string[]): Promise<void> {
  const { rows } = await pool.query<{ idempotency_key: string; leads: number }>(
    `SELECT idempotency_key, count(*)::int AS leads FROM leads
      WHERE sender = '' AND idempotency_key = ANY($1::text[]) GROUP BY idempotency_key`,
    [keys],
  );
  expect(rows.filter((row) => row.leads !== 1)).toEqual([]);
  expect(rows.length).toBe(new Set(keys).size);
}

/** Sends the requests again with the same keys, 16 at a time, as a retrying sender would. */
export async function resend(baseUrl: string, keys: string[]): Promise<LeadOutcome[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const results: LeadOutcome[] = [];
  try {
    for (let index = 0; index < keys.length; index += 16) {
      results.push(
        ...(await Promise.all(
          keys.slice(index, index + 16).map((key) => sendLead(baseUrl, key, agent)),
        )),
      );
    }
  } finally {
    agent.destroy();
  }
  return results;
}
