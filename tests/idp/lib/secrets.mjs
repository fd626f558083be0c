// Test-only record of every secret value this server hands out, read through
// `GET /admin/issued-secrets`. It is the ground truth for the "no secret leaks" tests: they
// search the app's logs, UI state and error messages for each value. In memory only, never
// logged, and only kept when the admin API is enabled.
//
// It is a Koa middleware in front of oidc-provider, so it sees every response the way a client
// does, without relying on oidc-provider internals:
//   - JSON bodies: token responses (RFC 6749 §5.1: access, refresh and ID tokens), registration
//     and management responses (RFC 7591 §3.2.1, RFC 7592 §3: client secret, registration
//     access token, including a rotated one);
//   - redirects: the authorization code in the authorization response (RFC 6749 §4.1.2), in the
//     query or, for other response modes, the fragment.

const BODY_FIELDS = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'registration_access_token',
];

function parseBody(body) {
  if (body && typeof body === 'object' && !Buffer.isBuffer(body) && typeof body.pipe !== 'function') {
    return body;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      const parsed = JSON.parse(String(body));
      return parsed && typeof parsed === 'object' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function codeFromLocation(location) {
  let url;
  try {
    url = new URL(location);
  } catch {
    return undefined; // relative: one of our own pages, never the client's redirect URI
  }
  const fromQuery = url.searchParams.get('code');
  if (fromQuery) return fromQuery;
  return new URLSearchParams(url.hash.replace(/^#/, '')).get('code') ?? undefined;
}

export class IssuedSecrets {
  #entries = []; // { kind, value } in issue order, each value once

  #seen = new Set();

  add(kind, value) {
    if (typeof value !== 'string' || value === '' || this.#seen.has(value)) return;
    this.#seen.add(value);
    this.#entries.push({ kind, value });
  }

  list() {
    return this.#entries.map((entry) => ({ ...entry }));
  }

  // provider.use(secrets.middleware()): runs around every oidc-provider request.
  middleware() {
    return async (ctx, next) => {
      await next();
      const body = parseBody(ctx.body);
      if (body) {
        for (const field of BODY_FIELDS) this.add(field, body[field]);
      }
      const location = ctx.response.get('location');
      if (location) this.add('code', codeFromLocation(location));
    };
  }
}
