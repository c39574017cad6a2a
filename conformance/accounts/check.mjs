// Account security end to end, as staff meet it: headless Chromium on a live Tessera
// whose mail goes to a real SMTP server on loopback (smtp-server, parsed with
// mailparser), every link taken from the message received. Invite acceptance; forgot
// password (a reused and a voided link refused); a temporary password with its forced
// change; a group requiring 2FA forcing set-up, then a code and a recovery code;
// lockout and unlock; sign out everywhere ending a second browser's session and its
// refresh token; passkeys (Chromium's virtual authenticator over CDP) added on the
// account page, then signing in alone and as the second factor. Every page is saved at 1280 and 390 px wide into
// conformance/.work/screenshots.
//
// Usage (conformance/run does this): TESSERA_BIN=path/to/tessera node accounts/check.mjs
// Prints one PASS/FAIL line per check; exits 1 when any check fails.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, ok, tally } from '../oidc/report.mjs';
import { launchChromium, listen, screenshots, startSmtp, startTessera, totp, waitFor } from '../live.mjs';

const bin = process.env.TESSERA_BIN;
if (!bin) {
  console.error('accounts/check.mjs: set TESSERA_BIN');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, '..', '.work', 'screenshots');
const shoot = screenshots(shots);

// --- mail: a real SMTP server on loopback --------------------------------------------
const smtp = await startSmtp();
const { inbox, mailTo } = smtp;

// --- an application's callback: answers the browser, keeps the query -----------------
const arrivals = [];
const rp = createServer((req, res) => {
  arrivals.push(new URL(req.url, 'http://localhost'));
  res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>App</title><h1>Signed in to the app</h1>');
});
const rpPort = await listen(rp);
const redirectUri = `http://localhost:${rpPort}/callback`;

// --- Tessera, with its own data and the SMTP server above -----------------------------
const tessera = await startTessera(bin, { name: 'accounts', smtpPort: smtp.port });
const { issuer, cli, tryCli } = tessera;

const app = cli(['client', 'create', '--name', 'Ward rota', '--redirect-uri', redirectUri, '--public']);
const browser = await launchChromium();

// --- helpers ---------------------------------------------------------------------------
function linkIn(mail, path) {
  return tessera.linkIn(mail, path);
}
async function freshPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return page;
}
function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
/** Opens the app's sign-in; returns the PKCE verifier and state to finish it with. */
async function startSignIn(page, scope = 'openid') {
  const p = pkce();
  const state = randomBytes(8).toString('hex');
  const q = new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: redirectUri, scope,
    state, code_challenge: p.challenge, code_challenge_method: 'S256' });
  await page.goto(`${issuer}/authorize?${q}`);
  return { ...p, state };
}
async function identifyAndPassword(page, username, password, name) {
  await page.fill('#username', username);
  await page.click('button[type=submit]');
  await page.fill('#password', password);
  if (name) await shoot(page, name);
  await page.click('button[type=submit]');
  await page.waitForLoadState('load');
}
function heading(page) {
  return page.locator('h1').first().textContent();
}
/** The app received a code for this sign-in: exchanged for tokens. */
async function tokensFor(page, started) {
  await waitFor('the app callback', () => page.url().startsWith(redirectUri));
  const back = new URL(page.url());
  ok(back.searchParams.get('state') === started.state, `state came back as ${back.searchParams.get('state')}`);
  const code = back.searchParams.get('code');
  ok(code, `no code: ${back.search}`);
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: app.client_id,
      code_verifier: started.verifier }),
  });
  const tokens = await res.json();
  ok(res.status === 200, `token endpoint: ${res.status} ${JSON.stringify(tokens)}`);
  return tokens;
}
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}
async function createUser(username, args = [], password) {
  const extra = password ? ['--password-stdin'] : args;
  return cli(['user', 'create', '--username', username, '--email', `${username}@clinic.example`, '--given-name', 'Camille', ...extra],
    password ? `${password}\n` : undefined);
}

// --- the flows --------------------------------------------------------------------------
const PASSWORD = 'copper meadow violin tundra';
const NEW_PASSWORD = 'saffron glacier pencil orbit';

