// Refresh: rotation, and reuse detection that revokes the whole family.
import * as client from 'openid-client';
import { check, expectOAuthError, need, ok } from './report.mjs';

export async function run({ config, tokens, idClaims }) {
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
}
