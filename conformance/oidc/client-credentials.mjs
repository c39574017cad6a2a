// client_credentials with client_secret_post, and with private_key_jwt for a client
// registered with its public JWK Set.
import * as client from 'openid-client';
import * as jose from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insecure } from './discovery.mjs';
import { cli } from './fixtures.mjs';
import { check, expectOAuthError, need, ok } from './report.mjs';

export async function run({ bin, issuer, service, serviceConfig, meta, jwks }) {
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

  // --- private_key_jwt

  const keyed = await check('private_key_jwt: a client registered with its public JWK Set gets no secret', async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'rp-es256', alg: 'ES256', use: 'sig' };
    const file = join(mkdtempSync(join(tmpdir(), 'tessera-jwks-')), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [jwk] }));
    const c = cli(bin, ['client', 'create', '--name', 'openid-client keyed service', '--grant', 'client_credentials', '--jwks', file]);
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
}
