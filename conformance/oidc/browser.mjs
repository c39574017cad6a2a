// Headless Chromium through playwright-core, and the helpers that walk Tessera's sign-in
// pages in it.
import * as client from 'openid-client';
import { chromium } from 'playwright-core';
import { check, need } from './report.mjs';

/**
 * Launches Chromium (a check of its own) and opens the page every flow shares; returns them
 * with the helpers bound to that page: submit, stepOf, browse and authRequest.
 */
export async function launch({ browserPath, issuer, username, password, redirectUri, config }) {
  const browser = await check(`setup: launch headless Chromium (${browserPath}) through playwright-core`, () =>
    chromium.launch({
      executablePath: browserPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    }));
  const page = await browser?.newPage();
  page?.setDefaultTimeout(15000);

  // What Chromium says about a navigation it refused (a CSP violation names the directive).
  const refusals = [];
  page?.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) refusals.push(m.text().trim());
  });

  /** Clicks `button` and waits for the page it leads to; fails at once when Chromium aborts the navigation. */
  async function submit(button) {
    refusals.length = 0;
    let onFailed;
    const failed = new Promise((_, reject) => {
      onFailed = (r) => {
        if (r.isNavigationRequest() && r.frame() === page.mainFrame()) {
          reject(new Error(`Chromium aborted the navigation (${r.method()} ${r.url()}: ${r.failure()?.errorText})`));
        }
      };
      page.on('requestfailed', onFailed);
    });
    failed.catch(() => {}); // raced below; may reject while the click is still pending
    const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
    navigated.catch(() => {});
    try {
      await Promise.race([page.locator(button).first().click(), failed]);
      await Promise.race([navigated.then(() => page.waitForLoadState('load')), failed]);
    } catch (e) {
      await page.waitForTimeout(100); // the console message may trail the failed request
      throw new Error(`${e.message.split('\n')[0]}${refusals.length ? `; console: ${refusals.join(' | ')}` : ''}`);
    } finally {
      page.off('requestfailed', onFailed);
    }
  }

  /**
   * Which page the browser shows: on the issuer, the sign-in step its form posts to (a step's
   * answer carries the next step's page), else the path; elsewhere the whole URL.
   */
  async function stepOf() {
    const here = new URL(page.url());
    if (here.origin !== new URL(issuer).origin) return here.href;
    const action = await page.locator('form').first().getAttribute('action', { timeout: 1000 }).catch(() => null);
    return action?.startsWith('/signin/') ? action : here.pathname;
  }

  /**
   * Opens `url` (or stays on the current page when it is null) and signs in as needed until the
   * browser reaches `until`; answers consent with `decision`. Returns the final URL and the pages seen.
   */
  async function browse(url, until, { decision = 'allow' } = {}) {
    need(page);
    const steps = [];
    if (url) await page.goto(url.href ?? url);
    for (let i = 0; i < 8; i++) {
      const here = new URL(page.url());
      if (here.href.startsWith(until)) return { url: here, steps };
      const path = await stepOf();
      steps.push(path);
      if (path === '/signin/identify') {
        await page.fill('input[name=username]', username);
        await submit('form button[type=submit]');
      } else if (path === '/signin/password') {
        await page.fill('input[name=password]', password);
        await submit('form button[type=submit]');
      } else if (path === '/signin/consent') {
        await submit(`button[name=decision][value=${decision}]`);
      } else {
        const text = (await page.locator('body').innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
        throw new Error(`unexpected page ${here.href}: ${text}`);
      }
    }
    throw new Error(`never reached ${until}; pages: ${steps.join(' -> ')}`);
  }

  /** A fresh authorization request (PKCE S256, state, nonce). */
  async function authRequest(extra = {}, cfg = config) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { url, codeVerifier, state, nonce };
  }

  return { browser, page, submit, stepOf, browse, authRequest };
}
