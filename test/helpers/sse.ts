import http from 'node:http';

export interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** A minimal SSE reader over fetch, collecting every event it receives. */
export class SseClient {
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  private readonly waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  private done: Promise<void> | undefined;

  /**
   * node:http with no agent rather than fetch: fetch's pool keeps a spare idle socket open,
   * which makes every server shutdown in a test wait for the client's keep-alive timeout.
   */
  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(url, { headers, agent: false, signal: client.controller.signal }, resolve)
        .on('error', reject);
    });
    if (response.statusCode !== 200) throw new Error(`SSE connect failed: ${response.statusCode}`);
    client.done = client.read(response).catch(() => undefined);
    return client;
  }

  private async read(body: AsyncIterable<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const fields = new Map<string, string>();
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
        }
        if (fields.has('id') && fields.has('data')) {
          this.events.push({
            id: Number(fields.get('id')),
            event: fields.get('event') ?? 'message',
            data: JSON.parse(fields.get('data')!),
          });
          this.notify();
        }
      }
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** Resolves once `predicate` holds over the events received, or rejects after `timeoutMs`. */
  waitFor(predicate: (events: SseEvent[]) => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`SSE wait timed out with ${this.events.length} events`)),
        timeoutMs,
      );
      this.waiters.push({
        predicate: () => predicate(this.events),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
