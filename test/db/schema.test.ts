import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { describeSchema } from '../helpers/schema.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('schema', () => {
  // A migration that changes the schema changes this file in the same commit (regenerate it
  // with `npm run schema:snapshot`), so the review shows what the database now looks like.
  it('is what test/db/schema.snapshot.txt says the migrations produce', async () => {
    await expect(await describeSchema(db.pool)).toMatchFileSnapshot('schema.snapshot.txt');
  });
});
