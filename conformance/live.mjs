// What the browser checks share: a real SMTP server on loopback, a live Tessera with
// its own data directory, headless Chromium, screenshots at 1280 and 390 px, and
// RFC 6238 codes computed here from a key the page showed.
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { chromium } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { ok } from './oidc/report.mjs';

export function listen(s) {
  // An SMTPServer keeps its net.Server in `.server`.
  const net = s.server ?? s;
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(net.address().port)));
}

export async function freePort() {
  const s = createServer();
  const p = await listen(s);
  await new Promise((r) => s.close(r));
  return p;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(what, fn, ms = 10000) {
  for (const start = Date.now(); Date.now() - start < ms; await sleep(100)) {
    const v = await fn();
    if (v) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An SMTP server keeping every message it is given. */
export async function startSmtp() {
  const inbox = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, done) {
      simpleParser(stream).then((m) => {
        inbox.push({ to: m.to?.value.map((a) => a.address) ?? [], subject: m.subject ?? '', text: m.text ?? '', html: m.html || '' });
        done();
      }, done);
    },
  });
  const port = await listen(smtp);
  return {
    port,
    inbox,
    /** The newest mail to `to` whose subject has `about`, once it has arrived. */
    mailTo: (to, about) =>
      waitFor(`mail to ${to} about "${about}"`, () => [...inbox].reverse().find((m) => m.to.includes(to) && m.subject.includes(about))),
    close: () => smtp.close(),
  };
}

/** `tessera serve` on a free port with its own SQLite data, mailing through `smtpPort`. */
export async function startTessera(bin, { name, smtpPort, env: extra = {} }) {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const data = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  const env = {
    ...process.env,
    TESSERA_DATA_DIR: join(data, 'data'),
    TESSERA_LISTEN: `127.0.0.1:${port}`,
    TESSERA_ISSUER: issuer,
    TESSERA_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    TESSERA_ORGANISATION_NAME: 'Northside Clinics',
    ...extra,
  };
  delete env.TESSERA_DATABASE_URL;
  delete env.TESSERA_CONFIG;
  const cli = (args, input) => JSON.parse(execFileSync(bin, args, { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }));
  const tryCli = (args) => {
    try {
      return cli(args);
    } catch (e) {
      return { failed: String(e.stderr ?? e.message) };
    }
  };
  cli(['migrate']);
  const server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${issuer}/readyz`).then((r) => r.ok, () => false)) break;
    await sleep(100);
  }
  return {
    issuer,
    cli,
    tryCli,
    log: () => log,
    /** The link to `path` in a mail's text. */
    linkIn(mail, path) {
      const at = mail.text.indexOf(`${issuer}${path}`);
      ok(at >= 0, `no ${path} link in: ${mail.text}`);
      return mail.text.slice(at).split(/\s/)[0];
    },
    stop() {
      server.kill();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** `shoot(page, name)` saves the page, numbered, at 1280 and 390 px wide into `dir`. */
export function screenshots(dir) {
  mkdirSync(dir, { recursive: true });
  // An earlier run's pictures would mix with these.
  for (const f of readdirSync(dir)) if (f.endsWith('.png')) rmSync(join(dir, f));
  let n = 0;
  return async function shoot(page, name) {
    n += 1;
    const file = `${String(n).padStart(2, '0')}-${name}`;
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      await page.screenshot({ path: join(dir, `${file}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  };
}

function base32(text) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '')) bits += abc.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 with SHA-1, 6 digits, 30 s: the code for the step `ahead` steps from now. */
export function totp(key, ahead = 0) {
  const step = Math.floor(Date.now() / 30000) + ahead;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32(key)).update(msg).digest();
  const o = h[19] & 15;
  return String((((h[o] & 127) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]) % 1000000).padStart(6, '0');
}
