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
//
// The checks live in the modules beside this file, one per topic, and run in this order;
// each takes what the earlier ones produced (the clients, the tokens, the browser session)
// from `ctx` and adds what it produces.
import { setDefaultResultOrder } from 'node:dns';
import * as browser from './browser.mjs';
import * as clientCredentials from './client-credentials.mjs';
import * as codeFlow from './code-flow.mjs';
import * as discovery from './discovery.mjs';
import * as fixtures from './fixtures.mjs';
import * as logout from './logout.mjs';
import * as refresh from './refresh.mjs';
import * as revocation from './revocation.mjs';
import { tally } from './report.mjs';
import { startRp } from './rp.mjs';
import * as sso from './sso.mjs';

setDefaultResultOrder('ipv4first');

const bin = process.env.TESSERA_BIN;
const issuer = process.env.TESSERA_ISSUER;
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!bin || !issuer) {
  console.error('oidc/check.mjs: set TESSERA_BIN and TESSERA_ISSUER');
  process.exit(2);
}

const ctx = { bin, issuer, browserPath, ...(await startRp()) };
Object.assign(ctx, await fixtures.run(ctx));
Object.assign(ctx, await discovery.run(ctx));
Object.assign(ctx, await browser.launch(ctx));
Object.assign(ctx, await codeFlow.run(ctx));
await refresh.run(ctx);
Object.assign(ctx, sso.silently(ctx));
Object.assign(ctx, await sso.run(ctx));
await revocation.run(ctx);
await clientCredentials.run(ctx);
await logout.run(ctx);

await ctx.browser?.close();
ctx.rp.close();
const { passed, failed } = tally();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
