// Fixtures through the admin CLI (same environment as the server): the clients and the user.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { check, ok } from './report.mjs';

/** `tessera ARGS` with `input` on stdin; its JSON. */
export function cli(bin, args, input) {
  const out = execFileSync(bin, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

export async function run({ bin, redirectUri, postLogoutUri, backchannelUri }) {
  const username = `rp-${randomBytes(4).toString('hex')}`;
  const email = `${username}@conformance.example`;
  const password = `Lantern-${randomBytes(6).toString('hex')}-Orchard`;

  const web = await check('setup: register a confidential client (consent, post-logout and back-channel URIs) with the CLI', () => {
    const c = cli(bin, ['client', 'create', '--name', 'openid-client conformance', '--redirect-uri', redirectUri,
      '--post-logout-uri', postLogoutUri, '--backchannel-logout-uri', backchannelUri, '--consent']);
    ok(c.client_id && c.client_secret, `no client_id/client_secret in ${JSON.stringify(c)}`);
    return c;
  });
  const other = await check('setup: register a second confidential client that asks for consent', () => {
    const c = cli(bin, ['client', 'create', '--name', 'openid-client other app', '--redirect-uri', redirectUri, '--consent']);
    ok(c.client_id && c.client_secret, `no client_id/client_secret in ${JSON.stringify(c)}`);
    return c;
  });
  const service = await check('setup: register a client_credentials client with the CLI', () => {
    const c = cli(bin, ['client', 'create', '--name', 'openid-client service', '--grant', 'client_credentials']);
    ok(c.client_id && c.client_secret, `no client_id/client_secret in ${JSON.stringify(c)}`);
    return c;
  });
  const user = await check('setup: create a user with a password with the CLI', () =>
    cli(bin, ['user', 'create', '--username', username, '--email', email, '--given-name', 'Rita',
      '--family-name', 'Party', '--password-stdin'], `${password}\n`));
  return { username, email, password, web, other, service, user };
}
