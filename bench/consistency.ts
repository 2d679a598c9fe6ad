import pg from 'pg';

/** What the load generator was told: every 201, and for allocations the providers named. */
export class Acknowledged {
  /** Lead ids answered 201 by POST /api/lead. */
  readonly ingested: string[] = [];
  /** Lead id → provider ids (sorted, comma-joined) answered 201 by POST /api/request-service. */
  readonly allocated = new Map<string, string>();

  private static readonly LEAD_ID = /"lead_id":"([0-9a-f-]{36})"/;
  private static readonly PROVIDER_ID = /\{"id":(\d+),/g;

  /** Reads a 201 body; returns its lead id, or undefined when the body is not one. */
  ingestAnswered(body: string): string | undefined {
    const leadId = Acknowledged.LEAD_ID.exec(body)?.[1];
    if (leadId) this.ingested.push(leadId);
    return leadId;
  }

  allocationAnswered(body: string): string | undefined {
    const leadId = Acknowledged.LEAD_ID.exec(body)?.[1];
    if (!leadId) return undefined;
    const providers = [...body.matchAll(Acknowledged.PROVIDER_ID)]
      .map((match) => Number(match[1]))
      .sort((a, b) => a - b);
    this.allocated.set(leadId, providers.join(','));
    return leadId;
  }
}

export interface ConsistencyReport {
  ok: boolean;
  acknowledgedLeads: number;
  acknowledgedAllocations: number;
  problems: string[];
  totals: {
    leads: number;
    allocatedLeads: number;
    allocationRows: number;
    quotaDecrement: number;
    negativeQuotas: number;
  };
}

const CHUNK = 5000;

/**
 * The run's evidence that speed cost no correctness: every 201's lead is stored; every
 * allocation 201 names exactly the providers stored for its lead; and over the whole database
 * (HTTP and pgbench alike) the quota decrement equals 3 × allocated leads, with no lead
 * allocated twice and no quota below zero. Quotas are set before any allocation runs.
 */
export async function checkConsistency(
  url: string,
  acknowledged: Acknowledged,
  providersPerLead: number,
): Promise<ConsistencyReport> {
  const client = new pg.Client({ connectionString: url, application_name: 'leadflow-bench' });
  await client.connect();
  const problems: string[] = [];
  try {
    const ingested = [...new Set(acknowledged.ingested)];
    if (ingested.length !== acknowledged.ingested.length) {
      problems.push(
        `${acknowledged.ingested.length - ingested.length} lead ids were answered 201 twice`,
      );
    }
    let missing = 0;
    for (let from = 0; from < ingested.length; from += CHUNK) {
      const ids = ingested.slice(from, from + CHUNK);
      const { rows } = await client.query<{ found: number }>(
        'SELECT count(*)::int AS found FROM leads WHERE id = ANY($1::uuid[])',
        [ids],
      );
      missing += ids.length - rows[0]!.found;
    }
    if (missing > 0) problems.push(`${missing} leads answered 201 by /api/lead are not stored`);

    const allocated = [...acknowledged.allocated];
    let wrong = 0;
    for (let from = 0; from < allocated.length; from += CHUNK) {
      const slice = allocated.slice(from, from + CHUNK);
      const { rows } = await client.query<{ id: string; status: string; providers: string | null }>(
        `SELECT l.id, l.status,
                (SELECT string_agg(a.provider_id::text, ',' ORDER BY a.provider_id)
                   FROM allocations a WHERE a.lead_id = l.id) AS providers
           FROM leads l WHERE l.id = ANY($1::uuid[])`,
        [slice.map(([leadId]) => leadId)],
      );
      const stored = new Map(rows.map((row) => [row.id, row]));
      for (const [leadId, providers] of slice) {
        const row = stored.get(leadId);
        if (!row || row.status !== 'allocated' || row.providers !== providers) wrong++;
      }
    }
    if (wrong > 0) {
      problems.push(`${wrong} allocations answered 201 differ from the stored lead and providers`);
    }

    const { rows } = await client.query<{
      leads: number;
      allocated_leads: number;
      allocation_rows: number;
      leads_with_allocations: number;
      decrement: string;
      negative: number;
      uneven: number;
    }>(
      `SELECT (SELECT count(*)::int FROM leads) AS leads,
              (SELECT count(*)::int FROM leads WHERE status = 'allocated') AS allocated_leads,
              (SELECT count(*)::int FROM allocations) AS allocation_rows,
              (SELECT count(DISTINCT lead_id)::int FROM allocations) AS leads_with_allocations,
              (SELECT sum(quota - remaining_quota)::text FROM providers) AS decrement,
              (SELECT count(*)::int FROM providers WHERE remaining_quota < 0) AS negative,
              (SELECT count(*)::int FROM (SELECT lead_id FROM allocations GROUP BY lead_id
                                           HAVING count(*) <> $1) AS odd) AS uneven`,
      [providersPerLead],
    );
    const totals = rows[0]!;
    const decrement = Number(totals.decrement);
    if (decrement !== providersPerLead * totals.leads_with_allocations) {
      problems.push(
        `quota decrement ${decrement} ≠ ${providersPerLead} × ${totals.leads_with_allocations} allocated leads`,
      );
    }
    if (totals.allocation_rows !== providersPerLead * totals.leads_with_allocations) {
      problems.push(
        `${totals.allocation_rows} allocation rows for ${totals.leads_with_allocations} leads`,
      );
    }
    if (totals.uneven > 0)
      problems.push(`${totals.uneven} leads have other than ${providersPerLead} providers`);
    if (totals.allocated_leads !== totals.leads_with_allocations) {
      problems.push(
        `${totals.allocated_leads} leads marked allocated, ${totals.leads_with_allocations} with allocations`,
      );
    }
    if (totals.negative > 0) problems.push(`${totals.negative} providers have a negative quota`);
    return {
      ok: problems.length === 0,
      acknowledgedLeads: ingested.length,
      acknowledgedAllocations: allocated.length,
      problems,
      totals: {
        leads: totals.leads,
        allocatedLeads: totals.leads_with_allocations,
        allocationRows: totals.allocation_rows,
        quotaDecrement: decrement,
        negativeQuotas: totals.negative,
      },
    };
  } finally {
    await client.end();
  }
}
