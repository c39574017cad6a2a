// Reporting for the OpenID Connect checks: one PASS/FAIL line per check, assertions, and
// the OAuth error a request must fail with.
import * as client from 'openid-client';

const results = [];

export async function check(name, fn) {
  try {
    const value = await fn();
    results.push(true);
    console.log(`PASS  ${name}`);
    return value;
  } catch (e) {
    results.push(false);
    console.log(`FAIL  ${name}: ${describe(e)}`);
    return undefined;
  }
}

export function describe(e) {
  if (e instanceof client.ResponseBodyError) return `${e.status} ${e.error}: ${e.error_description ?? ''}`;
  if (e instanceof client.AuthorizationResponseError) return `authorization error ${e.error}: ${e.error_description ?? ''}`;
  if (e instanceof client.WWWAuthenticateChallengeError) return `${e.status} ${JSON.stringify(e.cause)}`;
  const cause = e?.cause && !(e.cause instanceof URLSearchParams) ? ` (cause: ${e.cause.message ?? JSON.stringify(e.cause)})` : '';
  return `${e?.message ?? e}${cause}`;
}

export function ok(cond, message) {
  if (!cond) throw new Error(message);
}

export function need(...values) {
  if (values.some((v) => v === undefined)) throw new Error('an earlier check this one needs failed');
}

/** Runs fn and insists that it fails with OAuth error `code` (token/introspection endpoint). */
export async function expectOAuthError(code, fn) {
  let value;
  try {
    value = await fn();
  } catch (e) {
    if (e instanceof client.ResponseBodyError) {
      ok(e.error === code, `expected error ${code}, got ${e.status} ${e.error}: ${e.error_description ?? ''}`);
      return e;
    }
    // RFC 6749 §5.2: invalid_client may come as 401 with a WWW-Authenticate challenge;
    // openid-client then throws before reading the JSON error body, so read it here.
    if (e instanceof client.WWWAuthenticateChallengeError && e.status === 401) {
      const body = await e.response.json().catch(() => ({}));
      ok(body.error === code, `expected error ${code}, got 401 ${JSON.stringify(body)} (challenge ${JSON.stringify(e.cause)})`);
      return e;
    }
    throw e;
  }
  throw new Error(`expected error ${code}, but the request succeeded: ${JSON.stringify(value)}`);
}

/** How many checks ran and how many failed. */
export function tally() {
  const failed = results.filter((r) => !r).length;
  return { passed: results.length - failed, failed };
}
