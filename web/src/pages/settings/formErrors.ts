import { ApiError } from '../../api/client.js';

export type ErrorsByField = Record<string, string>;

/**
 * Maps a failed save to messages per field: the API's `details[].path` names the field
 * (`quota`, `providersPerLead`, `pool.2`); what names no known field goes under `form`.
 */
export function errorsFrom(error: unknown, fields: readonly string[]): ErrorsByField {
  if (!(error instanceof ApiError)) return { form: 'The server could not be reached.' };
  const errors: ErrorsByField = {};
  for (const detail of error.fieldErrors) {
    const field = fields.find((name) => detail.path === name || detail.path.startsWith(`${name}.`));
    const key = field ?? 'form';
    errors[key] = errors[key] ? `${errors[key]}; ${detail.message}` : detail.message;
  }
  if (Object.keys(errors).length === 0) errors['form'] = `${error.status} ${error.code}`;
  return errors;
}

/** A whole number from an input, or the message to show instead of sending it. */
export function parseWholeNumber(value: string): number | string {
  const trimmed = value.trim();
  if (!/^-?\d+$/.test(trimmed)) return 'Enter a whole number';
  return Number(trimmed);
}
