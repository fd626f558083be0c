// In-memory storage for oidc-provider models (the adapter interface is documented in
// oidc-provider's example adapter). By default nothing is persisted: a restart forgets every
// client, grant and token, which is what a test server wants. With IDP_STORE (the fault-injection
// tests, docs/faults.md) every change is also written to a file before oidc-provider answers, so a
// server killed at any point and started again over the same folder knows exactly what it had
// processed: the clients it registered, the codes it consumed, the refresh tokens it rotated.
//
// One extra twist: the `InitialAccessToken` model is backed by live access tokens. RFC 7591 §3
// lets the authorization server decide what an "initial access token" is; Curity's Mobile DCR
// setup accepts an ordinary access token that carries the `dcr` scope, so we do the same.

import {
  existsSync, readFileSync, renameSync, writeFileSync,
} from 'node:fs';

export const DCR_SCOPE = 'dcr';

// Models whose records hang off a grant and die with it (see revokeByGrantId).
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const key = (model, id) => `${model}:${id}`;

export class MemoryStore {
  #records = new Map(); // "Model:id" -> { payload, expiresAt (ms) | undefined }

  #file; // IDP_STORE: the JSON file written on every change (see persistTo)

  #grants = new Map(); // grantId -> Set of "Model:id"

  #sessionUids = new Map(); // session uid -> session id

  #userCodes = new Map(); // device flow user code -> device code id

  // Loads `file` if it exists and writes every later change to it. Each write replaces the file
  // atomically (write a temporary file, then rename) and synchronously, before the request that
  // made the change is answered: a SIGKILL right after leaves either the old or the new state,
  // never half a file, and the kernel keeps the written data for the next process.
  persistTo(file) {
    this.#file = file;
    if (!existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    for (const [k, { payload, expiresAt }] of saved) {
      const [model, ...rest] = k.split(':');
      this.set(model, rest.join(':'), payload, undefined, { write: false });
      if (expiresAt !== undefined) this.#records.get(k).expiresAt = expiresAt;
    }
  }

  // Also after `consume`, which marks a payload in place (a used code, a rotated refresh token).
  changed() {
    if (!this.#file) return;
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.#records]), { mode: 0o600 });
    renameSync(tmp, this.#file);
  }

  get(model, id) {
    const k = key(model, id);
    const record = this.#records.get(k);
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) {
      this.#records.delete(k);
      return undefined;
    }
    return record.payload;
  }

  set(model, id, payload, expiresIn, { write = true } = {}) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    this.#records.set(key(model, id), { payload, expiresAt });
    if (GRANTABLE.has(model) && payload.grantId) {
      if (!this.#grants.has(payload.grantId)) this.#grants.set(payload.grantId, new Set());
      this.#grants.get(payload.grantId).add(key(model, id));
    }
    if (model === 'Session' && payload.uid) this.#sessionUids.set(payload.uid, id);
    if (payload.userCode) this.#userCodes.set(payload.userCode, id);
    if (write) this.changed();
  }

  delete(model, id) {
    this.#records.delete(key(model, id));
    this.changed();
  }

  idForSessionUid(uid) {
    return this.#sessionUids.get(uid);
  }

  idForUserCode(userCode) {
    return this.#userCodes.get(userCode);
  }

  revokeGrant(grantId) {
    for (const k of this.#grants.get(grantId) ?? []) this.#records.delete(k);
    this.#grants.delete(grantId);
    this.changed();
  }

  // Live records of one model, as [id, payload] pairs (used by the admin API).
  *entries(model) {
    const prefix = `${model}:`;
    for (const k of [...this.#records.keys()]) {
      if (k.startsWith(prefix)) {
        const id = k.slice(prefix.length);
        const payload = this.get(model, id);
        if (payload) yield [id, payload];
      }
    }
  }
}

class ModelAdapter {
  constructor(model, store) {
    this.model = model;
    this.store = store;
  }

  async upsert(id, payload, expiresIn) {
    this.store.set(this.model, id, payload, expiresIn);
  }

  async find(id) {
    return this.store.get(this.model, id);
  }

  async findByUid(uid) {
    const id = this.store.idForSessionUid(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = this.store.idForUserCode(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = this.store.get(this.model, id);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    this.store.changed();
  }

  async destroy(id) {
    this.store.delete(this.model, id);
  }

  async revokeByGrantId(grantId) {
    this.store.revokeGrant(grantId);
  }
}

// `find(value)` answers for a bearer token presented at the registration endpoint. It only accepts
// a live access token that (a) carries the `dcr` scope, (b) was issued to the static registration
// client, (c) has not expired, and (d) still belongs to an existing grant and, when session-bound,
// to an existing session. Anything else is "not found", which oidc-provider turns into
// 401 invalid_token (RFC 6750 §3.1).
class DcrTokenAdapter extends ModelAdapter {
  constructor(store, { getProvider, registrationClientId, policies }) {
    super('InitialAccessToken', store);
    this.getProvider = getProvider;
    this.registrationClientId = registrationClientId;
    this.policies = policies;
  }

  async find(value) {
    const stored = await super.find(value);
    if (stored) return stored;

    const provider = this.getProvider();
    const at = await provider.AccessToken.find(value);
    if (!at || at.isExpired) return undefined;
    if (!at.scopes.has(DCR_SCOPE) || at.clientId !== this.registrationClientId) return undefined;
    if (!(await provider.Grant.find(at.grantId))) return undefined;
    if (at.expiresWithSession) {
      const session = await provider.Session.findByUid(at.sessionUid);
      if (!session || session.accountId !== at.accountId) return undefined;
    }

    // The policies run during registration (templates, refresh grant, secret lifetime).
    return {
      jti: value,
      kind: 'InitialAccessToken',
      iat: at.iat,
      exp: at.exp,
      policies: this.policies,
    };
  }
}

export function createAdapterFactory(store, dcrOptions) {
  const dcr = new DcrTokenAdapter(store, dcrOptions);
  return (model) => (model === 'InitialAccessToken' ? dcr : new ModelAdapter(model, store));
}
