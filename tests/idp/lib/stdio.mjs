// The harness reads stdout for exactly one `ready <issuer>` line. oidc-provider prints its
// notices with console.info (stdout), so route every console method that writes to stdout to
// stderr. This module must be the first import of server.mjs so that it runs before
// oidc-provider is evaluated.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
