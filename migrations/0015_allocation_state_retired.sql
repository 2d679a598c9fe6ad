-- An archived service's allocation_state row says so itself. An allocation waiting on that
-- row's lock while the service is archived re-reads only the locked row once the lock is
-- granted (READ COMMITTED re-check), not the services row it joined: a flag on the joined row
-- alone let it allocate to a service whose archive had already answered 200.
ALTER TABLE allocation_state ADD COLUMN retired boolean NOT NULL DEFAULT false;
UPDATE allocation_state st SET retired = true
  FROM services s WHERE s.id = st.service_id AND s.archived_at IS NOT NULL;
