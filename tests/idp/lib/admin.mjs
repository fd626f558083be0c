// Test-only admin API, the stand-in for the tutorial's "an administrator sets a stolen device's
// client to a non-active status". Disabled (404) unless IDP_ADMIN_TOKEN is set.
//   GET    /admin/clients        dynamic clients, without secrets
//   DELETE /admin/clients/<id>   delete the client and revoke its grants, tokens and sessions
//   GET    /admin/issued-secrets every secret value issued so far (see secrets.mjs)
//   POST   /admin/rotate-signing-key  a new ID-token signing key (old ones stay published)
//   POST   /admin/faults?method=&path=&nth=&action=  fault injection (faults.mjs)
//   GET    /admin/requests       requests under the issuer so far (IDP_REQUEST_LOG=1; requests.mjs)
//   DELETE /admin/requests       empties that log
import { createHash, timingSafeEqual } from 'node:crypto';

import { sendJson } from './http.mjs';

const digest = (value) => createHash('sha256').update(String(value)).digest();

function authorized(req, adminToken) {
  const match = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]), digest(adminToken));
}

function summary(id, metadata) {
  return {
    client_id: id,
    client_id_issued_at: metadata.client_id_issued_at,
    created_at: new Date(metadata.client_id_issued_at * 1000).toISOString(),
    software_id: metadata.software_id ?? null,
    application_type: metadata.application_type,
    grant_types: metadata.grant_types,
    scope: metadata.scope,
    redirect_uris: metadata.redirect_uris,
  };
}

// Removes everything that lets the client act: its grants (and every code and token hanging off
// them), every SSO session it took part in (so re-registering needs the password again), its
// RFC 7592 registration access tokens, and finally the client record. Afterwards the token
// endpoint answers invalid_client for its credentials (RFC 6749 §5.2).
function revokeClient(store, clientId) {
  const revokeGrant = (grantId) => {
    store.revokeGrant(grantId);
    store.delete('Grant', grantId);
  };
  for (const [grantId, grant] of store.entries('Grant')) {
    if (grant.clientId === clientId) revokeGrant(grantId);
  }
  for (const [sessionId, session] of store.entries('Session')) {
    if (session.authorizations?.[clientId]) {
      for (const { grantId } of Object.values(session.authorizations)) {
        if (grantId) revokeGrant(grantId);
      }
      store.delete('Session', sessionId);
    }
  }
  for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'RegistrationAccessToken']) {
    for (const [id, payload] of store.entries(model)) {
      if (payload.clientId === clientId) store.delete(model, id);
    }
  }
  store.delete('Client', clientId);
}

export function adminHandler(store, {
  adminToken, log, secrets, requests, rotateSigningKey, faults,
}) {
  return async function handle(req, res, subpath) {
    if (!adminToken) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    if (!authorized(req, adminToken)) {
      sendJson(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer realm="idp-admin"' });
      return;
    }

    if (subpath === '/clients' && req.method === 'GET') {
      const clients = [...store.entries('Client')].map(([id, metadata]) => summary(id, metadata));
      clients.sort((a, b) => a.client_id_issued_at - b.client_id_issued_at);
      sendJson(res, 200, clients);
      return;
    }

    if (subpath === '/issued-secrets' && req.method === 'GET' && secrets) {
      sendJson(res, 200, secrets.list());
      return;
    }

    if (subpath === '/requests' && requests) {
      if (req.method === 'GET') {
        sendJson(res, 200, requests.list());
        return;
      }
      if (req.method === 'DELETE') {
        requests.clear();
        res.writeHead(204, { 'cache-control': 'no-store' });
        res.end();
        return;
      }
    }

    if (subpath === '/rotate-signing-key' && req.method === 'POST' && rotateSigningKey) {
      const kid = await rotateSigningKey();
      log(`admin: rotated the signing key; ID tokens now name ${kid}`);
      sendJson(res, 200, { kid });
      return;
    }

    if (subpath === '/faults' && req.method === 'POST' && faults) {
      const query = new URL(req.url, 'http://localhost').searchParams;
      const fault = {
        method: query.get('method'),
        path: query.get('path'),
        nth: Number(query.get('nth') ?? '1'),
        action: query.get('action'),
      };
      if (!faults.arm(fault)) {
        sendJson(res, 400, { error: 'invalid_request' });
        return;
      }
      log(`admin: armed fault ${fault.action} at ${fault.method || '*'} …${fault.path} #${fault.nth}`);
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
      return;
    }

    const match = /^\/clients\/([^/]+)$/.exec(subpath);
    if (match && req.method === 'DELETE') {
      const clientId = decodeURIComponent(match[1]);
      if (!store.get('Client', clientId)) {
        sendJson(res, 404, { error: 'not_found', error_description: 'no such dynamic client' });
        return;
      }
      revokeClient(store, clientId);
      log(`admin: deleted client ${clientId}`);
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
      return;
    }

    sendJson(res, 404, { error: 'not_found' });
  };
}
