import { describe, expect, it } from 'vitest';
import { plainMessage } from '../../web/src/api/plainMessages.js';
import { auditDiff, auditSubject } from '../../web/src/pages/audit/auditDiff.js';

describe('auditDiff', () => {
  it('lists only the changed fields, nested ones by dotted path', () => {
    const before = { name: 'P1', quota: 10, delivery: { url: 'https://a', timeoutMs: 1000 } };
    const after = { name: 'P1', quota: 5, delivery: { url: 'https://a', timeoutMs: 2000 } };
    expect(auditDiff(before, after)).toEqual([
      { path: 'delivery.timeoutMs', before: '1000', after: '2000' },
      { path: 'quota', before: '10', after: '5' },
    ]);
  });

  it('shows a creation field by field against "—", and an endpoint added or removed', () => {
    expect(auditDiff(null, { id: 9, name: 'P9' })).toEqual([
      { path: 'id', before: '—', after: '9' },
      { path: 'name', before: '—', after: '"P9"' },
    ]);
    expect(auditDiff({ delivery: { url: 'u' } }, { delivery: null })).toEqual([
      { path: 'delivery.url', before: '"u"', after: '—' },
    ]);
  });

  it('compares lists whole (a reordered pool is a change)', () => {
    expect(auditDiff({ pool: [2, 3] }, { pool: [3, 2] })).toEqual([
      { path: 'pool', before: '[2,3]', after: '[3,2]' },
    ]);
    expect(auditDiff({ pool: [2, 3] }, { pool: [2, 3] })).toEqual([]);
  });
});

describe('plainMessage', () => {
  it.each([
    ['Too small: expected number to be >=0', 'Must be at least 0'],
    ['Too big: expected number to be <=100', 'Must be at most 100'],
    ['Too small: expected string to have >=1 characters', 'Cannot be empty'],
    ['Too big: expected string to have <=100 characters', 'At most 100 characters'],
    ['Invalid input: expected int, received number', 'Enter a whole number'],
    ['Invalid input: expected number, received string', 'Enter a number'],
    ['cannot exceed quota', 'cannot exceed quota'],
  ])('%s → %s', (message, plain) => {
    expect(plainMessage(message)).toBe(plain);
  });
});

describe('auditSubject', () => {
  it('names the entity, and a quota reset by its webhook event id', () => {
    expect(
      auditSubject({
        entity: 'provider',
        entityId: '1',
        before: { name: 'P1' },
        after: { name: 'P2' },
      }),
    ).toBe('provider P1 (#1)');
    const providers = [{ id: 1, remainingQuota: 10 }];
    expect(
      auditSubject({
        entity: 'provider',
        entityId: null,
        before: { eventId: 'billing-2026-12', providers },
        after: { eventId: 'billing-2026-12', providers },
      }),
    ).toBe('provider all · event billing-2026-12');
  });
});
