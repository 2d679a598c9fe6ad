// Straight from delivery-constants.ts: the contracts' index would bundle Zod with the dashboard.
import { MASKED } from '../../../../src/contracts/delivery-constants.js';
import type { DeliveryConfigRequest, DeliveryConfigView } from '../../../../src/contracts/index.js';
import { ApiError } from '../../api/client.js';
import type { ErrorsByField } from './formErrors.js';

export interface HeaderRow {
  key: number;
  name: string;
  /** Empty for a stored header left alone: its value is hidden and kept by the server. */
  value: string;
  stored: boolean;
}

export interface FieldRow {
  key: number;
  target: string;
  source: string;
}

export interface DeliveryForm {
  url: string;
  method: 'POST' | 'PUT';
  format: 'json' | 'form';
  headers: HeaderRow[];
  fields: FieldRow[];
  timeoutMs: string;
  maxAttempts: string;
  acceptPattern: string;
  /** A new secret; empty keeps the stored one. */
  secret: string;
  removeSecret: boolean;
}

let nextKey = 0;
export const rowKey = (): number => ++nextKey;

export function formFrom(view: DeliveryConfigView | null): DeliveryForm {
  return {
    url: view?.url ?? '',
    method: view?.method ?? 'POST',
    format: view?.format ?? 'json',
    headers: Object.keys(view?.headers ?? {}).map((name) => ({
      key: rowKey(),
      name,
      value: '',
      stored: true,
    })),
    fields: Object.entries(view?.fields ?? {}).map(([target, source]) => ({
      key: rowKey(),
      target,
      source,
    })),
    timeoutMs: String(view?.timeoutMs ?? 10_000),
    maxAttempts: String(view?.maxAttempts ?? 8),
    acceptPattern: view?.acceptPattern ?? '',
    secret: '',
    removeSecret: false,
  };
}

function wholeNumberIn(value: string, min: number, max: number, what: string): number | string {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) return `Enter ${what} as a whole number.`;
  const number = Number(trimmed);
  if (number < min || number > max) return `Enter ${what} from ${min} to ${max}.`;
  return number;
}

/**
 * The endpoint to send, or what to fix first, in plain words. Hidden values are never sent
 * back as they were read: a stored header left empty goes as the "keep" placeholder, and a
 * secret left empty is left out, so the server keeps both.
 */
export function deliveryFrom(
  form: DeliveryForm,
): { delivery: DeliveryConfigRequest } | { errors: ErrorsByField } {
  const errors: ErrorsByField = {};
  const url = form.url.trim();
  if (!/^https?:\/\/\S+$/i.test(url)) {
    errors['url'] = 'Enter the full address, starting with http:// or https://.';
  }
  const timeoutMs = wholeNumberIn(form.timeoutMs, 100, 120_000, 'the timeout in milliseconds');
  if (typeof timeoutMs === 'string') errors['timeoutMs'] = timeoutMs;
  const maxAttempts = wholeNumberIn(form.maxAttempts, 1, 100, 'the number of attempts');
  if (typeof maxAttempts === 'string') errors['maxAttempts'] = maxAttempts;

  const headers: Record<string, string> = {};
  for (const row of form.headers) {
    const name = row.name.trim();
    if (!name && !row.value) continue;
    if (!name) errors['headers'] = 'Every header needs a name.';
    else if (headers[name] !== undefined) errors['headers'] = `The header ${name} is listed twice.`;
    else if (row.value) headers[name] = row.value;
    else if (row.stored) headers[name] = MASKED;
    else errors['headers'] = `Enter a value for the header ${name}.`;
  }

  const rows = form.fields.filter((row) => row.target.trim() || row.source.trim());
  const fields: Record<string, string> = {};
  for (const row of rows) {
    if (!row.target.trim() || !row.source.trim()) {
      errors['fields'] = 'Each mapped field needs both a name to send and a lead field.';
    } else {
      fields[row.target.trim()] = row.source.trim();
    }
  }

  const secret = form.secret.trim();
  if (secret && !secret.startsWith('whsec_')) {
    errors['signingSecret'] = 'A signing secret starts with whsec_ followed by a base64 key.';
  }
  if (Object.keys(errors).length > 0) return { errors };
  const delivery: DeliveryConfigRequest = {
    url,
    method: form.method,
    format: form.format,
    headers,
    fields: rows.length > 0 ? fields : null,
    timeoutMs: timeoutMs as number,
    maxAttempts: maxAttempts as number,
    acceptPattern: form.acceptPattern.trim() || null,
  };
  if (form.removeSecret) delivery.signingSecret = null;
  else if (secret) delivery.signingSecret = secret;
  return { delivery };
}

const FIELD_NAMES = [
  'url',
  'method',
  'format',
  'headers',
  'fields',
  'timeoutMs',
  'maxAttempts',
  'acceptPattern',
  'signingSecret',
] as const;

// Zod's wording for the checks the form cannot make itself, said plainly.
const PLAIN: [RegExp, string][] = [
  [/^Invalid URL/i, 'Enter a valid web address.'],
  [/^Invalid input: expected/i, 'This value is not accepted.'],
];

/** A refused save or test, as messages next to the inputs they are about. */
export function deliveryErrorsFrom(error: unknown): ErrorsByField {
  if (!(error instanceof ApiError)) return { form: 'The server could not be reached.' };
  const errors: ErrorsByField = {};
  for (const detail of error.fieldErrors) {
    const path = detail.path.replace(/^delivery\.?/, '');
    const field = FIELD_NAMES.find((name) => path === name || path.startsWith(`${name}.`));
    const subject = field === 'headers' || field === 'fields' ? path.split('.')[1] : undefined;
    const plain = PLAIN.find(([pattern]) => pattern.test(detail.message))?.[1] ?? detail.message;
    const message = subject ? `${subject}: ${plain}` : plain;
    const key = field ?? 'form';
    errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
  }
  if (Object.keys(errors).length === 0) errors['form'] = `${error.status} ${error.code}`;
  return errors;
}
