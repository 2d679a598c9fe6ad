/** How the UI writes times, durations and ids; one place so every page agrees. */

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export function formatTime(iso: string): string {
  return timeFormat.format(new Date(iso));
}

export function formatDateTime(iso: string): string {
  return dateTimeFormat.format(new Date(iso));
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/**
 * The last 8 hex digits of a lead id (SPEC §11): the first ones are a UUIDv7 timestamp,
 * shared by every lead of the same minute. The leads search finds a lead by them.
 */
export function shortId(id: string): string {
  return id.slice(-8);
}

const PLAIN_CODES: Record<string, string> = {
  insufficient_quota: 'not enough providers',
  service_not_found: 'no such service',
  duplicate_lead: 'duplicate lead',
  invalid_payload: 'invalid request',
  rate_limited: 'too many requests',
  unavailable: 'server busy',
};

/** An API error code in words for a badge; the code itself stays in the badge's title. */
export function plainCode(code: string): string {
  return PLAIN_CODES[code] ?? code.replaceAll('_', ' ');
}
