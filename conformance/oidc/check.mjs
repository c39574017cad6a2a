// Drives real OpenID Connect flows against a live Tessera with the OpenID-certified
// relying party library `openid-client`, signing in through headless Chromium:
// code + PKCE with nonce and state, userinfo, refresh rotation and reuse detection,
// client credentials, introspection, revocation, RP-initiated logout and back-channel
// logout received by a small RP endpoint served here.
//
// Usage (conformance/run does this): TESSERA_BIN=path/to/tessera TESSERA_ISSUER=http://localhost:PORT \
//   TESSERA_DATA_DIR=... node oidc/check.mjs
// The admin CLI (same environment as the server) registers the clients and the user.
// Prints one PASS/FAIL line per check; exits 1 when any check fails.
import * as client from 'openid-client';
import * as jose from 'jose';
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { setDefaultResultOrder } from 'node:dns';
import http from 'node:http';

setDefaultResultOrder('ipv4first');

const bin = process.env.TESSERA_BIN;
const issuer = process.env.TESSERA_ISSUER;
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!bin || !issuer) {
  console.error('oidc/check.mjs: set TESSERA_BIN and TESSERA_ISSUER');
  process.exit(2);
}

// ---------------------------------------------------------------- reporting

const results = [];
async function check(name, fn) {
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

function describe(e) {
  if (e instanceof client.ResponseBodyError) return `${e.status} ${e.error}: ${e.error_description ?? ''}`;
  if (e instanceof client.AuthorizationResponseError) return `authorization error ${e.error}: ${e.error_description ?? ''}`;
  if (e instanceof client.WWWAuthenticateChallengeError) return `${e.status} ${JSON.stringify(e.cause)}`;
  const cause = e?.cause && !(e.cause instanceof URLSearchParams) ? ` (cause: ${e.cause.message ?? JSON.stringify(e.cause)})` : '';
  return `${e?.message ?? e}${cause}`;
}

function ok(cond, message) {
  if (!cond) throw new Error(message);
}

function need(...values) {
  if (values.some((v) => v === undefined)) throw new Error('an earlier check this one needs failed');
}

/** Runs fn and insists that it fails with OAuth error `code` (token/introspection endpoint). */
async function expectOAuthError(code, fn) {
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

// ---------------------------------------------------------------- the relying party's own endpoint

const logoutTokens = [];
const rp = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://rp');
  if (req.method === 'POST' && url.pathname === '/backchannel') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      logoutTokens.push({ contentType: req.headers['content-type'] ?? '', body, at: Date.now() });
      res.writeHead(200, { 'Cache-Control': 'no-store' }).end();
    });
    return;
  }
  // The redirect URI and the post-logout URI: the script reads the browser's URL.
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>RP</title><p>relying party</p>');
});
await new Promise((resolve) => rp.listen(0, '127.0.0.1', resolve));
const rpBase = `http://127.0.0.1:${rp.address().port}`;
const redirectUri = `${rpBase}/cb`;
const postLogoutUri = `${rpBase}/logged-out`;
const backchannelUri = `${rpBase}/backchannel`;

// ---------------------------------------------------------------- fixtures through the admin CLI

