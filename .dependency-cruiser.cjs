/**
 * Dependencies point one way: routes → services → sql → db. `npm run lint` fails on a
 * back-import; test/lint/dependencies.test.ts proves each rule fires.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Two modules that need each other get a third module, not a cycle.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-not-http',
      severity: 'error',
      comment:
        'Domain code throws errors from src/errors.ts and never imports http/; only routes, ' +
        'the app and the process that serves it do.',
      from: {
        path: '^src/',
        pathNot: ['^src/http/', '^src/(app|server)\\.ts$', '\\.routes\\.ts$'],
      },
      to: { path: '^src/http/' },
    },
    {
      name: 'sql-not-up',
      severity: 'error',
      comment: 'SQL modules are called by services, never the other way round.',
      from: { path: '\\.sql\\.ts$' },
      to: { path: '\\.(service|routes)\\.ts$' },
    },
    {
      name: 'service-not-routes',
      severity: 'error',
      comment: 'Services do not know which routes call them.',
      from: { path: '\\.service\\.ts$' },
      to: { path: '\\.routes\\.ts$' },
    },
    {
      name: 'routes-only-from-app',
      severity: 'error',
      comment:
        'Routes are registered by app.ts (the security plugin registers its own login routes).',
      from: { pathNot: ['^src/app\\.ts$', '^src/http/security/index\\.ts$'] },
      to: { path: '\\.routes\\.ts$' },
    },
    {
      name: 'db-is-the-bottom',
      severity: 'error',
      comment:
        'src/db/ serves every feature folder and imports none (top-level modules and the ' +
        'contracts, which import nothing, only).',
      from: { path: '^src/db/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/db/', '^src/contracts/'] },
    },
    {
      name: 'contracts-stand-alone',
      severity: 'error',
      comment: 'Contracts are shared with web/: Zod only, no Node, nothing else from src/.',
      from: { path: '^src/contracts/' },
      to: { pathNot: ['^src/contracts/', '^node_modules/zod/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type that needs another layer is still a dependency on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
