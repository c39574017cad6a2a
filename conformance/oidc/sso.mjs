// Single sign-on without prompting (prompt=none on the browser's session), consent denied
// for another client, and code reuse.
import * as client from 'openid-client';
import { check, describe, expectOAuthError, need, ok } from './report.mjs';

/** prompt=none on the browser's session, and the code exchange for it. */
export function silently({ config, redirectUri, browse, authRequest }) {
  /** prompt=none on the existing browser session: the authorization request and the callback URL. */
  async function silentCode() {
    const req = await authRequest({ prompt: 'none' });
    const { url, steps } = await browse(req.url, redirectUri);
    ok(steps.length === 0, `prompt=none showed pages: ${steps.join(' -> ')}`);
    return { req, url };
  }

  function exchange({ req, url }) {
    return client.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: req.codeVerifier, expectedNonce: req.nonce, expectedState: req.state, idTokenExpected: true });
  }

  async function silentTokens() {
    return exchange(await silentCode());
  }

  return { silentCode, exchange, silentTokens };
}

export async function run({ issuer, redirectUri, other, config, meta, tokens, idClaims, browse, authRequest, silentCode, exchange, silentTokens }) {
  const silent = await check('sso: prompt=none with the session cookie returns a code at once (same sub and sid)', async () => {
    need(tokens);
    const t = await silentTokens();
    ok(t.claims().sub === idClaims.sub, 'another sub');
    ok(t.claims().sid === idClaims.sid, `sid ${t.claims().sid} != ${idClaims.sid}`);
    return t;
  });

  await check('consent: denying another client on the consent page returns error=access_denied with state and iss', async () => {
    need(other, silent);
    const otherConfig = new client.Configuration(meta, other.client_id, other.client_secret);
    client.allowInsecureRequests(otherConfig);
    const req = await authRequest({}, otherConfig);
    const { url, steps } = await browse(req.url, redirectUri, { decision: 'deny' });
    ok(steps.join(' ') === '/signin/consent', `pages seen: ${steps.join(' -> ')}`);
    ok(url.searchParams.get('iss') === issuer, `iss parameter ${url.searchParams.get('iss')} != ${issuer} (RFC 9207)`);
    try {
      await client.authorizationCodeGrant(otherConfig, url, { pkceCodeVerifier: req.codeVerifier, expectedNonce: req.nonce, expectedState: req.state });
    } catch (e) {
      ok(e instanceof client.AuthorizationResponseError, describe(e));
      ok(e.error === 'access_denied', `error ${e.error}`);
      return;
    }
    throw new Error('a denied consent returned a code');
  });

  await check('code reuse: the same code a second time is refused (invalid_grant) and the tokens of its first use are revoked', async () => {
    need(silent);
    const code = await silentCode();
    const t = await exchange(code);
    await expectOAuthError('invalid_grant', () => exchange(code));
    await expectOAuthError('invalid_grant', () => client.refreshTokenGrant(config, t.refresh_token));
    const r = await client.tokenIntrospection(config, t.access_token);
    ok(r.active === false, `access token from the first use still introspects as ${JSON.stringify(r)}`);
  });
  return { silent };
}