function cli(args, input) {
  const out = execFileSync(bin, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

const username = `rp-${randomBytes(4).toString('hex')}`;
const email = `${username}@conformance.example`;
const password = `Lantern-${randomBytes(6).toString('hex')}-Orchard`;

const web = await check('setup: register a confidential client (consent, post-logout and back-channel URIs) with the CLI', () => {
  const c = cli(['client', 'create', '--name', 'openid-client conformance', '--redirect-uri', redirectUri,
    '--post-logout-uri', postLogoutUri, '--backchannel-logout-uri', backchannelUri, '--consent']);
  ok(c.client_id && c.client_secret, `no client_id/client_secret in ${JSON.stringify(c)}`);
  return c;
});
const other = await check('setup: register a second confidential client that asks for consent', () => {
  const c = cli(['client', 'create', '--name', 'openid-client other app', '--redirect-uri', redirectUri, '--consent']);
  ok(c.client_id && c.client_secret, `no client_id/client_secret in ${JSON.stringify(c)}`);
  return c;
});
const service = await check('setup: register a client_credentials client with the CLI', () => {
  const c = cli(['client', 'create', '--name', 'openid-client service', '--grant', 'client_credentials']);
  ok(c.client_id && c.client_secret, `no client_id/client_secret in ${JSON.stringify(c)}`);
  return c;
});
const user = await check('setup: create a user with a password with the CLI', () =>
  cli(['user', 'create', '--username', username, '--email', email, '--given-name', 'Rita',
    '--family-name', 'Party', '--password-stdin'], `${password}\n`));

// ---------------------------------------------------------------- discovery

const insecure = { execute: [client.allowInsecureRequests] };
const config = await check('discovery: openid-client accepts the metadata (issuer matches) for the web client, client_secret_basic', async () => {
  need(web);
  const c = await client.discovery(new URL(issuer), web.client_id, web.client_secret,
    client.ClientSecretBasic(web.client_secret), { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] });
  return c;
});
const serviceConfig = await check('discovery: for the service client, client_secret_post', async () => {
  need(service);
  return client.discovery(new URL(issuer), service.client_id, service.client_secret, undefined, insecure);
});
const meta = config?.serverMetadata();
const jwks = meta?.jwks_uri ? jose.createRemoteJWKSet(new URL(meta.jwks_uri)) : undefined;

await check('discovery: advertises S256 PKCE, the endpoints used here, iss in authorization responses and back-channel logout with sid', () => {
  need(meta);
  ok(meta.issuer === issuer, `issuer ${meta.issuer} != ${issuer}`);
  ok(meta.code_challenge_methods_supported?.includes('S256'), 'S256 not in code_challenge_methods_supported');
  for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'introspection_endpoint',
    'revocation_endpoint', 'end_session_endpoint']) {
    ok(typeof meta[k] === 'string' && meta[k].startsWith(issuer), `${k} missing or not under the issuer: ${meta[k]}`);
  }
  ok(meta.authorization_response_iss_parameter_supported === true, 'authorization_response_iss_parameter_supported is not true (RFC 9207 §3)');
  ok(meta.backchannel_logout_supported === true, 'backchannel_logout_supported is not true');
  ok(meta.backchannel_logout_session_supported === true, 'backchannel_logout_session_supported is not true');
  ok(meta.grant_types_supported?.includes('refresh_token') && meta.grant_types_supported?.includes('client_credentials'),
    `grant_types_supported: ${meta.grant_types_supported}`);
});

// ---------------------------------------------------------------- browser helpers

const browser = await check(`setup: launch headless Chromium (${browserPath}) through playwright-core`, () =>
  chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  }));
const page = await browser?.newPage();
page?.setDefaultTimeout(15000);

// What Chromium says about a navigation it refused (a CSP violation names the directive).
const refusals = [];
page?.on('console', (m) => {
  if (/Content Security Policy/i.test(m.text())) refusals.push(m.text().trim());
});

/** Clicks `button` and waits for the page it leads to; fails at once when Chromium aborts the navigation. */
async function submit(button) {
  refusals.length = 0;
  let onFailed;
  const failed = new Promise((_, reject) => {
    onFailed = (r) => {
      if (r.isNavigationRequest() && r.frame() === page.mainFrame()) {
        reject(new Error(`Chromium aborted the navigation (${r.method()} ${r.url()}: ${r.failure()?.errorText})`));
      }
    };
    page.on('requestfailed', onFailed);
  });
  failed.catch(() => {}); // raced below; may reject while the click is still pending
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
  navigated.catch(() => {});
  try {
    await Promise.race([page.locator(button).first().click(), failed]);
    await Promise.race([navigated.then(() => page.waitForLoadState('load')), failed]);
  } catch (e) {
    await page.waitForTimeout(100); // the console message may trail the failed request
    throw new Error(`${e.message.split('\n')[0]}${refusals.length ? `; console: ${refusals.join(' | ')}` : ''}`);
  } finally {
    page.off('requestfailed', onFailed);
  }
}

/**
 * Which page the browser shows: on the issuer, the sign-in step its form posts to (a step's
 * answer carries the next step's page), else the path; elsewhere the whole URL.
 */
async function stepOf() {
  const here = new URL(page.url());
  if (here.origin !== new URL(issuer).origin) return here.href;
  const action = await page.locator('form').first().getAttribute('action', { timeout: 1000 }).catch(() => null);
  return action?.startsWith('/signin/') ? action : here.pathname;
}

/**
 * Opens `url` (or stays on the current page when it is null) and signs in as needed until the
 * browser reaches `until`; answers consent with `decision`. Returns the final URL and the pages seen.
 */
