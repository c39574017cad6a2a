// panva's oidc-provider, set up as the yardstick for `cargo bench --bench oidc`.
//
// One confidential client (client_secret_basic) with only the client_credentials grant.
// Its access tokens are JWTs (RFC 9068, header typ "at+jwt") signed with ES256, issued
// for a default resource through the resourceIndicators feature: the same work Tessera
// does per token. (oidc-provider's default opaque tokens are kept only in its in-memory
// adapter, so they would not be a fair comparison.)
//
//   PORT=18100 node server.mjs        # then POST /token with grant_type=client_credentials
//
// Environment: PORT (default 18100), HOST (default 127.0.0.1), CLIENT_ID, CLIENT_SECRET.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 18100);
const host = process.env.HOST || '127.0.0.1';
const issuer = `http://${host}:${port}`;
const clientId = process.env.CLIENT_ID || 'bench';
const clientSecret = process.env.CLIENT_SECRET || 'bench-secret-0123456789abcdef0123456789abcdef';
const resource = 'https://api.bench.example';

// A fresh P-256 key per run, as a private JWK.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const es256 = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: randomUUID() };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [es256] },
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  cookies: { keys: [randomUUID()] },
  ttl: { ClientCredentials: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Every client_credentials request without a `resource` gets this one.
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});

provider.on('server_error', (_ctx, err) => console.error('server_error', err));

const server = provider.listen(port, host, () => {
  console.log(`oidc-provider ${issuer} ready (node ${process.version})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
