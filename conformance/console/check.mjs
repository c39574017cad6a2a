// The admin console end to end, as a clinic's admins meet it: headless Chromium on a
// live Tessera whose mail goes to a real SMTP server on loopback. The admin signs in
// through the sign-in pages (setting up the required authenticator app), finds users,
// creates one by invite (the mail arrives; its link works) and one with a temporary
// password shown once (it leads to the forced change), sends a reset link, disables,
// restores, signs out everywhere, resets 2FA and deletes. A group admin sees only its
// groups' users and is refused another group's user by URL, a group it does not hold
// and the admin role, each with 403, and every organisation page (apps, SCIM clients,
// keys, the audit log, settings). The admin also edits a profile, groups, role and
// the end of access, registers an app and rotates its secret, registers a SCIM client
// whose failed request its log marks, rotates keys, filters and exports the audit
// log, and changes settings with a test mail answered by the SMTP server. Every page
// is saved at 1280 and 390 px into conformance/.work/screenshots/console; the user
// list must fit a phone.
//
// Usage (conformance/run does this): TESSERA_BIN=path/to/tessera node console/check.mjs
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, ok, tally } from '../oidc/report.mjs';
import { launchChromium, screenshots, startSmtp, startTessera, totp } from '../live.mjs';

const bin = process.env.TESSERA_BIN;
if (!bin) {
  console.error('console/check.mjs: set TESSERA_BIN');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, '..', '.work', 'screenshots', 'console');
const shoot = screenshots(shots);
const smtp = await startSmtp();
const tessera = await startTessera(bin, { name: 'console', smtpPort: smtp.port });
const { issuer, cli } = tessera;
const browser = await launchChromium();

const PASSWORD = 'copper meadow violin tundra';
const NEW_PASSWORD = 'saffron glacier pencil orbit';
const person = (username, given, family, extra = []) =>
  cli(['user', 'create', '--username', username, '--email', `${username}@clinic.example`, '--given-name', given,
    '--family-name', family, '--password-stdin', ...extra], `${PASSWORD}\n`);

const boss = person('olu.admin', 'Olu', 'Adeyemi', ['--admin']);
cli(['group', 'create', 'North Clinic']);
cli(['group', 'create', 'South Clinic']);
const lead = person('gale.lead', 'Gale', 'Moreno');
cli(['group', 'add-member', 'North Clinic', 'gale.lead', '--admin']);
const nora = person('nora.north', 'Nora', 'Lindqvist');
cli(['group', 'add-member', 'North Clinic', 'nora.north']);
const sam = person('sam.south', 'Sam', 'Okonkwo');
cli(['group', 'add-member', 'South Clinic', 'sam.south']);
for (let i = 0; i < 8; i++) person(`locum${i}`, 'Locum', `Doctor ${i}`);

async function freshPage() {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15000);
  return page;
}
const heading = (page) => page.locator('h1').first().textContent();

/** Signs in to the console through the sign-in pages, setting up the app the role requires. */
async function signIn(page, username, name) {
  await page.goto(`${issuer}/admin`);
  await page.fill('#username', username);
  await page.click('button[type=submit]');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForLoadState('load');
  if (await page.locator('code.key').count()) {
    if (name) await shoot(page, `${name}-enrol`);
    const key = (await page.locator('code.key').textContent()).trim();
    await page.fill('#code', totp(key));
    await page.click('button[type=submit]');
    await page.click('button[type=submit]'); // past the recovery codes
  }
  await page.waitForURL(/\/admin\/users$/);
}
async function fitsPhone(page) {
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize({ width: 1280, height: 800 });
  return wide <= 390;
}
async function openUser(page, username) {
  await page.goto(`${issuer}/admin/users?q=${encodeURIComponent(username)}`);
  await page.click(`ul.user-list a:has-text("${username}")`);
  await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}/);
}
async function act(page, label) {
  await page.click(`.actions button:has-text("${label}")`);
  await page.waitForLoadState('load');
}

const admin = await freshPage();
await check('admin: signs in through the sign-in pages with the required app, lands on the user list', async () => {
  await signIn(admin, 'olu.admin', 'admin-signin');
  ok((await heading(admin)) === 'Users', `heading ${await heading(admin)}`);
  ok((await admin.content()).includes('1–12 of 12 users'), 'every user is listed');
  await shoot(admin, 'users');
  ok(await fitsPhone(admin), 'the user list fits a phone without sideways scrolling');
});

