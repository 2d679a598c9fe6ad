import type { Pool } from '../../db/pool.js';

export async function insertAdminSession(pool: Pool, id: string, expiresAt: Date): Promise<void> {
  // Sessions past their expiry are dead anyway; a login is rare enough to sweep them.
  await pool.query(
    `WITH swept AS (DELETE FROM admin_sessions WHERE expires_at < now() - interval '1 day')
     INSERT INTO admin_sessions (id, expires_at) VALUES ($1, $2)`,
    [id, expiresAt],
  );
}

export async function isAdminSessionLive(pool: Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `SELECT 1 FROM admin_sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()`,
    [id],
  );
  return rowCount === 1;
}

export async function revokeAdminSession(pool: Pool, id: string): Promise<void> {
  await pool.query(
    `UPDATE admin_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
    [id],
  );
}
