// The peer in the engine comparison (docs/benchmarks.md, tests/benches/peers.rs): panva's
// openid-client driving the same first run as the engine's `register_and_sign_in` + `refresh`
// against the bundled identity server, one flow per `flow` line on stdin, one JSON line per flow
// on stdout. The issuer is https in the judged run (peers.rs starts the server behind TLS with a
// CA made at start and passes that CA in NODE_EXTRA_CA_CERTS, so the certificate is verified as
// any other) and plain http in the labelled comparison run.
//
// Steps, as the engine does them: discovery; authorization URL with PKCE (static public client,
// scope dcr, prompt=login); the login; callback checks (state, RFC 9207 iss) and code exchange
// (the DCR access token); RFC 7591 registration with that token as Bearer; authorization URL
// with PKCE and a nonce for the new client; the SSO login; callback checks and code exchange
// with client_secret_basic; ID-token validation (claims, and the JWS signature against the key
// set: `enableNonRepudiationChecks`, which the engine always does); UserInfo; refresh.
//
// Measured: process CPU (`process.cpuUsage()`: user + system, all threads) over the whole flow,
// minus the CPU of the two logins, which a plain HTTP client does here as the scripted browser
// does for the engine (they are the user's browser, not the OAuth client). Not measured: the
// RFC 7592 delete afterwards, which only keeps the server's client list short.
//
// Registration goes through oauth4webapi (openid-client's own protocol layer, pinned with it)
// with the metadata of the first discovery: openid-client's `dynamicClientRegistration` would
// discover again, a request and its CPU the engine does not spend. This gives the peer its best
// case.
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import readline from 'node:readline';

const config = JSON.parse(process.env.DCR_BENCH_CONFIG);
const [USER, PASSWORD] = ['demouser', 'Password1'];
const issuer = new URL(config.issuer);
// https (peers.rs's judged run): verified against the roots Node.js has, the test CA among them
// through NODE_EXTRA_CA_CERTS; nothing relaxes it. Plain http (the comparison row) needs
// openid-client's allowInsecureRequests, which only permits the http: scheme.
const plainHttp = issuer.protocol === 'http:';
const insecure = plainHttp ? { execute: [client.allowInsecureRequests] } : undefined;

const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system; // microseconds
};

// ---- The login: a plain HTTP client with a cookie jar, outside the measured part. ----

const jar = new Map();
function remember(response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair, ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))
      || attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}
const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

function firstForm(html) {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const attr = (tag, name) => new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1];
  const unescape = (s) => s?.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  const fields = [];
  for (const input of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input[0], 'name');
    if (name) fields.push([name, unescape(attr(input[0], 'value')) ?? '']);
  }
  return { action: unescape(attr(form[1], 'action')), fields };
}

// Follows the browser steps until a redirect leaves the identity server (the app's callback).
async function browse(start) {
  let url = new URL(start);
  let method = 'GET';
  let body;
  for (let step = 0; step < 25; step += 1) {
    const response = await fetch(url, {
      method, body, redirect: 'manual',
      headers: { accept: 'text/html', cookie: cookieHeader(),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    });
    remember(response);
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location'), url);
      await response.arrayBuffer();
      if (next.origin !== issuer.origin) return next;
      [url, method, body] = [next, 'GET', undefined];
      continue;
    }
    const page = firstForm(await response.text());
    if (response.status !== 200 || !page) throw new Error(`login: unexpected page, HTTP ${response.status}`);
    const fields = new URLSearchParams(page.fields);
    if (fields.has('password')) {
      fields.set('login', USER);
      fields.set('password', PASSWORD);
    }
    [url, method, body] = [new URL(page.action, url), 'POST', fields.toString()];
  }
  throw new Error('login: too many steps');
}

// Runs `browse` and returns its result and the CPU it took, to subtract.
async function login(url) {
  const before = cpu();
  const callback = await browse(url);
  return [callback, cpu() - before];
}

// ---- The measured flow. ----

async function flow() {
  jar.clear(); // a fresh browser: the registration login asks for the password
  const start = cpu();
  const wallStart = process.hrtime.bigint();
  let loginCpu = 0;

  // Discovery, with the static public client (RFC 8414 / OIDC Discovery).
  const dcr = await client.discovery(issuer, config.registrationClientID, undefined, client.None(), insecure);

  // Registration login: PKCE (RFC 7636), scope dcr, prompt=login.
  let verifier = client.randomPKCECodeVerifier();
  let state = client.randomState();
  let url = client.buildAuthorizationUrl(dcr, {
    redirect_uri: config.redirectUri, scope: 'dcr', prompt: 'login', state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  let [callback, spent] = await login(url);
  loginCpu += spent;
  const dcrTokens = await client.authorizationCodeGrant(dcr, callback,
    { pkceCodeVerifier: verifier, expectedState: state });

  // RFC 7591 registration, Bearer DCR token, the engine's full metadata.
  const registered = await oauth.dynamicClientRegistrationRequest(dcr.serverMetadata(), {
    redirect_uris: [config.redirectUri],
    post_logout_redirect_uris: [config.postLogoutRedirectUri],
    application_type: 'native',
    grant_types: ['authorization_code'],
    scope: config.scope,
    token_endpoint_auth_method: 'client_secret_basic',
  }, { initialAccessToken: dcrTokens.access_token, ...(plainHttp ? { [oauth.allowInsecureRequests]: true } : {}) })
    .then(oauth.processDynamicClientRegistrationResponse);
  const own = new client.Configuration(dcr.serverMetadata(), registered.client_id, registered,
    client.ClientSecretBasic(registered.client_secret));
  if (plainHttp) client.allowInsecureRequests(own);
  client.enableNonRepudiationChecks(own); // verify the ID token's signature (key set), as the engine does

  // SSO sign-in with the per-install client: PKCE, state, nonce.
  verifier = client.randomPKCECodeVerifier();
  state = client.randomState();
  const nonce = client.randomNonce();
  url = client.buildAuthorizationUrl(own, {
    redirect_uri: config.redirectUri, scope: config.scope, state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  [callback, spent] = await login(url);
  loginCpu += spent;
  const tokens = await client.authorizationCodeGrant(own, callback,
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
  const { sub } = tokens.claims();
  const user = await client.fetchUserInfo(own, tokens.access_token, sub);
  if (user.sub !== 'demouser') throw new Error('userinfo: wrong user');

  // Refresh (RFC 6749 §6).
  const refreshed = await client.refreshTokenGrant(own, tokens.refresh_token);
  if (!refreshed.access_token) throw new Error('refresh: no access token');

  const total = cpu() - start;
  const wall = Number(process.hrtime.bigint() - wallStart) / 1000;

  // Not measured: RFC 7592 delete, so the server does not pile up clients.
  const deleted = await fetch(registered.registration_client_uri, {
    method: 'DELETE', headers: { authorization: `Bearer ${registered.registration_access_token}` },
  });
  await deleted.arrayBuffer();
  if (deleted.status !== 204) throw new Error(`RFC 7592 delete: HTTP ${deleted.status}`);
  return { cpu_us: total - loginCpu, login_cpu_us: loginCpu, wall_us: wall };
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== 'flow') continue;
  try {
    process.stdout.write(`${JSON.stringify(await flow())}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: String(err?.message ?? err) })}\n`);
  }
}
