// The code flow with PKCE, nonce and state through Chromium; then userinfo and
// introspection with its tokens.
import * as client from 'openid-client';
import * as jose from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import { check, describe, expectOAuthError, need, ok } from './report.mjs';

function leftHalfHash(value) {
  const digest = createHash('sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export async function run({ issuer, redirectUri, email, web, user, config, jwks, browse, authRequest }) {
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

  // --- userinfo

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

  // --- introspection

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
  return { first, tokens, idClaims };
}
