// Settings from the environment. Lifetimes are whole seconds; 0 means "never expires".
// oidc-provider needs a finite positive lifetime for every token, so "never" becomes ten years.

export const FOREVER = 10 * 365 * 24 * 60 * 60;

function integer(name, fallback, { min = 0, max = 2 ** 31 - 1 } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return Number(raw);
}

const lifetime = (name, fallback) => {
  const seconds = integer(name, fallback);
  return seconds === 0 ? FOREVER : seconds;
};

function oneOf(name, allowed, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw;
}

// `curity`: dynamic clients get a client secret, as in Curity's tutorial. `device-bound`: dynamic
// clients must register a public key (`jwks`) and authenticate with private_key_jwt
// (RFC 7523), and their access tokens are DPoP-bound (RFC 9449).
export const PROFILES = ['curity', 'device-bound'];

// Both PEM files or neither: half a TLS setup is a mistake, not plain http.
function tlsFiles() {
  const cert = process.env.IDP_TLS_CERT || undefined;
  const key = process.env.IDP_TLS_KEY || undefined;
  if (Boolean(cert) !== Boolean(key)) throw new Error('IDP_TLS_CERT and IDP_TLS_KEY go together');
  return cert ? { cert, key } : undefined;
}

export function readEnv() {
  return {
    port: integer('IDP_PORT', 8443, { max: 65535 }),
    adminToken: process.env.IDP_ADMIN_TOKEN || undefined,
    dcrTokenTtl: lifetime('IDP_DCR_TOKEN_TTL', 300),
    accessTokenTtl: lifetime('IDP_ACCESS_TOKEN_TTL', 300),
    refreshTokenTtl: lifetime('IDP_REFRESH_TOKEN_TTL', 86400),
    // Not mapped to FOREVER: 0 is RFC 7591's own "does not expire" value.
    clientSecretTtl: integer('IDP_CLIENT_SECRET_TTL', 0),
    profile: oneOf('IDP_PROFILE', PROFILES, 'curity'),
    // RFC 9449 §8: when 1, every DPoP proof must carry a server-provided nonce.
    dpopNonce: integer('IDP_DPOP_NONCE', 0, { max: 1 }) === 1,
    // A folder that keeps clients, grants, tokens and keys across a restart (fault injection).
    storeDir: process.env.IDP_STORE || undefined,
    // `full`: profile claims in the ID token too. `minimal`: the ID token carries only `sub` and
    // `preferred_username`; the other profile claims come from UserInfo (OIDC Core §5.4).
    idTokenClaims: oneOf('IDP_ID_TOKEN_CLAIMS', ['full', 'minimal'], 'full'),
    // Test-only: keep a log of request paths for `GET /admin/requests` (needs IDP_ADMIN_TOKEN).
    requestLog: integer('IDP_REQUEST_LOG', 0, { max: 1 }) === 1,
    // RFC 7592 §3: when 1, every read of a client's configuration (GET) answers with a new
    // registration access token and invalidates the old one, as Keycloak does. Updates (PUT)
    // rotate it in either case (oidc-provider's rotateRegistrationAccessToken).
    rotateRegistrationToken: integer('IDP_ROTATE_REGISTRATION_TOKEN', 0, { max: 1 }) === 1,
    // PEM files of a certificate for 127.0.0.1 and its key: serve https instead of http.
    tls: tlsFiles(),
  };
}
