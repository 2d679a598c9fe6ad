import { MASKED, type DeliveryConfig, type DeliveryConfigRequest } from '../contracts/index.js';
import { ValidationFailed } from '../errors.js';

/**
 * The endpoint to store or try: what reads mask (header values, the secret) and comes back
 * masked or, for the secret, omitted, keeps the stored value. Header names match regardless
 * of case, as HTTP's do. A masked value with nothing stored behind it is refused rather than
 * sent as eight asterisks.
 */
export function resolveSecrets(
  request: DeliveryConfigRequest,
  stored: DeliveryConfig | null,
): DeliveryConfig {
  const problems: { path: string; message: string }[] = [];
  // A stored header value goes only where it went before: kept for a new address, it could be
  // sent to anyone who may edit the endpoint (a test send to their own server reads it back).
  const sameOrigin = stored !== null && originOf(stored.url) === originOf(request.url);
  const storedHeaders = new Map(
    Object.entries(stored?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => {
      if (value !== MASKED) return [name, value];
      const kept = storedHeaders.get(name.toLowerCase());
      if (kept !== undefined && !sameOrigin) {
        problems.push({
          path: `delivery.headers.${name}`,
          message: "the endpoint's address changed: enter this header's value again",
        });
      } else if (kept === undefined) {
        problems.push({
          path: `delivery.headers.${name}`,
          message: 'no value is stored for this header: enter one',
        });
      }
      return [name, kept ?? ''];
    }),
  );
  let signingSecret: string | null;
  if (request.signingSecret === undefined || request.signingSecret === MASKED) {
    signingSecret = stored?.signingSecret ?? null;
    // Like a header value: a secret agreed with one buyer does not sign for another address.
    if (signingSecret !== null && !sameOrigin) {
      problems.push({
        path: 'delivery.signingSecret',
        message: "the endpoint's address changed: enter the signing secret again, or stop signing",
      });
    } else if (request.signingSecret === MASKED && signingSecret === null) {
      problems.push({
        path: 'delivery.signingSecret',
        message: 'no signing secret is stored: enter one or leave it empty',
      });
    }
  } else {
    signingSecret = request.signingSecret;
  }
  if (problems.length > 0) throw new ValidationFailed(problems);
  return { ...request, headers, signingSecret };
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
