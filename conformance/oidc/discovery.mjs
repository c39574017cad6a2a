// Discovery: openid-client reads the metadata for the web and the service client, and the
// metadata advertises what the later checks rely on.
import * as client from 'openid-client';
import * as jose from 'jose';
import { check, need, ok } from './report.mjs';

/** For openid-client against the plain-http issuer. */
export const insecure = { execute: [client.allowInsecureRequests] };

export async function run({ issuer, web, service }) {
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
  return { config, serviceConfig, meta, jwks };
}
