// Test-only request log (`IDP_REQUEST_LOG=1`), read through `GET /admin/requests`: the method and
// path of every request under the issuer, in arrival order, each marked back channel or not. It
// is how the tests and benchmarks count a client's back-channel requests from the server's side
// (the goal: "no RFC 7592 read right after a fresh registration, no second discovery or key-set
// fetch within a session"), whatever the client says about itself.
//
// Only paths are kept, never query strings or bodies: codes, states and tokens travel there.

// Front channel: what the user's browser loads (RFC 6749 §3.1 authorization endpoint, our login
// pages, OpenID RP-initiated logout). Everything else under the issuer is the client's own HTTP
// (back channel): discovery, key set, token, registration and management, UserInfo, revocation.
const FRONT_CHANNEL = [/^\/auth(\/|$)/, /^\/interaction(\/|$)/, /^\/session\/end(\/|$)/];

export class RequestLog {
  #entries = [];

  // `path` is relative to the issuer path, e.g. `/token` or `/reg/<client_id>`.
  record(method, path) {
    const backChannel = !FRONT_CHANNEL.some((re) => re.test(path));
    this.#entries.push({ method, path, back_channel: backChannel });
  }

  list() {
    return this.#entries;
  }

  clear() {
    this.#entries = [];
  }
}
