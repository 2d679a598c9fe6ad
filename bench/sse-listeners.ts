/**
 * The SSE listeners, in their own process so that parsing 1000 streams never delays the
 * load generator's clock. Protocol over IPC:
 *   parent → { type: 'connect', url, count }        child → { type: 'connected', count, failed }
 *   parent → { type: 'measure', sentAt: [leadId, ms][] } child → { type: 'delays', … }
 * Times are `performance.timeOrigin + performance.now()` in both processes: one clock.
 */
import http from 'node:http';
import { percentile } from './stats.js';

interface ConnectMessage {
  type: 'connect';
  url: string;
  count: number;
}

interface MeasureMessage {
  type: 'measure';
  /** The moment the load generator received each allocation's 201. */
  sentAt: [string, number][];
}

export interface DelayReport {
  type: 'delays';
  listeners: number;
  events: number;
  deliveries: number;
  missed: number;
  disconnected: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Events that reached a listener before its 201 reached the load generator (counted as 0). */
  early: number;
}

const MARKER = 'event: lead.allocated\ndata: {"leadId":"';
const startedAt = performance.timeOrigin;
const now = (): number => performance.timeOrigin + performance.now();

/** leadId → arrival time per listener, in ms after this process started (NaN = not yet). */
const arrivals = new Map<string, Float32Array>();
let listenerCount = 0;
let disconnected = 0;
const sockets: http.ClientRequest[] = [];

function record(listener: number, leadId: string, at: number): void {
  let times = arrivals.get(leadId);
  if (!times) {
    times = new Float32Array(listenerCount).fill(Number.NaN);
    arrivals.set(leadId, times);
  }
  times[listener] = at - startedAt;
}

function listen(url: string, listener: number): Promise<boolean> {
  return new Promise((resolve) => {
    let pending = '';
    const request = http.get(`${url}/api/events`, { agent: false }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        resolve(false);
        return;
      }
      response.setEncoding('utf8');
      let ready = false;
      response.on('data', (chunk: string) => {
        const at = now();
        if (!ready) {
          ready = true;
          resolve(true);
        }
        pending += chunk;
        const end = pending.lastIndexOf('\n\n');
        if (end === -1) return;
        const complete = pending.slice(0, end);
        pending = pending.slice(end + 2);
        for (
          let from = complete.indexOf(MARKER);
          from !== -1;
          from = complete.indexOf(MARKER, from + 1)
        ) {
          const start = from + MARKER.length;
          record(listener, complete.slice(start, start + 36), at);
        }
      });
      response.on('close', () => disconnected++);
    });
    request.on('error', () => resolve(false));
    sockets.push(request);
  });
}

function measure(message: MeasureMessage): DelayReport {
  let deliveries = 0;
  let missed = 0;
  let early = 0;
  const delays = new Float64Array(message.sentAt.length * listenerCount);
  for (const [leadId, sentAt] of message.sentAt) {
    const times = arrivals.get(leadId);
    for (let listener = 0; listener < listenerCount; listener++) {
      const arrived = times?.[listener];
      if (arrived === undefined || Number.isNaN(arrived)) {
        missed++;
        continue;
      }
      const delay = arrived + startedAt - sentAt;
      if (delay < 0) early++;
      delays[deliveries++] = Math.max(0, delay);
    }
  }
  const measured = delays.subarray(0, deliveries);
  return {
    type: 'delays',
    listeners: listenerCount,
    events: message.sentAt.length,
    deliveries,
    missed,
    disconnected,
    p50Ms: percentile(measured, 50),
    p99Ms: percentile(measured, 99),
    maxMs: deliveries > 0 ? measured[deliveries - 1]! : Number.NaN,
    early,
  };
}

process.on('message', (message: ConnectMessage | MeasureMessage) => {
  if (message.type === 'connect') {
    listenerCount = message.count;
    void (async () => {
      const results: boolean[] = [];
      // In waves of 100, so the server's accept queue is never the thing measured.
      for (let first = 0; first < message.count; first += 100) {
        const wave = Array.from({ length: Math.min(100, message.count - first) }, (_, index) =>
          listen(message.url, first + index),
        );
        results.push(...(await Promise.all(wave)));
      }
      const failed = results.filter((ok) => !ok).length;
      process.send?.({ type: 'connected', count: results.length - failed, failed });
    })();
  } else if (message.type === 'measure') {
    process.send?.(measure(message), () => {
      for (const socket of sockets) socket.destroy();
      process.exit(0);
    });
  }
});
