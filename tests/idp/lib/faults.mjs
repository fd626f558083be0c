// Test-only fault injection (docs/faults.md): the server kills itself, or stops answering, at the
// Nth request to one path. Armed through the admin API (`POST /admin/faults?...`), so it exists
// only when IDP_ADMIN_TOKEN is set. A SIGKILL of our own process at a chosen instant is the same
// as an outside kill at that instant, without the race of timing one from the test.
//
//   kill-before  SIGKILL on arrival: the request is never processed.
//   kill-after   the request is processed (and, with IDP_STORE, its effects written to disk), then
//                SIGKILL instead of sending the response: "processed, but the answer is lost".
//   hang-before  never processed, never answered (the client waits; a test kills the client).
//   hang-after   processed, never answered.

const ACTIONS = ['kill-before', 'kill-after', 'hang-before', 'hang-after'];

export class Faults {
  #armed = [];

  constructor(log) {
    this.log = log;
  }

  // `method` may be empty (any); `path` matches the end of the request's pathname, or, when it
  // ends with `/`, any pathname containing it (`/reg/`: a client's RFC 7592 endpoint).
  arm({ method, path, nth, action }) {
    if (!ACTIONS.includes(action) || !path || !(nth >= 1)) return false;
    this.#armed.push({
      method: method?.toUpperCase() || undefined, path, nth, action, seen: 0,
    });
    return true;
  }

  // Called first for every request. True when the request is swallowed (never answered).
  intercept(req, res, pathname) {
    const index = this.#armed.findIndex((f) => (!f.method || f.method === req.method)
      && (f.path.endsWith('/') ? pathname.includes(f.path) : pathname.endsWith(f.path))
      && ++f.seen === f.nth);
    if (index < 0) return false;
    const [{ action }] = this.#armed.splice(index, 1);
    const what = `${req.method} ${pathname}`;
    if (action === 'kill-before') this.#kill(`${action} ${what}`);
    if (action === 'hang-before') {
      this.log(`fault: holding ${what} unprocessed`);
      return true;
    }
    // Processed by oidc-provider as usual; whatever it sends is dropped.
    res.write = () => true;
    res.writeHead = () => res;
    res.end = () => {
      if (action === 'kill-after') this.#kill(`${action} ${what}`);
      this.log(`fault: holding the response to ${what}`);
      return res;
    };
    return false;
  }

  #kill(what) {
    this.log(`fault: ${what}: SIGKILL`);
    process.kill(process.pid, 'SIGKILL');
  }
}