await check('invite: the mail arrives, its link sets the password and lands on the account page', async () => {
  createUser('nurse.camille');
  const mail = await mailTo('nurse.camille@clinic.example', 'choose your password');
  ok(mail.text.includes('Northside Clinics') && mail.html.includes('<a href='), 'a text and an HTML part naming the organisation');
  const page = await freshPage();
  await page.goto(linkIn(mail, '/invite?token='));
  await shoot(page, 'invite-choose-password');
  await page.fill('#password', PASSWORD);
  await page.fill('#password_confirm', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/account/);
  await shoot(page, 'invite-account-welcome');
  ok((await page.content()).includes('Your password is set'), 'the welcome notice');
  await page.context().close();
});

await check('forgot password: the link resets it once; a reused and a voided link say so', async () => {
  const page = await freshPage();
  await startSignIn(page);
  await shoot(page, 'signin-identify');
  await page.click('text=Forgot your password?');
  await shoot(page, 'forgot');
  await page.fill('#username', 'nurse.camille');
  await page.click('button[type=submit]');
  await shoot(page, 'forgot-sent');
  const first = linkIn(await mailTo('nurse.camille@clinic.example', 'choose a new password'), '/reset?token=');
  // An admin sends another (past the two minutes between a person's own requests): the first is void.
  const sent = cli(['user', 'reset-password', 'nurse.camille', '--link']);
  ok(sent.reset_link?.to === 'nurse.camille@clinic.example', JSON.stringify(sent));
  const second = await waitFor('the second link', () => {
    const links = inbox.filter((m) => m.subject.includes('choose a new password')).map((m) => linkIn(m, '/reset?token='));
    return links.length > 1 && links[links.length - 1];
  });
  await page.goto(first);
  await shoot(page, 'reset-voided');
  ok((await heading(page)).includes('no longer works'), 'the voided link is refused');
  await page.goto(second);
  await shoot(page, 'reset-choose-password');
  await page.fill('#password', NEW_PASSWORD);
  await page.fill('#password_confirm', NEW_PASSWORD);
  await page.click('button[type=submit]');
  await shoot(page, 'reset-done');
  ok((await heading(page)).includes('changed'), 'the password is changed');
  await mailTo('nurse.camille@clinic.example', 'your password was changed');
  await page.goto(second);
  ok((await heading(page)).includes('no longer works'), 'the used link is refused');
  const started = await startSignIn(page);
  await identifyAndPassword(page, 'nurse.camille', NEW_PASSWORD);
  await tokensFor(page, started);
  await page.context().close();
});

await check('temporary password: mailed, it leads to the forced change, then to the app', async () => {
  createUser('porter.sam', [], PASSWORD);
  const t = cli(['user', 'reset-password', 'porter.sam', '--temporary', '--mail']);
  const mail = await mailTo('porter.sam@clinic.example', 'sign-in details');
  ok(mail.text.includes(t.temporary_password), 'the access information carries the temporary password');
  const page = await freshPage();
  const started = await startSignIn(page);
  await identifyAndPassword(page, 'porter.sam', t.temporary_password);
  await shoot(page, 'signin-change-password');
  ok(page.url().includes('/signin/') && (await heading(page)).includes('new password'), `at ${page.url()}`);
  await page.fill('#password', NEW_PASSWORD);
  await page.fill('#password_confirm', NEW_PASSWORD);
  await page.click('button[type=submit]');
  await tokensFor(page, started);
  await page.context().close();
});

