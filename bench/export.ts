import { performance } from 'node:perf_hooks';
import type { BenchContext } from './scenarios.js';
import { seedLeads } from './seed-leads.sql.js';
import { readRssMiB } from './server.js';

/** SPEC §11: the export streams in constant memory; the server may grow less than this. */
export const EXPORT_RSS_BUDGET_MIB = 50;

export interface ExportResult {
  leads: number;
  rows: number;
  bytes: number;
  seconds: number;
  rowsPerSecond: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssGrowthMiB: number;
  withinBudget: boolean;
}

/**
 * Seeds BENCH_EXPORT_LEADS requests (default 1,000,000: 980,000 leads, status new/unallocated, no allocations, so
 * the consistency check is unaffected) straight into PostgreSQL, then downloads
 * GET /api/leads/export.csv as fast as this client reads, sampling the server's RSS every
 * 50 ms. The download is consumed and counted, never kept.
 */
export async function exportScenario(context: BenchContext): Promise<ExportResult> {
  const leads = Number(process.env.BENCH_EXPORT_LEADS ?? 1_000_000);
  context.progress(`export: seeding ${leads.toLocaleString('en-US')} requests`);
  await context.monitor.query('SET statement_timeout = 0');
  await seedLeads(context.monitor, leads, 30, false);
  const pid = context.subjects.serverPid;
  // Settle first: the baseline is the server at rest after the earlier scenarios.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssBeforeMiB = readRssMiB(pid);
  let rssPeakMiB = rssBeforeMiB;
  const sampler = setInterval(() => (rssPeakMiB = Math.max(rssPeakMiB, readRssMiB(pid))), 50);
  context.progress('export: downloading /api/leads/export.csv');
  const started = performance.now();
  let bytes = 0;
  let newlines = 0;
  try {
    const response = await fetch(`${context.serverUrl}/api/leads/export.csv`);
    if (!response.ok || !response.body) throw new Error(`export answered ${response.status}`);
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 10) newlines++;
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  rssPeakMiB = Math.max(rssPeakMiB, readRssMiB(pid));
  // Seeded rows hold no line breaks inside cells: one line per lead, plus the header.
  const rows = newlines - 1;
  const rssGrowthMiB = rssPeakMiB - rssBeforeMiB;
  return {
    leads,
    rows,
    bytes,
    seconds,
    rowsPerSecond: Math.round(rows / seconds),
    rssBeforeMiB,
    rssPeakMiB,
    rssGrowthMiB,
    withinBudget: rssGrowthMiB < EXPORT_RSS_BUDGET_MIB,
  };
}

export function describeExport(result: ExportResult): string[] {
  return [
    'export     GET /api/leads/export.csv',
    `  rows       ${result.rows.toLocaleString('en-US')} (${(result.bytes / 1024 / 1024).toFixed(0)} MiB) in ${result.seconds.toFixed(1)} s: ${result.rowsPerSecond.toLocaleString('en-US')} rows/s`,
    `  server RSS ${result.rssBeforeMiB} MiB before, ${result.rssPeakMiB} MiB peak: +${result.rssGrowthMiB} MiB (budget < ${EXPORT_RSS_BUDGET_MIB} MiB: ${result.withinBudget ? 'ok' : 'EXCEEDED'})`,
  ];
}
