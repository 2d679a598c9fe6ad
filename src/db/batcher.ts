import { isUnavailable } from './pg-errors.js';

export interface BatcherOptions<I> {
  /** Largest number of items one flush takes. */
  maxBatch: number;
  /** Flushes allowed in flight at once (each holds one database connection). */
  maxConcurrent: number;
  /**
   * Items with the same key never share a batch: a later one waits for the next flush, in
   * arrival order with the rest. undefined = no key.
   */
  conflictKey?: (item: I) => string | undefined;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

/**
 * Group commit: items submitted while earlier flushes are in flight wait and then go
 * together in one transaction, so a busy server pays one commit (one WAL flush) for many
 * requests, and an idle one flushes a lone item at once with no added delay.
 *
 * A flush either answers every item or throws. When a batch of several fails for a reason
 * other than the database being unreachable, each item is tried again on its own, so one
 * bad row never decides its neighbours' fate.
 */
export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly options: BatcherOptions<I>,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.drain();
    });
  }

  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  private drain(): void {
    while (this.inFlight < this.options.maxConcurrent && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.run(batch);
    }
  }

  private release(): void {
    this.inFlight--;
    this.drain();
  }

  private takeBatch(): Pending<I, O>[] {
    const { conflictKey, maxBatch } = this.options;
    if (!conflictKey) return this.queue.splice(0, maxBatch);
    const batch: Pending<I, O>[] = [];
    const keys = new Set<string>();
    const left: Pending<I, O>[] = [];
    for (let index = 0; index < this.queue.length; index++) {
      if (batch.length === maxBatch) {
        left.push(...this.queue.slice(index));
        break;
      }
      const pending = this.queue[index]!;
      const key = conflictKey(pending.item);
      if (key === undefined || !keys.has(key)) {
        if (key !== undefined) keys.add(key);
        batch.push(pending);
      } else left.push(pending);
    }
    this.queue = left;
    return batch;
  }

  private async run(batch: Pending<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.flush(batch.map((pending) => pending.item));
    } catch (error) {
      if (batch.length > 1 && !isUnavailable(error)) {
        for (const pending of batch) await this.settleAlone(pending);
      } else {
        for (const pending of batch) pending.reject(error);
      }
      this.release();
      return;
    }
    // The next flush starts before this batch is answered: answering takes the event loop for
    // a while (a response per caller), and the database can work on the next batch meanwhile.
    this.release();
    batch.forEach((pending, index) => pending.resolve(results[index] as O));
  }

  private async settleAlone(pending: Pending<I, O>): Promise<void> {
    try {
      const [result] = await this.flush([pending.item]);
      pending.resolve(result as O);
    } catch (error) {
      pending.reject(error);
    }
  }
}
