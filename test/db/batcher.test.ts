import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/db/batcher.js';

/** A flush that records each batch and resolves only when `release` is called. */
function gatedFlush() {
  const batches: string[][] = [];
  const gates: (() => void)[] = [];
  const flush = (items: string[]): Promise<string[]> => {
    batches.push(items);
    return new Promise((resolve) => gates.push(() => resolve(items.map((item) => `ok:${item}`))));
  };
  const release = async (): Promise<void> => {
    gates.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, flush, release };
}

describe('Batcher', () => {
  it('flushes a lone item at once and groups what arrives while a flush is in flight', async () => {
    const { batches, flush, release } = gatedFlush();
    const batcher = new Batcher(flush, { maxBatch: 10, maxConcurrent: 1 });
    const answers = ['a', 'b', 'c', 'd'].map((item) => batcher.submit(item));
    expect(batches).toEqual([['a']]);
    await release();
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    await release();
    expect(await Promise.all(answers)).toEqual(['ok:a', 'ok:b', 'ok:c', 'ok:d']);
  });

  it('starts the next flush before answering the batch that just committed', async () => {
    const { batches, flush, release } = gatedFlush();
    const batcher = new Batcher(flush, { maxBatch: 10, maxConcurrent: 1 });
    let flushesWhenAnswered = 0;
    const first = batcher.submit('a').then(() => (flushesWhenAnswered = batches.length));
    const second = batcher.submit('b');
    await release();
    await first;
    expect(flushesWhenAnswered).toBe(2);
    await release();
    expect(await second).toBe('ok:b');
  });

  it('never puts two items with the same conflict key into one batch, keeping arrival order', async () => {
    const { batches, flush, release } = gatedFlush();
    const batcher = new Batcher(flush, {
      maxBatch: 3,
      maxConcurrent: 1,
      conflictKey: (item: string) => (item.startsWith('-') ? undefined : item.slice(0, 1)),
    });
    const answers = ['x0', 'k1', 'k2', '-a', 'm1', '-b', 'k3', 'n1'].map((item) =>
      batcher.submit(item),
    );
    for (let round = 0; round < 4; round++) await release();
    expect(batches).toEqual([['x0'], ['k1', '-a', 'm1'], ['k2', '-b', 'n1'], ['k3']]);
    expect(await Promise.all(answers)).toHaveLength(8);
  });

  it('retries a failed batch item by item, so one bad item fails alone', async () => {
    const batches: string[][] = [];
    const batcher = new Batcher(
      async (items: string[]) => {
        batches.push(items);
        if (items.includes('bad')) throw new Error('bad row');
        return items;
      },
      { maxBatch: 10, maxConcurrent: 1 },
    );
    const first = batcher.submit('first');
    const rest = ['good1', 'bad', 'good2'].map((item) => batcher.submit(item));
    const settled = await Promise.allSettled([first, ...rest]);
    expect(settled.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(batches).toEqual([['first'], ['good1', 'bad', 'good2'], ['good1'], ['bad'], ['good2']]);
  });
});
