import type { Pool } from '../db/pool.js';

/** An endpoint the demo buyer of some start built (any host and port), as a SQL literal. */
const DEMO_URL = String.raw`'^http://[^/]+/api/demo/buyer/\d+$'`;

/**
 * Points each of `providerIds` at `${baseUrl}/api/demo/buyer/<id>`, signed with `secret`, when
 * it has no endpoint or still has the demo buyer of an earlier start (whose port and secret
 * may have changed). An endpoint an operator set is left alone. One autocommitted statement:
 * it locks the `provider_delivery` rows it writes, then waits for provider key locks (step 4
 * of src/db/locks.sql.ts with nothing else held), so it cannot close a cycle.
 */
export async function connectDemoBuyer(
  pool: Pool,
  providerIds: number[],
  baseUrl: string,
  secret: string,
): Promise<number[]> {
  const { rows } = await pool.query<{ provider_id: number }>(
    `INSERT INTO provider_delivery (provider_id, url, signing_secret)
     SELECT p.id, $2 || '/api/demo/buyer/' || p.id, $3
       FROM providers p LEFT JOIN provider_delivery c ON c.provider_id = p.id
      WHERE p.id = ANY($1::int[])
        AND (c.provider_id IS NULL OR c.url ~ ${DEMO_URL})
     ON CONFLICT (provider_id) DO UPDATE
       SET url = EXCLUDED.url, signing_secret = EXCLUDED.signing_secret,
           consecutive_failures = 0, paused_at = NULL, next_probe_at = NULL, updated_at = now()
     RETURNING provider_id`,
    [providerIds, baseUrl, secret],
  );
  return rows.map((row) => row.provider_id).sort((a, b) => a - b);
}

/** The secret the demo buyer of an earlier start signed with, if a demo endpoint still has it. */
export async function selectDemoBuyerSecret(pool: Pool): Promise<string | null> {
  const { rows } = await pool.query<{ signing_secret: string }>(
    `SELECT signing_secret FROM provider_delivery
      WHERE url ~ ${DEMO_URL} AND signing_secret IS NOT NULL
      ORDER BY updated_at DESC LIMIT 1`,
  );
  return rows[0]?.signing_secret ?? null;
}