async function browse(url, until, { decision = 'allow' } = {}) {
  need(page);
  const steps = [];
  if (url) await page.goto(url.href ?? url);
  for (let i = 0; i < 8; i++) {
    const here = new URL(page.url());
    if (here.href.startsWith(until)) return { url: here, steps };
    const path = await stepOf();
    steps.push(path);
    if (path === '/signin/identify') {
      await page.fill('input[name=username]', username);
      await submit('form button[type=submit]');
    } else if (path === '/signin/password') {
      await page.fill('input[name=password]', password);
      await submit('form button[type=submit]');
    } else if (path === '/signin/consent') {
      await submit(`button[name=decision][value=${decision}]`);
    } else {
      const text = (await page.locator('body').innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
      throw new Error(`unexpected page ${here.href}: ${text}`);
    }
  }
  throw new Error(`never reached ${until}; pages: ${steps.join(' -> ')}`);
}

/** A fresh authorization request (PKCE S256, state, nonce). */
async function authRequest(extra = {}, cfg = config) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, codeVerifier, state, nonce };
}

function leftHalfHash(value) {
  const digest = createHash('sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

// ---------------------------------------------------------------- code flow with PKCE, nonce and state

const first = await check('code flow: sign-in through Chromium (identify, password, consent) redirects back with code, state and iss', async () => {
  need(config, user);
  const req = await authRequest();
  const { url, steps } = await browse(req.url, redirectUri);
  ok(steps.join(' ') === '/signin/identify /signin/password /signin/consent', `pages seen: ${steps.join(' -> ')}`);
  ok(url.searchParams.get('code'), `no code in ${url.href}`);
  ok(url.searchParams.get('state') === req.state, `state ${url.searchParams.get('state')} != ${req.state}`);
  ok(url.searchParams.get('iss') === issuer, `iss parameter ${url.searchParams.get('iss')} != ${issuer} (RFC 9207)`);
  return { req, callback: url };
});

const tokens = await check('code flow: openid-client exchanges the code (PKCE verifier, expected nonce and state, ID token signature)', async () => {
  need(first);
  const t = await client.authorizationCodeGrant(config, first.callback, {
    pkceCodeVerifier: first.req.codeVerifier,
    expectedNonce: first.req.nonce,
    expectedState: first.req.state,
    idTokenExpected: true,
  });
  ok(t.token_type?.toLowerCase() === 'bearer', `token_type ${t.token_type}`);
  ok(t.access_token && t.refresh_token && t.id_token, `missing tokens: ${Object.keys(t)}`);
  return t;
});
const idClaims = tokens?.claims();

await check('code flow: ID token claims (iss, aud, azp, sub, nonce, sid, auth_time, at_hash, email)', async () => {
  need(tokens);
  const c = idClaims;
  ok(c.iss === issuer, `iss ${c.iss}`);
  ok(c.aud === web.client_id || (Array.isArray(c.aud) && c.aud.includes(web.client_id)), `aud ${c.aud}`);
  ok(c.azp === undefined || c.azp === web.client_id, `azp ${c.azp}`);
  ok(c.nonce === first.req.nonce, 'nonce not echoed');
  ok(c.sub === user.id, `sub ${c.sub} is not the user's id ${user.id}`);
  ok(typeof c.sid === 'string' && c.sid.length > 0, 'no sid (back-channel logout session support is advertised)');
  ok(typeof c.auth_time === 'number', 'no auth_time');
  ok(c.at_hash === leftHalfHash(tokens.access_token), `at_hash ${c.at_hash} does not match the access token`);
  ok(c.email === email, `email ${c.email} != ${email}`);
  const { protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, { issuer, audience: web.client_id });
  ok(protectedHeader.alg === 'RS256', `alg ${protectedHeader.alg}`);
});

await check('code flow: access token is an RFC 9068 JWT (typ at+jwt, signed by a JWKS key, sub, aud, client_id, scope, jti)', async () => {
  need(tokens);
  const { payload } = await jose.jwtVerify(tokens.access_token, jwks, { issuer, typ: 'at+jwt' });
  ok(payload.sub === idClaims.sub, `sub ${payload.sub} != ${idClaims.sub}`);
  ok(payload.client_id === web.client_id, `client_id ${payload.client_id}`);
  ok(typeof payload.aud === 'string' || (Array.isArray(payload.aud) && payload.aud.length > 0), `aud ${payload.aud} (RFC 9068 §2.2: required)`);
  ok(typeof payload.jti === 'string' && payload.exp > payload.iat, 'jti/exp/iat');
  ok(payload.scope?.split(' ').includes('openid'), `scope ${payload.scope}`);
});

await check('code flow: a wrong PKCE verifier is refused (invalid_grant)', async () => {
  need(config);
  const req = await authRequest();
  const { url } = await browse(req.url, redirectUri);
  await expectOAuthError('invalid_grant', () => client.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedNonce: req.nonce, expectedState: req.state }));
});

// ---------------------------------------------------------------- userinfo

