import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  path: string;
  connections: number;
  durationSec: number;
  /** Requests per second over all connections; undefined = as fast as the server answers. */
  rate?: number;
  /** The n-th request's body (unique per request). */
  body(sequence: number): string;
  /** Called for every answer: as it arrives (autocannon) or after the run (wrk, sequence -1). */
  onResponse(status: number, body: string, sequence: number): void;
}

export interface LoadResult {
  requests: number;
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** Anything but the scenario's success status, plus socket errors and timeouts. */
  errors: number;
  statuses: Record<string, number>;
}

/**
 * Drives `spec` with autocannon: keep-alive connections, one request in flight on each, a
 * unique Idempotency-Key per request (the first request of a sender that retries).
 */
export async function drive(
  spec: LoadSpec,
  expectedStatus: number,
  nextSequence: () => number,
  keyPrefix: string,
): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSec,
    timeout: 30,
    ...(spec.rate ? { overallRate: spec.rate } : {}),
    requests: [
      {
        method: 'POST',
        path: spec.path,
        setupRequest: (request, context) => {
          const sequence = nextSequence();
          context.sequence = sequence;
          return {
            ...request,
            headers: {
              'content-type': 'application/json',
              'idempotency-key': `${keyPrefix}-${sequence}`,
            },
            body: spec.body(sequence),
          };
        },
        onResponse: (status, body, context) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          spec.onResponse(status, body, context.sequence as number);
        },
      },
    ],
  });
  const result = await instance;
  const answered = Object.values(statuses).reduce((sum, count) => sum + count, 0);
  return {
    requests: answered,
    requestsPerSec: answered / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    // autocannon counts timeouts among its errors.
    errors: answered - (statuses[expectedStatus] ?? 0) + result.errors,
    statuses,
  };
}
