// RP-initiated logout and back-channel logout, what the ended session no longer does, and
// signing in again.
import * as client from 'openid-client';
import * as jose from 'jose';
import { check, describe, expectOAuthError, need, ok } from './report.mjs';

function decodeHeaderAlg(token) {
  return jose.decodeProtectedHeader(token).alg;
}

export async function run({ issuer, redirectUri, postLogoutUri, logoutTokens, username, password, web, config, jwks, tokens, page, submit, stepOf, browse, authRequest, exchange, silentTokens }) {
  const live = await check('logout: (before) a fresh grant in the session to be ended', async () => {
    need(tokens);
    return silentTokens();
  });

  const loggedOut = await check('logout: end_session with id_token_hint redirects to the registered post_logout_redirect_uri with state', async () => {
    need(live);
    const state = client.randomState();
    const since = Date.now();
    const url = client.buildEndSessionUrl(config, { id_token_hint: live.id_token, post_logout_redirect_uri: postLogoutUri, state });
    const { url: landed, steps } = await browse(url, postLogoutUri);
    ok(steps.length === 0, `pages before the redirect: ${steps.join(' -> ')}`);
    ok(landed.searchParams.get('state') === state, `state ${landed.searchParams.get('state')} != ${state}`);
    return since;
  });

  const logoutToken = await check('back-channel logout: the RP endpoint receives a form-encoded logout_token POST', async () => {
    need(loggedOut);
    const deadline = Date.now() + 30000;
    while (logoutTokens.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    ok(logoutTokens.length > 0, 'nothing arrived within 30 s');
    const got = logoutTokens[0];
    ok(got.contentType.startsWith('application/x-www-form-urlencoded'), `Content-Type ${got.contentType}`);
    const token = new URLSearchParams(got.body).get('logout_token');
    ok(token, `no logout_token in body ${got.body.slice(0, 200)}`);
    return token;
  });

  await check('back-channel logout: the logout token verifies against the JWKS (iss, aud, iat, jti, events, sid, sub, no nonce)', async () => {
    need(logoutToken, live);
    const { payload, protectedHeader } = await jose.jwtVerify(logoutToken, jwks, {
      issuer, audience: web.client_id, algorithms: [decodeHeaderAlg(live.id_token)], maxTokenAge: '2 minutes' });
    ok(protectedHeader.typ === 'logout+jwt', `typ ${protectedHeader.typ}`);
    const event = payload.events?.['http://schemas.openid.net/event/backchannel-logout'];
    ok(event && typeof event === 'object' && !Array.isArray(event), `events ${JSON.stringify(payload.events)}`);
    ok(typeof payload.jti === 'string' && typeof payload.iat === 'number', 'jti/iat');
    ok(!('nonce' in payload), 'a logout token must not contain nonce');
    ok(payload.sid === live.claims().sid, `sid ${payload.sid} != ${live.claims().sid}`);
    ok(payload.sub === undefined || payload.sub === live.claims().sub, `sub ${payload.sub}`);
  });

  await check('logout: the ended session\'s refresh token is refused (invalid_grant)', async () => {
    need(loggedOut, live);
    await expectOAuthError('invalid_grant', () => client.refreshTokenGrant(config, live.refresh_token));
  });

  await check('logout: prompt=none afterwards comes back with error=login_required (the cookie no longer signs in)', async () => {
    need(loggedOut);
    const req = await authRequest({ prompt: 'none' });
    const { url, steps } = await browse(req.url, redirectUri);
    ok(steps.length === 0, `prompt=none showed pages: ${steps.join(' -> ')}`);
    try {
      await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: req.codeVerifier, expectedNonce: req.nonce, expectedState: req.state });
    } catch (e) {
      ok(e instanceof client.AuthorizationResponseError, describe(e));
      ok(e.error === 'login_required', `error ${e.error}`);
      return;
    }
    throw new Error('prompt=none still returned a code after logout');
  });

  await check('logout: an interactive authorization asks for the username again', async () => {
    need(loggedOut);
    const req = await authRequest();
    await page.goto(req.url.href);
    ok((await stepOf()) === '/signin/identify', `landed on ${page.url()}`);
  });

  const again = await check('sign-in again: a wrong password gets the generic message on the password page, the right one a code', async () => {
    need(loggedOut);
    const req = await authRequest();
    await page.goto(req.url.href);
    ok((await stepOf()) === '/signin/identify', `landed on ${page.url()}`);
    await page.fill('input[name=username]', username);
    await submit('form button[type=submit]');
    ok((await stepOf()) === '/signin/password', `after identify: ${page.url()}`);
    await page.fill('input[name=password]', `${password}-wrong`);
    await submit('form button[type=submit]');
    ok((await stepOf()) === '/signin/password', `after a wrong password: ${page.url()}`);
    const text = await page.locator('body').innerText();
    ok(text.includes('Wrong username or password.'), `no generic message: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
    const { url, steps } = await browse(null, redirectUri);
    ok(steps.join(' ') === '/signin/password', `pages seen: ${steps.join(' -> ')} (consent was given before)`);
    const t = await exchange({ req, url });
    ok(t.claims().sid && t.claims().sid !== live.claims().sid, `sid ${t.claims().sid} (the ended session's was ${live.claims().sid})`);
    return t;
  });

  await check('logout without id_token_hint: a confirmation page; confirming ends the session, returns to the post_logout_redirect_uri with state and sends a logout token', async () => {
    need(again);
    const already = logoutTokens.length;
    const state = client.randomState();
    await page.goto(client.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutUri, state }).href);
    ok(new URL(page.url()).pathname === '/end_session', `landed on ${page.url()} instead of a confirmation page`);
    await submit('form button[type=submit]');
    const landed = new URL(page.url());
    ok(landed.href.startsWith(postLogoutUri), `after confirming: ${landed.href}`);
    ok(landed.searchParams.get('state') === state, `state ${landed.searchParams.get('state')} != ${state}`);
    const deadline = Date.now() + 30000;
    while (logoutTokens.length === already && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    ok(logoutTokens.length > already, 'no logout token arrived within 30 s');
    const token = new URLSearchParams(logoutTokens[already].body).get('logout_token');
    const { payload } = await jose.jwtVerify(token, jwks, { issuer, audience: web.client_id, typ: 'logout+jwt' });
    ok(payload.sid === again.claims().sid, `sid ${payload.sid} != ${again.claims().sid}`);
    await expectOAuthError('invalid_grant', () => client.refreshTokenGrant(config, again.refresh_token));
  });
}
