/**
 * The receiver's ceiling as the dispatcher can reach it: the dispatcher's own client
 * (`DeliverySender`: one undici Agent, `concurrency` connections, the body read as the
 * dispatcher reads it) in a Node process of its own, `concurrency` sends in flight, the same
 * payload shape, nothing else on its event loop. wrk, a C client, measures what the receiver
 * takes from a client that costs next to nothing per request; no Node process sends that fast,
 * so the drain is judged against both.
 *
 * Usage (forked by bench/delivery.ts): sender-ceiling.ts <url> <concurrency> <warmupSec>
 * <durationSec>; sends { type: 'ceiling', result: LoadResult } over IPC, then exits.
 */
import { randomUUID } from 'node:crypto';
import { DeliverySender } from '../src/delivery/sender.js';
import { deliveryPayload } from '../src/delivery/payload.js';
import { leadFields } from './lead.js';
import type { LoadResult } from './load.js';
import { percentile } from './stats.js';

const [url, concurrencyArg, warmupArg, durationArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const sender = new DeliverySender(concurrency, false);
const endpoint = {
  url: `${url}/ceiling`,
  method: 'POST' as const,
  format: 'json' as const,
  headers: {},
  fields: null,
  timeoutMs: 10_000,
  maxAttempts: 8,
  acceptPattern: null,
  signingSecret: null,
};

async function run(seconds: number): Promise<LoadResult> {
  const until = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let sequence = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const id = randomUUID();
      const fields = leadFields(sequence++, 'ceiling');
      const started = performance.now();
      const result = await sender.send({
        id,
        endpoint,
        payload: deliveryPayload({
          id,
          leadId: id,
          providerId: 1,
          lead: { serviceId: 1, fields: fields as never, extra: {} },
          endpoint,
        }),
      });
      latencies.push(performance.now() - started);
      const key = result.kind === 'response' ? String(result.statusCode) : 'error';
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedSec = (performance.now() - startedAt) / 1000;
  const sorted = new Float64Array(latencies);
  return {
    requests: latencies.length,
    requestsPerSec: latencies.length / elapsedSec,
    latencyP50Ms: percentile(sorted, 50),
    latencyP99Ms: percentile(sorted, 99),
    latencyMaxMs: percentile(sorted, 100),
    errors: latencies.length - (statuses['200'] ?? 0),
    statuses,
  };
}

if (Number(warmupArg) > 0) await run(Number(warmupArg));
const result = await run(Number(durationArg));
await sender.destroy();
process.send!({ type: 'ceiling', result }, () => process.exit(0));
