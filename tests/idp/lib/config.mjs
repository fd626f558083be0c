// oidc-provider configuration reproducing Curity's Mobile DCR setup (see ../README.md).
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync, mkdirSync, readFileSync, renameSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import Provider, { interactionPolicy } from 'oidc-provider';

import { findAccount, minimalIdTokenClaims } from './accounts.mjs';
import { createAdapterFactory, DCR_SCOPE, MemoryStore } from './adapter.mjs';
import {
  DCR_POLICY, REGISTRATION_CLIENT_ID, registrationPolicy, staticClients,
} from './clients.mjs';
import { FOREVER } from './env.mjs';
import { errorPage, logoutPage, loggedOutPage } from './views.mjs';

export const ACR_PASSWORD = 'urn:se:curity:authentication:html-form:Username-Password';

// Fresh signing keys on every start, held in memory only: nothing sensitive is ever written to the
// repository or to disk, unless IDP_STORE names a folder (see providerState).
const signingKey = (type, options, alg) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`,
  alg,
  use: 'sig',
});

// The first key is the default for ID tokens (RS256, as in the tutorial's registration response).
export function signingKeys() {
  return [signingKey('rsa', { modulusLength: 2048 }, 'RS256'), signingKey('ec', { namedCurve: 'P-256' }, 'ES256')];
}

// Key rotation (test-only admin API): a new RS256 key goes first, so it signs from now on, and the
// old keys stay published, so tokens they signed (an id_token_hint at logout) still verify.
export function rotatedKeys(keys) {
  return [signingKey('rsa', { modulusLength: 2048 }, 'RS256'), ...keys];
}

// Everything a provider instance holds that must outlive a key rotation, which builds a new
// instance over the same state: the adapter's records, the signing keys, the cookie keys.
//
// With `storeDir` (IDP_STORE, for the fault-injection tests) all three survive a restart: the
// records in `store.json` (see MemoryStore.persistTo), the keys in `keys.json` (mode 0600, a
// throwaway folder the test made). A restarted server then validates its own earlier tokens,
// cookies and registration access tokens, as a real server restarted from its database would.
export function providerState(storeDir) {
  const store = new MemoryStore();
  if (!storeDir) {
    return {
      store, keys: signingKeys(), cookieKeys: [randomBytes(32).toString('base64url')], saveKeys() {},
    };
  }
  mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  const keysFile = join(storeDir, 'keys.json');
  const saved = existsSync(keysFile) ? JSON.parse(readFileSync(keysFile, 'utf8')) : undefined;
  const state = {
    store,
    keys: saved?.keys ?? signingKeys(),
    cookieKeys: saved?.cookieKeys ?? [randomBytes(32).toString('base64url')],
    saveKeys() {
      writeFileSync(`${keysFile}.tmp`, JSON.stringify({ keys: this.keys, cookieKeys: this.cookieKeys }), { mode: 0o600 });
      renameSync(`${keysFile}.tmp`, keysFile);
    },
  };
  state.saveKeys();
  store.persistTo(join(storeDir, 'store.json'));
  return state;
}

// Native clients normally get a consent prompt on every authorization request
// (`native_client_prompt`). These clients are first-party, as in Curity's setup, so that check is
// removed and loadExistingGrant (below) grants the requested scopes instead of asking.
function policy() {
  const p = interactionPolicy.base();
  p.get('consent').checks.remove('native_client_prompt');
  return p;
}

async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const { Grant } = oidc.provider;
  const accountId = oidc.session.accountId;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await Grant.find(grantId) : undefined;
  if (grant && grant.accountId !== accountId) grant = undefined;
  grant ??= new Grant({ accountId, clientId: oidc.client.clientId });
  // checkScope already limited the request to the client's registered `scope`.
  const requested = [...oidc.requestParamOIDCScopes].join(' ');
  if (requested) grant.addOIDCScope(requested);
  await grant.save();
  return grant;
}

async function logoutSource(ctx) {
  const client = ctx.oidc.client;
  ctx.type = 'html';
  ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  ctx.body = logoutPage({
    action: ctx.oidc.urlFor('end_session_confirm'),
    xsrf: ctx.oidc.session.state.secret,
    clientName: client?.clientName ?? client?.clientId,
  });
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = loggedOutPage();
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = errorPage(out);
}

export function createProvider(issuer, env, { interactionsPath, log, state = providerState() }) {
  const { store } = state;
  let provider;
  const sessionTtl = Math.max(env.refreshTokenTtl, env.accessTokenTtl, 14 * 24 * 60 * 60);

  provider = new Provider(issuer, {
    adapter: createAdapterFactory(store, {
      getProvider: () => provider,
      registrationClientId: REGISTRATION_CLIENT_ID,
      policies: [DCR_POLICY],
    }),
    clients: staticClients(),
    // structuredClone: oidc-provider may annotate the objects it is given.
    jwks: { keys: structuredClone(state.keys) },
    cookies: { keys: state.cookieKeys },
    // Both ends run on this machine; no skew allowance, so short test lifetimes are exact.
    clockTolerance: 0,

    scopes: ['openid', 'offline_access', 'profile', 'email', DCR_SCOPE],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    // Put the profile claims in the ID token as well as at userinfo, so the app can greet the
    // user from the ID token alone.
    conformIdTokenClaims: false,
    acrValues: [ACR_PASSWORD],
    responseTypes: ['code'],
    // RFC 7636: PKCE (S256 only in oidc-provider 9) for every client, not just public ones.
    pkce: { required: () => true },
    clientBasedCORS: () => false,
    extraClientMetadata: { properties: ['software_id', 'software_version'] },

    features: {
      devInteractions: { enabled: false },
      registration: {
        enabled: true,
        // Bearer tokens for the registration endpoint come from the adapter's DCR token lookup.
        initialAccessToken: true,
        policies: { [DCR_POLICY]: registrationPolicy(env) },
        // Curity issues UUID client ids.
        idFactory: () => randomUUID(),
        secretFactory: () => randomBytes(32).toString('base64url'),
        issueRegistrationAccessToken: true,
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      revocation: { enabled: true },
      // RFC 9449. On in every profile (a client may use it); `device-bound` clients must.
      dPoP: {
        enabled: true,
        nonceSecret: env.dpopNonce ? randomBytes(32) : undefined,
        requireNonce: () => env.dpopNonce,
      },
      userinfo: { enabled: true },
      resourceIndicators: { enabled: false },
    },

    // Dynamic clients carry the refresh_token grant (added by the registration policy) and get a
    // refresh token for `openid profile` without asking for offline_access, as Curity does.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    loadExistingGrant,
    findAccount: env.idTokenClaims === 'minimal' ? minimalIdTokenClaims(findAccount) : findAccount,
    renderError,

    ttl: {
      AccessToken: (_ctx, token) => (token.scopes.has(DCR_SCOPE) ? env.dcrTokenTtl : env.accessTokenTtl),
      AuthorizationCode: 60,
      IdToken: env.accessTokenTtl,
      RefreshToken: env.refreshTokenTtl,
      Interaction: 10 * 60,
      Session: Math.min(sessionTtl, FOREVER),
      Grant: Math.min(sessionTtl, FOREVER),
    },

    interactions: {
      policy: policy(),
      url: (_ctx, interaction) => `${interactionsPath}/${interaction.uid}`,
    },
  });

  provider.on('server_error', (_ctx, err) => log(`server_error: ${err.stack ?? err}`));
  for (const event of ['registration_create.error', 'grant.error', 'authorization.error', 'end_session.error']) {
    provider.on(event, (_ctx, err) => log(`${event}: ${err.error ?? ''} ${err.error_description ?? err.message}`));
  }

  return { provider, store };
}