let totpKey;
let recoveryCodes;
await check('2FA: a group requiring it has its member set up an app at sign-in; the tokens say mfa', async () => {
  cli(['group', 'create', 'Ward 4', '--require-2fa']);
  cli(['group', 'add-member', 'Ward 4', 'nurse.camille']);
  const page = await freshPage();
  const started = await startSignIn(page);
  await identifyAndPassword(page, 'nurse.camille', NEW_PASSWORD);
  await shoot(page, 'signin-enrol-totp');
  totpKey = (await page.locator('code.key').textContent()).trim();
  ok(await page.locator('.qr svg').count() === 1, 'a QR code');
  await page.fill('#code', totp(totpKey));
  await page.click('button[type=submit]');
  await shoot(page, 'signin-recovery-codes');
  recoveryCodes = await page.locator('ul.codes code').allTextContents();
  ok(recoveryCodes.length === 10, `${recoveryCodes.length} recovery codes`);
  await page.click('button[type=submit]');
  const tokens = await tokensFor(page, started);
  const id = claims(tokens.id_token);
  ok(id.acr === 'mfa' && JSON.stringify(id.amr) === '["pwd","otp","mfa"]', `acr ${id.acr}, amr ${JSON.stringify(id.amr)}`);
  await mailTo('nurse.camille@clinic.example', 'a new way to sign in');
  await page.context().close();
});

await check('2FA: the next sign-in asks for a code, computed here from the key', async () => {
  const page = await freshPage();
  const started = await startSignIn(page);
  await identifyAndPassword(page, 'nurse.camille', NEW_PASSWORD);
  await shoot(page, 'signin-second-factor');
  await page.fill('#code', totp(totpKey, 1));
  await page.click('button[type=submit]');
  await tokensFor(page, started);
  await page.context().close();
});

await check('2FA: a recovery code admits once and says how many remain', async () => {
  const page = await freshPage();
  const started = await startSignIn(page);
  await identifyAndPassword(page, 'nurse.camille', NEW_PASSWORD);
  await page.click('text=Lost your phone?');
  await shoot(page, 'signin-recovery-code');
  await page.fill('#code', recoveryCodes[0]);
  await page.click('button[type=submit]');
  await shoot(page, 'signin-recovery-code-used');
  ok((await page.content()).includes('9 unused recovery codes'), 'nine left');
  await page.click('button[type=submit]');
  await tokensFor(page, started);
  await page.context().close();
});

await check('lockout: 5 wrong passwords lock unknown browsers; the page tells no stranger; unlock ends it', async () => {
  createUser('clerk.ana', [], PASSWORD);
  const page = await freshPage();
  for (let i = 0; i < 5; i++) {
    await startSignIn(page);
    await identifyAndPassword(page, 'clerk.ana', 'not the password at all');
  }
  await shoot(page, 'signin-wrong-password');
  const listed = cli(['user', 'list']).users.find((u) => u.username === 'clerk.ana');
  ok(listed.state === 'locked', `state ${listed.state}`);
  await mailTo('clerk.ana@clinic.example', 'paused');
  await startSignIn(page);
  await identifyAndPassword(page, 'clerk.ana', PASSWORD);
  ok((await page.content()).includes('Wrong username or password.'), 'the right password is refused like a wrong one');
  cli(['user', 'unlock', 'clerk.ana']);
  const started = await startSignIn(page);
  await identifyAndPassword(page, 'clerk.ana', PASSWORD);
  await tokensFor(page, started);
  await page.context().close();
});

await check('sign out everywhere: a second browser loses its session and its refresh token', async () => {
  const phone = await freshPage();
  let started = await startSignIn(phone, 'openid offline_access');
  await identifyAndPassword(phone, 'clerk.ana', PASSWORD);
  const phoneTokens = await tokensFor(phone, started);
  ok(phoneTokens.refresh_token, 'a refresh token');
  const desk = await freshPage();
  started = await startSignIn(desk);
  await identifyAndPassword(desk, 'clerk.ana', PASSWORD);
  await tokensFor(desk, started);
  await desk.goto(`${issuer}/account`);
  await shoot(desk, 'account');
  await desk.click('text=Sign out everywhere');
  await shoot(desk, 'account-signed-out-everywhere');
  const refresh = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: phoneTokens.refresh_token, client_id: app.client_id }),
  });
  const answer = await refresh.json();
  ok(refresh.status === 400 && answer.error === 'invalid_grant', `refresh: ${refresh.status} ${JSON.stringify(answer)}`);
  await phone.goto(`${issuer}/account`);
  ok((await heading(phone)).includes('not signed in'), 'the phone is signed out');
  await phone.context().close();
  await desk.context().close();
});

