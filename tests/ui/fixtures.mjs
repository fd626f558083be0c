// Canned StateViews, shaped like the shell's contract (camelCase, no secrets).
export const NOW = 1764133920; // 2025-11-26T05:12:00Z

const registration = { clientId: "c-1234", registeredAt: NOW - 3600, clientSecretExpiresAt: null, templatized: false };
const base = { reason: null, issuerHost: "127.0.0.1:8443", registration: null, user: null, accessTokenExpiresAt: null, refreshAt: null, tokenFingerprint: null, credential: "clientSecret", tokensBound: false, deviceKeyThumbprint: null, deviceKeyHolder: null, deviceKeyText: null };
// An RFC 7638 thumbprint: 43 base64url characters.
export const THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

export const views = {
  unregistered: { ...base, state: "unregistered" },
  revoked: { ...base, state: "unregistered", reason: "revoked" },
  forgotten: { ...base, state: "unregistered", reason: "forgotten" },
  registered: { ...base, state: "registered", registration },
  signedIn: {
    ...base,
    state: "signedIn",
    registration,
    user: { sub: "demouser", displayName: "Demo User", claims: { sub: "demouser", email: "demo@example.com", email_verified: true, age: 42 } },
    accessTokenExpiresAt: NOW + 299,
    // The engine's instant to refresh at: a minute early for a five-minute token.
    refreshAt: NOW + 239,
    tokenFingerprint: "9f3a61c2",
  },
};
views.signedInSecret = { ...views.signedIn, credential: "clientSecret" };
// private_key_jwt with DPoP: no secret, so no secret expiry either.
views.signedInDeviceKey = {
  ...views.signedIn,
  registration: { ...registration, clientSecretExpiresAt: null },
  credential: "deviceKey",
  tokensBound: true,
  deviceKeyThumbprint: THUMBPRINT,
  deviceKeyHolder: "software",
  deviceKeyText: "Device key stored in the keychain",
};
// The same with the key in this computer's TPM (the engine's KeyHolder::describe sentences).
views.signedInTpm = { ...views.signedInDeviceKey, deviceKeyHolder: "tpm", deviceKeyText: "Device key held by this computer's TPM (cannot be copied)" };
// private_key_jwt without DPoP: bearer tokens.
views.signedInDeviceKeyUnbound = { ...views.signedInDeviceKey, tokensBound: false };
views.rotated = { ...views.signedInDeviceKey, deviceKeyThumbprint: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbW", lastEvent: "keyRotated" };
