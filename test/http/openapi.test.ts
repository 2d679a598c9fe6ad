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
    // From the app, not over HTTP: a busy machine's load shedding would answer 503 instead.
    // validate() dereferences in place, so it gets a copy.
    const document = structuredClone(server.app.swagger());
    await expect(SwaggerParser.validate(document)).resolves.toBeDefined();
  });

  it('describes a successful answer with a schema for every route', async () => {
    const paths = server.app.swagger().paths as Record<string, Record<string, Operation>>;
    expect(Object.keys(paths)).toContain('/api/leads/{id}');
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(paths)) {
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

  it('documents the refusals the security plugins answer on every route but the health checks', () => {
    const paths = server.app.swagger().paths as Record<string, Record<string, Operation>>;
    const undocumented: string[] = [];
    for (const [path, operations] of Object.entries(paths)) {
      if (path === '/health' || path === '/ready') continue;
      for (const [method, operation] of Object.entries(operations)) {
        for (const status of ['401', '403', '413', '415', '429', '503']) {
          if (operation.responses?.[status] === undefined) {
            undocumented.push(`${method.toUpperCase()} ${path} ${status}`);
          }
        }
      }
    }
    expect(undocumented).toEqual([]);
  });
});

describe('/docs', () => {
  it('has a way back to the dashboard, as a same-origin script the CSP allows', async () => {
    const page = await server.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('theme/back-to-dashboard.js');
    const script = await server.app.inject({
      method: 'GET',
      url: '/docs/static/theme/back-to-dashboard.js',
    });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
    expect(script.body).toContain("link.href = '/dashboard'");
  });
});