await check('userinfo: openid-client fetches the claims for the ID token subject', async () => {
  need(tokens);
  const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  ok(info.sub === idClaims.sub, `sub ${info.sub}`);
  ok(info.email === email, `email ${info.email}`);
  ok(info.given_name === 'Rita' && info.family_name === 'Party', `name claims ${JSON.stringify(info)}`);
});

await check('userinfo: a forged access token gets 401 with WWW-Authenticate: Bearer error="invalid_token"', async () => {
  need(tokens);
  const [h, p] = tokens.access_token.split('.');
  const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
  try {
    await client.fetchUserInfo(config, forged, client.skipSubjectCheck);
  } catch (e) {
    ok(e instanceof client.WWWAuthenticateChallengeError, describe(e));
    ok(e.status === 401, `status ${e.status}`);
    ok(e.cause?.some((c) => c.scheme === 'bearer' && c.parameters.error === 'invalid_token'), JSON.stringify(e.cause));
    return;
  }
  throw new Error('a forged token was accepted');
});

// ---------------------------------------------------------------- introspection

await check('introspection: a live access token is active (sub, client_id, scope, token_type)', async () => {
  need(tokens);
  const r = await client.tokenIntrospection(config, tokens.access_token);
  ok(r.active === true, JSON.stringify(r));
  ok(r.sub === idClaims.sub && r.client_id === web.client_id, JSON.stringify(r));
  ok(r.scope?.split(' ').includes('openid'), `scope ${r.scope}`);
});

await check('introspection: an unknown token is {"active": false}', async () => {
  need(config);
  const r = await client.tokenIntrospection(config, randomBytes(32).toString('base64url'));
  ok(r.active === false, JSON.stringify(r));
});

// ---------------------------------------------------------------- refresh: rotation and reuse detection

const refreshed = await check('refresh: rotation gives a new access token and a new, different refresh token', async () => {
  need(tokens);
  const t = await client.refreshTokenGrant(config, tokens.refresh_token);
  ok(t.access_token && t.access_token !== tokens.access_token, 'no new access token');
  ok(t.refresh_token && t.refresh_token !== tokens.refresh_token, 'the refresh token was not rotated');
  if (t.id_token) ok(t.claims().sub === idClaims.sub, 'refreshed ID token has another sub');
  const info = await client.fetchUserInfo(config, t.access_token, idClaims.sub);
  ok(info.sub === idClaims.sub, 'userinfo with the refreshed access token');
  return t;
});

await check('refresh: reusing the rotated-out refresh token is refused (invalid_grant)', async () => {
  need(refreshed);
  await expectOAuthError('invalid_grant', () => client.refreshTokenGrant(config, tokens.refresh_token));
});

await check('refresh: after reuse the whole family is revoked (newest refresh token refused, its access token inactive)', async () => {
  need(refreshed);
  await expectOAuthError('invalid_grant', () => client.refreshTokenGrant(config, refreshed.refresh_token));
  const r = await client.tokenIntrospection(config, refreshed.access_token);
  ok(r.active === false, `access token from the revoked family still introspects as ${JSON.stringify(r)}`);
});

// ---------------------------------------------------------------- single sign-on without prompting

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

// ---------------------------------------------------------------- revocation

await check('revocation: a refresh token introspects active, then after revoking it the refresh grant and its access token are dead', async () => {
  need(silent);
  const before = await client.tokenIntrospection(config, silent.refresh_token);
  ok(before.active === true, `refresh token before revocation: ${JSON.stringify(before)}`);
  await client.tokenRevocation(config, silent.refresh_token, { token_type_hint: 'refresh_token' });
  const after = await client.tokenIntrospection(config, silent.refresh_token);
  ok(after.active === false, `refresh token after revocation: ${JSON.stringify(after)}`);
  await expectOAuthError('invalid_grant', () => client.refreshTokenGrant(config, silent.refresh_token));
  const at = await client.tokenIntrospection(config, silent.access_token);
  ok(at.active === false, `access token of the revoked grant: ${JSON.stringify(at)}`);
});

await check('revocation: revoking an access token makes it inactive at introspection and userinfo', async () => {
  need(tokens);
  const t = await silentTokens();
  ok((await client.tokenIntrospection(config, t.access_token)).active === true, 'not active before revocation');
  await client.tokenRevocation(config, t.access_token, { token_type_hint: 'access_token' });
  const r = await client.tokenIntrospection(config, t.access_token);
  ok(r.active === false, `after revocation: ${JSON.stringify(r)}`);
  try {
    await client.fetchUserInfo(config, t.access_token, idClaims.sub);
  } catch (e) {
    ok(e instanceof client.WWWAuthenticateChallengeError && e.status === 401, describe(e));
    return;
  }
  throw new Error('userinfo accepted a revoked access token');
});

