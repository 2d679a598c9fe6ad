import { ApiError } from '../../api/client.js';

/** A refused rule save as one sentence naming each field at fault (`filters.0.value: …`). */
export function ruleErrorText(error: unknown): string {
  if (!(error instanceof ApiError)) return 'The server could not be reached.';
  const details = error.fieldErrors.map((detail) => `${detail.path}: ${detail.message}`);
  return details.length > 0 ? details.join('; ') : `${error.status} ${error.code}`;
}
