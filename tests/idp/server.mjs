// Bundled test identity server: panva's oidc-provider configured like Curity's Mobile DCR setup.
// Run `node tests/idp/server.mjs`; see README.md for the environment variables and the interface.
import './lib/stdio.mjs'; // must stay first: keeps stdout for the single `ready` line

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import { adminHandler } from './lib/admin.mjs';
import { REGISTRATION_CLIENT_ID, TEMPLATE_CLIENT_ID } from './lib/clients.mjs';
import { createProvider, providerState, rotatedKeys } from './lib/config.mjs';
import { readEnv } from './lib/env.mjs';
import { Faults } from './lib/faults.mjs';
import { sendHtml, sendJson } from './lib/http.mjs';
import { interactionHandler } from './lib/interactions.mjs';
import { rotateRegistrationTokenOnRead } from './lib/management.mjs';
import { RequestLog } from './lib/requests.mjs';
import { IssuedSecrets } from './lib/secrets.mjs';
import { errorPage } from './lib/views.mjs';

// Same path as Curity's anonymous token service profile, so config.json looks like the tutorial's.
const ISSUER_PATH = '/oauth/v2/oauth-anonymous';
const INTERACTIONS_PATH = `${ISSUER_PATH}/interaction`;
const HOST = '127.0.0.1'; // loopback only, plain http unless IDP_TLS_*: a test server, never exposed

const log = (message) => process.stderr.write(`[idp] ${message}\n`);
// Milliseconds since the process started, once every module above has loaded (ESM imports run
// first). With the time to `ready`, it shows where a slow start went (docs/testing.md).
const modulesLoadedAt = performance.now();
const under = (pathname, prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`);

let env;
try {
  env = readEnv();
} catch (err) {
  log(err.message);
  process.exit(2);
}

let handler = (_req, res) => sendJson(res, 503, { error: 'temporarily_unavailable' });
// With IDP_TLS_CERT and IDP_TLS_KEY, https only (a certificate from a CA the harness made at
// test time); the issuer is then https too, so every endpoint discovery lists is.
const listener = (req, res) => handler(req, res);
const server = env.tls
  ? https.createServer({ cert: readFileSync(env.tls.cert), key: readFileSync(env.tls.key) }, listener)
  : http.createServer(listener);
const scheme = env.tls ? 'https' : 'http';

server.on('error', (err) => {
  log(`cannot listen on ${HOST}:${env.port}: ${err.message}`);
  process.exit(1);
});

async function start() {
  const { port } = server.address();
  const issuer = `${scheme}://${HOST}:${port}${ISSUER_PATH}`;
  const state = providerState(env.storeDir);
  const faults = env.adminToken ? new Faults(log) : undefined;
  // Test-only ground truth for the leak tests; recorded only when the admin API can read it.
  const secrets = env.adminToken ? new IssuedSecrets() : undefined;
  // Test-only: which requests reached the issuer, to count back-channel calls (requests.mjs).
  const requests = env.adminToken && env.requestLog ? new RequestLog() : undefined;

  // One provider instance over `state`; a key rotation builds the next one over the same state.
  let oidc;
  let interactions;
  async function mount() {
    const { provider } = createProvider(issuer, env, { interactionsPath: INTERACTIONS_PATH, log, state });
    // Static clients are validated lazily by oidc-provider; fail at start-up instead.
    await provider.Client.find(REGISTRATION_CLIENT_ID);
    await provider.Client.find(TEMPLATE_CLIENT_ID);
    // Added before callback(), which composes the middleware list once. The rotation goes in
    // after (inside) the secrets recorder, which then sees the token the client really gets.
    if (secrets) provider.use(secrets.middleware());
    if (env.rotateRegistrationToken) provider.use(rotateRegistrationTokenOnRead());
    oidc = provider.callback();
    interactions = interactionHandler(provider, { interactionsPath: INTERACTIONS_PATH, log });
  }
  await mount();

  async function rotateSigningKey() {
    state.keys = rotatedKeys(state.keys);
    state.saveKeys();
    await mount();
    return state.keys[0].kid;
  }
  const admin = adminHandler(state.store, {
    adminToken: env.adminToken, log, secrets, requests, rotateSigningKey, faults,
  });

  handler = async (req, res) => {
    try {
      const { pathname } = new URL(req.url, issuer);
      if (requests && under(pathname, ISSUER_PATH)) requests.record(req.method, pathname.slice(ISSUER_PATH.length));
      if (faults?.intercept(req, res, pathname)) return;
      if (under(pathname, INTERACTIONS_PATH)) {
        await interactions(req, res, pathname.slice(INTERACTIONS_PATH.length));
      } else if (under(pathname, '/admin')) {
        await admin(req, res, pathname.slice('/admin'.length));
      } else if (under(pathname, ISSUER_PATH)) {
        // Mount oidc-provider under the issuer path the way Express does: oidc-provider derives
        // its endpoint URLs from req.originalUrl / req.baseUrl.
        req.originalUrl = req.url;
        req.baseUrl = ISSUER_PATH;
        const rest = req.url.slice(ISSUER_PATH.length);
        req.url = rest.startsWith('/') ? rest : `/${rest}`;
        await oidc(req, res);
      } else {
        sendJson(res, 404, { error: 'not_found' });
      }
    } catch (err) {
      log(`unhandled error: ${err.stack ?? err}`);
      if (!res.headersSent) sendHtml(res, err.status ?? 500, errorPage({ error: 'server_error' }));
      else res.destroy();
    }
  };

  log(`issuer ${issuer}; lifetimes (s): dcr ${env.dcrTokenTtl}, access ${env.accessTokenTtl}, `
    + `refresh ${env.refreshTokenTtl}, client secret ${env.clientSecretTtl || 'never'}; `
    + `profile ${env.profile}${env.dpopNonce ? ' (DPoP nonces required)' : ''}; `
    + `registration access token rotated on ${env.rotateRegistrationToken ? 'every read and update' : 'update'}; `
    + `admin API ${env.adminToken ? 'enabled' : 'disabled'}`);
  log(`started in ${Math.round(performance.now())} ms: node and modules ${Math.round(modulesLoadedAt)} ms, `
    + `signing keys and provider ${Math.round(performance.now() - modulesLoadedAt)} ms`);
  process.stdout.write(`ready ${issuer}\n`);
}

server.listen(env.port, HOST, () => {
  start().catch((err) => {
    log(`start-up failed: ${err.stack ?? err}`);
    process.exit(1);
  });
});

function shutdown(signal) {
  log(`${signal}: shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
// A harness that stops reading stdout must not crash us with EPIPE.
process.stdout.on('error', () => {});
