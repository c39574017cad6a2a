// The relying party's own endpoint: the redirect URI, the post-logout URI and the
// back-channel logout endpoint, served on a loopback port.
import http from 'node:http';

/** Starts the RP; the logout tokens it receives collect in `logoutTokens`. */
export async function startRp() {
  const logoutTokens = [];
  const rp = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://rp');
    if (req.method === 'POST' && url.pathname === '/backchannel') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        logoutTokens.push({ contentType: req.headers['content-type'] ?? '', body, at: Date.now() });
        res.writeHead(200, { 'Cache-Control': 'no-store' }).end();
      });
      return;
    }
    // The redirect URI and the post-logout URI: the script reads the browser's URL.
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>RP</title><p>relying party</p>');
  });
  await new Promise((resolve) => rp.listen(0, '127.0.0.1', resolve));
  const rpBase = `http://127.0.0.1:${rp.address().port}`;
  return {
    rp,
    logoutTokens,
    rpBase,
    redirectUri: `${rpBase}/cb`,
    postLogoutUri: `${rpBase}/logged-out`,
    backchannelUri: `${rpBase}/backchannel`,
  };
}