await check('admin: search by name and filter by state and group', async () => {
  await admin.fill('#q', 'lindqvist');
  await admin.click('form.filters button');
  ok((await admin.locator('ul.user-list li').count()) === 1, 'one user found by family name');
  await admin.goto(`${issuer}/admin/users`);
  await admin.selectOption('#group', { label: 'North Clinic' });
  await admin.selectOption('#state', 'active');
  await admin.click('form.filters button');
  ok((await admin.locator('ul.user-list li').count()) === 2, 'North Clinic has two active users');
  await shoot(admin, 'users-filtered');
});

await check('admin: a user made by invite gets the mail; its link works; the page shows it accepted', async () => {
  await admin.goto(`${issuer}/admin/users/new`);
  await shoot(admin, 'new-user');
  await admin.fill('#username', 'ines.new');
  await admin.fill('#email', 'ines.new@clinic.example');
  await admin.fill('#given_name', 'Ines');
  await admin.fill('#family_name', 'Navarro');
  await admin.check('input[name=group] >> nth=0');
  await admin.click('button:has-text("Create user")');
  await admin.waitForURL(/done=created/);
  const mail = await smtp.mailTo('ines.new@clinic.example', 'account is ready');
  const person = await freshPage();
  await person.goto(tessera.linkIn(mail, '/invite?token='));
  await person.fill('#password', NEW_PASSWORD);
  await person.fill('#password_confirm', NEW_PASSWORD);
  await person.click('button[type=submit]');
  await person.waitForURL(/\/account/);
  await person.context().close();
  await admin.reload();
  const page = await admin.content();
  ok(page.includes('link used'), 'the mail history shows the link used');
  ok(page.includes('Created by olu.admin'), 'where the user came from');
  await shoot(admin, 'user-invited');
});

await check('admin: a temporary password is shown once and forces a change at first sign-in', async () => {
  await admin.goto(`${issuer}/admin/users/new`);
  await admin.fill('#username', 'theo.temp');
  await admin.check('input[value=temporary]');
  await admin.click('button:has-text("Create user")');
  const temporary = (await admin.locator('#temporary-password').textContent()).trim();
  ok(await admin.locator('button[data-copy]').isVisible(), 'a copy button');
  await shoot(admin, 'temporary-password');
  ok(await fitsPhone(admin), 'the password page fits a phone');
  const person = await freshPage();
  await person.goto(`${issuer}/account`);
  await person.goto(`${issuer}/admin`);
  await person.fill('#username', 'theo.temp');
  await person.click('button[type=submit]');
  await person.fill('#password', temporary);
  await person.click('button[type=submit]');
  await person.waitForSelector('#password_confirm');
  ok((await person.content()).includes('new password'), 'the forced change');
  await person.context().close();
});

await check('admin: reset link mailed, disable and restore, sign out everywhere, 2FA reset, delete', async () => {
  await openUser(admin, 'nora.north');
  await act(admin, 'Send reset link');
  await smtp.mailTo('nora.north@clinic.example', 'new password');
  await admin.reload();
  ok((await admin.content()).includes('Sent'), 'the reset mail shows as sent');
  await shoot(admin, 'user');
  ok(await fitsPhone(admin), "a user's page fits a phone");
  await act(admin, 'Disable');
  ok((await admin.content()).includes('Disabled: every sign-in ended'), 'disabled');
  ok((await admin.content()).includes('mail goes only to active users'), 'the page says why no mail can go');
  await shoot(admin, 'user-disabled');
  await act(admin, 'Restore');
  await act(admin, 'Sign out everywhere');
  ok((await admin.content()).includes('Signed out everywhere'), 'signed out everywhere');
  await admin.click('summary:has-text("Reset two-step sign-in")');
  await admin.click('button:has-text("Reset two-step sign-in")');
  await admin.waitForURL(/done=2fa-reset/);
  await openUser(admin, 'locum7');
  await admin.click('summary:has-text("Delete this user")');
  await admin.fill('#confirm-delete', 'locum');
  await admin.click('button:has-text("Delete for good")');
  ok((await admin.content()).includes('type their username'), 'a wrong name deletes nothing');
  await admin.goBack();
  await admin.click('summary:has-text("Delete this user")');
  await admin.fill('#confirm-delete', 'locum7');
  await shoot(admin, 'delete-confirm');
  await admin.click('button:has-text("Delete for good")');
  ok((await admin.content()).includes('free to use again'), 'deleted');
  cli(['user', 'create', '--username', 'locum7', '--email', 'locum7@clinic.example']);
});

