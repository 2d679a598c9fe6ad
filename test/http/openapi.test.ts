import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
let server: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestApp(db);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI document', async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    // validate() dereferences in place; the assertion below reads the fetched copy.
    await expect(SwaggerParser.validate(structuredClone(document))).resolves.toBeDefined();
  });

  it('describes a successful answer with a schema for every route', async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    const missing: string[] = [];
    for (const [path, operations] of Object.entries<Record<string, Operation>>(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const success = Object.entries(operation.responses ?? {}).filter(([status]) =>
          status.startsWith('2'),
        );
        const described = success.some(([, response]) =>
          Object.values(response.content ?? {}).some((content) => content.schema !== undefined),
        );
        if (!described) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