await check('revocation: an unknown token is answered 200 (RFC 7009 §2.2)', async () => {
  need(config);
  await client.tokenRevocation(config, randomBytes(32).toString('base64url'));
});

// ---------------------------------------------------------------- client credentials

const cc = await check('client_credentials: an access token for the client itself, no refresh or ID token', async () => {
  need(serviceConfig);
  const t = await client.clientCredentialsGrant(serviceConfig);
  ok(t.access_token, 'no access token');
  ok(!t.refresh_token && !t.id_token, `unexpected tokens: ${Object.keys(t)}`);
  const { payload } = await jose.jwtVerify(t.access_token, jwks, { issuer, typ: 'at+jwt' });
  ok(payload.sub === service.client_id && payload.client_id === service.client_id, JSON.stringify(payload));
  return t;
});

await check('client_credentials: introspection says active, sub = client_id; after revocation inactive', async () => {
  need(cc);
  const r = await client.tokenIntrospection(serviceConfig, cc.access_token);
  ok(r.active === true && r.sub === service.client_id && r.client_id === service.client_id, JSON.stringify(r));
  await client.tokenRevocation(serviceConfig, cc.access_token);
  const after = await client.tokenIntrospection(serviceConfig, cc.access_token);
  ok(after.active === false, JSON.stringify(after));
});

await check('client_credentials: a user scope (openid) is refused (invalid_scope)', async () => {
  need(serviceConfig);
  await expectOAuthError('invalid_scope', () => client.clientCredentialsGrant(serviceConfig, { scope: 'openid' }));
});

await check('client_credentials: a wrong client secret is refused (invalid_client)', async () => {
  need(service, meta);
  const wrong = new client.Configuration(meta, service.client_id, 'not-the-secret');
  client.allowInsecureRequests(wrong);
  await expectOAuthError('invalid_client', () => client.clientCredentialsGrant(wrong));
});

// ---------------------------------------------------------------- private_key_jwt

const keyed = await check('private_key_jwt: a client registered with its public JWK Set gets no secret', async () => {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'rp-es256', alg: 'ES256', use: 'sig' };
  const file = join(mkdtempSync(join(tmpdir(), 'tessera-jwks-')), 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  const c = cli(['client', 'create', '--name', 'openid-client keyed service', '--grant', 'client_credentials', '--jwks', file]);
  ok(c.client_id && c.client_secret === null && c.token_endpoint_auth_method === 'private_key_jwt', JSON.stringify(c));
  return { ...c, privateKey };
});
const keyedConfig = await check('private_key_jwt: discovery advertises it; openid-client signs its assertions', async () => {
  need(keyed, meta);
  ok(meta.token_endpoint_auth_methods_supported?.includes('private_key_jwt'), JSON.stringify(meta.token_endpoint_auth_methods_supported));
  ok(meta.token_endpoint_auth_signing_alg_values_supported?.includes('ES256'), 'ES256 not advertised for assertions');
  return client.discovery(new URL(issuer), keyed.client_id, undefined,
    client.PrivateKeyJwt({ key: keyed.privateKey, kid: 'rp-es256' }), insecure);
});
await check('private_key_jwt: client_credentials, then introspection, each with a fresh assertion', async () => {
  need(keyedConfig);
  const t = await client.clientCredentialsGrant(keyedConfig);
  const { payload } = await jose.jwtVerify(t.access_token, jwks, { issuer, typ: 'at+jwt' });
  ok(payload.sub === keyed.client_id, JSON.stringify(payload));
  const r = await client.tokenIntrospection(keyedConfig, t.access_token);
  ok(r.active === true && r.client_id === keyed.client_id, JSON.stringify(r));
});
await check('private_key_jwt: an assertion signed by another key is refused (invalid_client)', async () => {
  need(keyed, meta);
  const { privateKey } = await jose.generateKeyPair('ES256');
  const wrong = new client.Configuration(meta, keyed.client_id, undefined,
    client.PrivateKeyJwt({ key: privateKey, kid: 'rp-es256' }));
  client.allowInsecureRequests(wrong);
  await expectOAuthError('invalid_client', () => client.clientCredentialsGrant(wrong));
});

// ---------------------------------------------------------------- RP-initiated logout and back-channel logout

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

function decodeHeaderAlg(token) {
  return jose.decodeProtectedHeader(token).alg;
}

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

// ---------------------------------------------------------------- done

await browser?.close();
rp.close();
const failed = results.filter((r) => !r).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
