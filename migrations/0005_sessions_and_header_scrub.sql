-- Operator sessions, so that logging out revokes a session on every instance (SPEC §8). The
-- cookie stays signed with ADMIN_TOKEN (a forged one is refused without a query); this row is
-- what a logout ends.
CREATE TABLE admin_sessions (
  id         uuid        PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);

-- Credential-like headers are never stored (SPEC §8): remove the ones stored before the rule
-- (X-Auth-Token, Api-Key, X-Secret, Webhook-Signature, …). Only rows holding one are rewritten.
UPDATE leads_raw
   SET headers = (SELECT coalesce(jsonb_object_agg(name, value), '{}'::jsonb)
                    FROM jsonb_each(headers) AS h(name, value)
                   WHERE name = 'idempotency-key'
                      OR name !~ '(auth|token|secret|session|cookie|password|signature|key)')
 WHERE EXISTS (SELECT 1 FROM jsonb_object_keys(headers) AS k(name)
                WHERE name <> 'idempotency-key'
                  AND name ~ '(auth|token|secret|session|cookie|password|signature|key)');