await check("admin: edits a profile, groups, role and the end of access from a user's page", async () => {
  await openUser(admin, 'nora.north');
  await admin.click('summary:has-text("Edit profile")');
  await admin.fill('#p-title', 'Ward sister');
  await admin.fill('#p-department', 'North ward');
  await admin.click('button:has-text("Save the profile")');
  await admin.waitForURL(/done=profile/);
  ok((await admin.content()).includes('Ward sister'), 'the new title shows');
  await admin.click('summary:has-text("Change groups")');
  await admin.check('label.check:has-text("South Clinic") input');
  await admin.click('button:has-text("Save groups")');
  await admin.waitForURL(/done=groups/);
  ok((await admin.locator('dl.profile').textContent()).includes('South Clinic'), 'the group is added');
  await admin.click('summary:has-text("Set an end of access")');
  await admin.fill('#access_until', '2099-06-30T18:00');
  await admin.click('button:has-text("Save the end of access")');
  await admin.waitForURL(/done=access-until/);
  ok((await admin.content()).includes('30 Jun 2099, 18:00 UTC (in '), 'the end of access shows coming');
  await openUser(admin, 'locum3');
  await admin.click('summary:has-text("Change role")');
  await admin.selectOption('#role', 'admin');
  await admin.click('button:has-text("Save the role")');
  await admin.waitForURL(/done=role/);
  ok((await admin.content()).includes('Admin (manages everyone)'), 'the role is changed');
  await openUser(admin, 'nora.north');
  await admin.locator('details.sensitive').first().evaluate((d) => { d.open = true; });
  await shoot(admin, 'user-edit');
});

await check('admin: registers an app (secret shown once), edits its URIs and groups, rotates the secret', async () => {
  await admin.goto(`${issuer}/admin/clients`);
  await shoot(admin, 'apps-empty');
  await admin.fill('#name', 'Rota');
  await admin.fill('#redirect_uris', 'https://rota.clinic.example/callback');
  await admin.click('button:has-text("Register the app")');
  const secret = (await admin.locator('#secret').textContent()).trim();
  ok(secret.length >= 40, 'a long secret');
  await shoot(admin, 'app-secret');
  ok(await fitsPhone(admin), 'the secret page fits a phone');
  await admin.click('a:has-text("Go to Rota")');
  ok(!(await admin.content()).includes(secret), 'never shown again');
  await admin.fill('#redirect_uris', 'https://rota.clinic.example/callback\nhttps://rota.clinic.example/second');
  await admin.check('label.check:has-text("North Clinic") input');
  await admin.click('button:has-text("Save")');
  await admin.waitForURL(/done=saved/);
  ok((await admin.content()).includes('North Clinic'), 'limited to a group');
  await admin.fill('#redirect_uris', 'http://rota.clinic.example/plain');
  await admin.click('button:has-text("Save")');
  ok((await admin.content()).includes('must use https'), 'an http redirect is refused with the reason');
  await shoot(admin, 'app');
  await admin.click('summary:has-text("Make a new secret")');
  await admin.click('button:has-text("Make a new secret")');
  const fresh = (await admin.locator('#secret').textContent()).trim();
  ok(fresh !== secret, 'a new secret');
  await admin.goto(`${issuer}/admin/clients`);
  await shoot(admin, 'apps');
  ok(await fitsPhone(admin), 'the app list fits a phone');
});

