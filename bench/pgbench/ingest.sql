-- Ingestion baseline: what one POST /api/lead makes durable, one request per transaction,
-- the way a server without group commit would send it (BEGIN, two INSERTs, COMMIT).
-- :body is the same ~400-byte, 14-field lead the HTTP scenario sends; keys are unique.
-- Lead ids are time-ordered like the server's UUIDv7 (48 bits of milliseconds, then random),
-- so both sides pay the same index cost.
BEGIN;
INSERT INTO leads_raw (endpoint, sender, idempotency_key, request_id, content_type, headers,
                       body, remote_addr, status, lead_id)
VALUES ('lead', 'pgbench', gen_random_uuid()::text, gen_random_uuid()::text, 'application/json',
        '{"content-type": "application/json", "user-agent": "pgbench", "host": "127.0.0.1"}',
        convert_to(:body, 'UTF8'), '127.0.0.1', 'accepted',
        (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') ||
         substr(replace(gen_random_uuid()::text, '-', ''), 13))::uuid)
RETURNING id AS raw_id, lead_id, idempotency_key \gset
INSERT INTO leads (id, raw_id, sender, idempotency_key, click_id, country, creo, description,
                   domain, email, first_name, ip, lang, last_name, marker, offer, phone,
                   sourcetype, extra)
VALUES (:lead_id, :raw_id, 'pgbench', :idempotency_key, 'clk-pgbench-1', 'FR', 'creo-2',
        'Requested a call back about the premium plan; prefers evenings after 18:00.',
        'landing.example.com', 'lukas.1@mail.example.com', 'Lukas', '203.0.113.1', 'fr',
        'Dubois', 'utm_source=partner1&utm_campaign=autumn', 'offer-2', '+49 151 10000001',
        'google', '{}')
ON CONFLICT (sender, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
END;