await check('passkeys: added on the account page, then signing in alone and as the second factor', async () => {
  createUser('doctor.lee', [], PASSWORD);
  const page = await freshPage();
  // Chromium's virtual authenticator, as a phone or laptop with a screen lock would be.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });
  let started = await startSignIn(page);
  await identifyAndPassword(page, 'doctor.lee', PASSWORD);
  await tokensFor(page, started);
  await page.goto(`${issuer}/account`);
  ok(await page.locator('form[data-passkey="create"]').isVisible(), 'the script shows the passkey form');
  await page.fill('#passkey_name', 'Ward PC');
  await page.fill('#current_password_pk', 'not my password');
  await page.click('button:has-text("Add a passkey")');
  await page.waitForSelector('[data-passkey-error]:not([hidden])');
  ok((await page.locator('[data-passkey-error]').textContent()).includes('not your current password'), 'a wrong password makes no passkey');
  await page.fill('#current_password_pk', PASSWORD);
  await shoot(page, 'account-add-passkey');
  const said = [];
  page.on('console', (m) => said.push(m.text()));
  page.on('pageerror', (e) => said.push(String(e)));
  await page.click('button:has-text("Add a passkey")');
  await page.waitForURL(/done=passkey-added/).catch(async (e) => {
    throw new Error(`page said ${JSON.stringify(said)}: ${await page.locator("[data-passkey-error]").textContent()}; ${e.message}`);
  });
  await shoot(page, 'account-passkey-added');
  ok((await page.content()).includes('Ward PC'), 'the passkey is listed by its name');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  ok(credentials.length === 1 && credentials[0].isResidentCredential, 'one discoverable credential on the authenticator');
  await mailTo('doctor.lee@clinic.example', 'a new way to sign in');

  await page.click('text=Sign out of this browser');
  started = await startSignIn(page);
  await shoot(page, 'signin-identify-passkey');
  await page.click('button:has-text("Sign in with a passkey")');
  let id = claims((await tokensFor(page, started)).id_token);
  ok(id.acr === 'mfa' && id.amr.includes('mfa') && !id.amr.includes('pwd'), `passwordless: amr ${JSON.stringify(id.amr)}`);

  await page.goto(`${issuer}/account`);
  await page.click('text=Sign out of this browser');
  started = await startSignIn(page);
  await identifyAndPassword(page, 'doctor.lee', PASSWORD);
  ok((await heading(page)).includes('Use your passkey'), `second factor: ${await heading(page)}`);
  await shoot(page, 'signin-second-factor-passkey');
  await page.click('button:has-text("Use a passkey")');
  id = claims((await tokensFor(page, started)).id_token);
  ok(id.amr[0] === 'pwd' && id.amr.includes('mfa') && id.amr.length === 3, `after the password: amr ${JSON.stringify(id.amr)}`);

  // Removed, it signs no one in: the browser offers it, the server refuses it.
  await page.goto(`${issuer}/account`);
  await page.click('ul.passkeys button:has-text("Remove")');
  await page.waitForURL(/done=passkey-removed/);
  await page.click('text=Sign out of this browser');
  await startSignIn(page);
  await page.click('button:has-text("Sign in with a passkey")');
  await page.waitForSelector('.error');
  await shoot(page, 'signin-passkey-refused');
  ok((await page.content()).includes('was not accepted'), 'a removed passkey is refused');
  await page.context().close();
});

await check('refusals: mail goes to no disabled user, with the reason', async () => {
  cli(['user', 'disable', 'porter.sam']);
  const refused = tryCli(['user', 'reset-password', 'porter.sam', '--link']);
  ok(refused.failed?.includes('disabled'), JSON.stringify(refused));
});

await browser.close();
tessera.stop();
smtp.close();
rp.close();
const { passed, failed } = tally();
console.log(`${passed} passed, ${failed} failed; screenshots in ${shots}`);
if (failed) console.log(tessera.log().split('\n').slice(-20).join('\n'));
process.exit(failed ? 1 : 0);