await check("admin: a SCIM client's token is shown once; its request log marks the failure; revoke", async () => {
  await admin.goto(`${issuer}/admin/scim`);
  await admin.fill('#name', 'HR feed');
  await admin.click('button:has-text("Register and show its token")');
  const token = (await admin.locator('#secret').textContent()).trim();
  await shoot(admin, 'scim-token');
  const scim = (body) => fetch(`${issuer}/scim/v2/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(body),
  });
  const schemas = ['urn:ietf:params:scim:schemas:core:2.0:User'];
  ok((await scim({ schemas, userName: 'hana.hr' })).status === 201, 'the token provisions');
  ok((await scim({ schemas })).status === 400, 'a bad request fails');
  await admin.click('a:has-text("Go to HR feed")');
  const log = await admin.content();
  ok(log.includes('1 of the last 2 requests failed'), 'the failure is counted');
  ok((await admin.locator('ul.history li.failed').count()) === 1, 'and marked');
  await shoot(admin, 'scim-client');
  await admin.click('button:has-text("Revoke the token")');
  ok((await scim({ schemas, userName: 'late.one' })).status === 401, 'a revoked token is refused');
  await shoot(admin, 'scim-clients');
});

await check('admin: rotates signing keys, filters the audit log and exports it, changes settings, sends a test mail', async () => {
  await admin.goto(`${issuer}/admin/keys`);
  await admin.click('button:has-text("Rotate the signing keys")');
  ok((await admin.content()).includes('New keys are added'), 'rotated');
  await shoot(admin, 'keys');
  await admin.goto(`${issuer}/admin/audit`);
  await admin.fill('#target', 'nora');
  await admin.click('form.filters button');
  const rows = await admin.locator('ul.history li').count();
  ok(rows >= 3, `${rows} events about nora`);
  ok(!(await admin.content()).includes('Created: gale.lead'), 'others filtered out');
  await shoot(admin, 'audit');
  ok(await fitsPhone(admin), 'the audit log fits a phone');
  const csv = await admin.evaluate(async () => (await fetch(document.querySelector('a[download]').href)).text());
  ok(csv.startsWith('id,at,actor_kind') && csv.includes('nora.north'), 'the CSV holds the filtered view');
  await admin.goto(`${issuer}/admin/settings`);
  await shoot(admin, 'settings');
  await admin.fill('#organisation_name', 'North & South Clinics');
  await admin.fill('#password_min_length', '14');
  await admin.click('button:has-text("Save the settings")');
  ok((await admin.content()).includes('Saved. Every node'), 'saved');
  await admin.fill('#to', 'olu.admin@clinic.example');
  await admin.click('button:has-text("Send a test mail")');
  const answer = await admin.locator('#test-mail ~ p[role=status]').textContent();
  ok(/Sent: 250/.test(answer), `the SMTP answer is shown: ${answer}`);
  await smtp.mailTo('olu.admin@clinic.example', 'North & South Clinics: a test mail');
  await shoot(admin, 'settings-test-mail');
});

await check('group admin: sees only its groups; another group, the admin role, another user by URL: 403', async () => {
  const page = await freshPage();
  await signIn(page, 'gale.lead', 'group-admin-signin');
  const list = await page.content();
  ok(list.includes('nora.north') && list.includes('ines.new'), 'its group is listed');
  ok(!list.includes('sam.south') && !list.includes('olu.admin@'), 'nobody else is');
  await shoot(page, 'group-admin-users');
  const refused = await page.goto(`${issuer}/admin/users/${sam.id}`);
  ok(refused.status() === 403, `another group's user by URL: ${refused.status()}`);
  await shoot(page, 'group-admin-refused');
  const southId = cli(['group', 'create', 'Audit Probe']).id;
  await page.goto(`${issuer}/admin/users/new`);
  ok(!(await page.content()).includes('Admin (manages everyone)'), 'no admin role is offered');
  await page.fill('#username', 'crafted.one');
  await page.fill('#email', 'crafted.one@clinic.example');
  // A form crafted past the page: a group it does not hold.
  await page.evaluate((id) => {
    const box = document.querySelector('input[name=group]');
    box.value = id;
    box.checked = true;
  }, southId);
  const crafted = page.waitForResponse((r) => r.url().endsWith('/admin/users/new') && r.request().method() === 'POST');
  await page.click('button:has-text("Create user")');
  ok((await crafted).status() === 403, 'a group it does not hold: 403');
  await page.goto(`${issuer}/admin/users/new`);
  await page.fill('#username', 'crafted.two');
  await page.fill('#email', 'crafted.two@clinic.example');
  await page.check('input[name=group] >> nth=0');
  await page.evaluate(() => {
    const role = document.createElement('input');
    Object.assign(role, { type: 'hidden', name: 'role', value: 'admin' });
    document.querySelector('form.narrow').append(role);
  });
  const promoted = page.waitForResponse((r) => r.url().endsWith('/admin/users/new') && r.request().method() === 'POST');
  await page.click('button:has-text("Create user")');
  ok((await promoted).status() === 403, 'granting admin: 403');
  const events = cli(['audit', 'list', '--limit', '200']).events.filter((e) => e.action === 'console.refused');
  ok(events.length === 3, `${events.length} refusals audited`);
  ok(!(await page.content()).includes('href="/admin/clients"'), 'the header offers no organisation pages');
  for (const path of ['/admin/clients', '/admin/scim', '/admin/keys', '/admin/audit', '/admin/settings']) {
    const r = await page.goto(`${issuer}${path}`);
    ok(r.status() === 403, `${path}: ${r.status()}`);
  }
  await shoot(page, 'group-admin-settings-refused');
  await page.context().close();
  ok(boss.id && lead.id && nora.id, 'users made');
});

await browser.close();
tessera.stop();
smtp.close();
const { passed, failed } = tally();
console.log(`${passed} passed, ${failed} failed; screenshots in ${shots}`);
if (failed) console.log(tessera.log().split('\n').slice(-20).join('\n'));
process.exit(failed ? 1 : 0);
