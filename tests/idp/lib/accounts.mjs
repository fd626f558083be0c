// A one-user account store. The password check is real (constant-time compare of SHA-256
// digests), so a wrong password is refused, unlike oidc-provider's devInteractions which accept
// anything.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value) => createHash('sha256').update(String(value), 'utf8').digest();

const ACCOUNTS = new Map([
  ['demouser', {
    passwordDigest: digest('Password1'),
    claims: {
      name: 'Demo User',
      given_name: 'Demo',
      family_name: 'User',
      preferred_username: 'demouser',
      email: 'demouser@example.com',
      email_verified: true,
    },
  }],
]);

// Returns the account id for valid credentials, undefined otherwise. Always performs one digest
// comparison so unknown usernames and wrong passwords take the same time.
export function authenticate(login, password) {
  const account = ACCOUNTS.get(login);
  const expected = account?.passwordDigest ?? digest('\0unknown-user');
  const ok = timingSafeEqual(expected, digest(password ?? ''));
  return ok && account ? login : undefined;
}

// `IDP_ID_TOKEN_CLAIMS=minimal`: the ID token says who (sub, preferred_username) and UserInfo
// says the rest, as some servers do.
export function minimalIdTokenClaims(find) {
  return async (ctx, sub, token) => {
    const account = await find(ctx, sub, token);
    if (!account) return undefined;
    return {
      ...account,
      async claims(use, ...rest) {
        const all = await account.claims(use, ...rest);
        return use === 'id_token' ? { sub: all.sub, preferred_username: all.preferred_username } : all;
      },
    };
  };
}

// oidc-provider's findAccount hook: claims are filtered afterwards by the requested scopes
// (see `claims` in config.mjs).
export async function findAccount(_ctx, sub) {
  const account = ACCOUNTS.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { sub, ...account.claims };
    },
  };
}
