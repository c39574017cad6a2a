// Revocation (RFC 7009) of refresh and access tokens, and of unknown tokens.
import * as client from 'openid-client';
import { randomBytes } from 'node:crypto';
import { check, describe, expectOAuthError, need, ok } from './report.mjs';

export async function run({ config, tokens, idClaims, silent, silentTokens }) {
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
}
