// The two static clients from Curity's Mobile DCR tutorial, and the registration policy that
// makes dynamically registered clients look like Curity's.
import { randomBytes } from 'node:crypto';

import { errors } from 'oidc-provider';

import { DCR_SCOPE } from './adapter.mjs';

export const REGISTRATION_CLIENT_ID = 'mobile-dcr-client';
export const TEMPLATE_CLIENT_ID = 'mobile-dcr-template-client';
export const DCR_POLICY = 'curity-mobile-dcr';

const APP_REDIRECT_URI = 'io.curity.dcrclient:/callback';
const APP_POST_LOGOUT_URI = 'io.curity.dcrclient:/logoutcallback';
// RFC 8252 §7.3: for native clients the port of a loopback redirect URI is not compared.
const LOOPBACK_REDIRECT_URI = 'http://127.0.0.1/callback';
const LOOPBACK_POST_LOGOUT_URI = 'http://127.0.0.1/logoutcallback';

export function staticClients() {
  return [
    {
      // Public client used only to obtain the `dcr` access token (tutorial: "no-authentication",
      // "require-proof-key", capability "code" and no refresh token).
      client_id: REGISTRATION_CLIENT_ID,
      client_name: 'Mobile DCR registration client',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT_URI, LOOPBACK_REDIRECT_URI],
      post_logout_redirect_uris: [APP_POST_LOGOUT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: DCR_SCOPE,
    },
    {
      // Template for templatized DCR (`software_id`). It is never used to log in; its secret is
      // random and thrown away.
      client_id: TEMPLATE_CLIENT_ID,
      client_name: 'Mobile DCR template client',
      client_secret: randomBytes(32).toString('base64url'),
      application_type: 'native',
      token_endpoint_auth_method: 'client_secret_basic',
      // Both modes: the app's scheme, and loopback (any port, RFC 8252 §7.3) for `userAgent:
      // "loopback"`; a templatized registration copies these.
      redirect_uris: [APP_REDIRECT_URI, LOOPBACK_REDIRECT_URI],
      post_logout_redirect_uris: [APP_POST_LOGOUT_URI, LOOPBACK_POST_LOGOUT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid profile',
    },
  ];
}

// Metadata that identifies one registration and must never be copied from the template.
const PER_INSTANCE = new Set([
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
]);

// oidc-provider runs registration policies when the initial access token names them (our
// adapter's DCR token lookup names this one). `properties` is the metadata about to be
// validated and stored; the policy edits it in place. Throwing InvalidClientMetadata yields
// 400 invalid_client_metadata (RFC 7591 §3.2.2).
// What a device-bound registration brings with it, kept over the template's values.
const DEVICE_KEY_METADATA = ['jwks', 'token_endpoint_auth_method', 'token_endpoint_auth_signing_alg'];

export function registrationPolicy({ clientSecretTtl, profile }) {
  return async function curityMobileDcr(ctx, properties) {
    const deviceBound = profile === 'device-bound';
    if (properties.software_id !== undefined) {
      // Templatized DCR: the static template client is authoritative for all metadata.
      if (properties.software_id !== TEMPLATE_CLIENT_ID) {
        throw new errors.InvalidClientMetadata('software_id does not name a known template client');
      }
      const template = await ctx.oidc.provider.Client.find(TEMPLATE_CLIENT_ID);
      const keep = {};
      for (const name of [...PER_INSTANCE, ...(deviceBound ? DEVICE_KEY_METADATA : [])]) {
        if (properties[name] !== undefined) keep[name] = properties[name];
      }
      for (const name of Object.keys(properties)) delete properties[name];
      for (const [name, value] of Object.entries(template.metadata())) {
        if (!PER_INSTANCE.has(name) && value !== undefined) properties[name] = value;
      }
      delete properties.client_name;
      Object.assign(properties, keep, { software_id: TEMPLATE_CLIENT_ID });
    }

    // The `dcr` scope is only for the static registration client.
    properties.scope ??= 'openid profile';
    if (String(properties.scope).split(' ').includes(DCR_SCOPE)) {
      throw new errors.InvalidClientMetadata(`scope ${DCR_SCOPE} cannot be registered`);
    }

    // Curity adds the refresh_token grant to dynamic clients (the tutorial's response lists
    // authorization_code and refresh_token although the request only asked for the former).
    const grantTypes = properties.grant_types ?? ['authorization_code'];
    if (grantTypes.includes('authorization_code') && !grantTypes.includes('refresh_token')) {
      properties.grant_types = [...grantTypes, 'refresh_token'];
    }

    if (deviceBound) {
      // The device proves itself with its own key: no shared secret is issued (RFC 7523 §2.2),
      // and every access token is bound to that key (RFC 9449 §5.2 dpop_bound_access_tokens).
      if (properties.token_endpoint_auth_method !== 'private_key_jwt' || !properties.jwks?.keys?.length) {
        throw new errors.InvalidClientMetadata('this server requires private_key_jwt with the device\'s public key in jwks');
      }
      properties.dpop_bound_access_tokens = true;
    }

    // RFC 7591 §3.2.1: client_secret_expires_at is 0 when the secret never expires. Only set on
    // creation; an RFC 7592 update keeps the original expiry.
    if (ctx.oidc.route === 'registration' && properties.client_secret && clientSecretTtl > 0) {
      properties.client_secret_expires_at = Math.floor(Date.now() / 1000) + clientSecretTtl;
    }
  };
}
