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
