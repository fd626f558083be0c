// The interaction pages oidc-provider redirects to (`interactions.url`): a real username/password
// login form, and a silent consent step (these are first-party clients, so there is no consent
// screen). Routes, below `<issuer>/interaction`:
//   GET  /<uid>         login form (or auto-consent)
//   POST /<uid>/login   password check; success resumes the authorization request
//   GET  /<uid>/abort   the user cancelled: access_denied back to the client
import { ACR_PASSWORD } from './config.mjs';
import { authenticate } from './accounts.mjs';
import { readForm, sendHtml } from './http.mjs';
import { errorPage, loginPage } from './views.mjs';

const INVALID_CREDENTIALS = 'Invalid username or password.';

export function interactionHandler(provider, { interactionsPath, log }) {
  async function showLogin(res, details, { login, error } = {}, status = 200) {
    const client = await provider.Client.find(String(details.params.client_id));
    sendHtml(res, status, loginPage({
      action: `${interactionsPath}/${details.uid}/login`,
      abortUrl: `${interactionsPath}/${details.uid}/abort`,
      clientName: client?.clientName ?? client?.clientId ?? 'the application',
      login,
      error,
    }));
  }

  // Only reached for an explicit prompt=consent: grant what was asked for, without a screen.
  async function autoConsent(req, res, details) {
    const { prompt: { details: missing }, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
  }

  return async function handle(req, res, subpath) {
    const match = /^\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(subpath);
    if (!match) {
      sendHtml(res, 404, errorPage({ error: 'not_found' }));
      return;
    }
    const [, uid, action] = match;

    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (err) {
      sendHtml(res, 400, errorPage({ error: err.error ?? 'invalid_request', error_description: err.error_description ?? 'interaction not found' }));
      return;
    }
    // The interaction cookie must belong to the interaction named in the URL.
    if (details.uid !== uid) {
      sendHtml(res, 400, errorPage({ error: 'invalid_request', error_description: 'interaction mismatch' }));
      return;
    }

    const prompt = details.prompt.name;
    if (action === undefined && req.method === 'GET') {
      if (prompt === 'login') await showLogin(res, details);
      else if (prompt === 'consent') await autoConsent(req, res, details);
      else sendHtml(res, 400, errorPage({ error: 'invalid_request', error_description: `unsupported prompt ${prompt}` }));
      return;
    }

    if (action === 'abort' && req.method === 'GET') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
      return;
    }

    if (action === 'login' && req.method === 'POST' && prompt === 'login') {
      const form = await readForm(req);
      const login = form.get('login') ?? '';
      const accountId = authenticate(login, form.get('password'));
      if (!accountId) {
        log(`login failed for interaction ${uid}`);
        await showLogin(res, details, { login, error: INVALID_CREDENTIALS });
        return;
      }
      await provider.interactionFinished(req, res, {
        login: { accountId, acr: ACR_PASSWORD, amr: ['pwd'] },
      }, { mergeWithLastSubmission: false });
      return;
    }

    sendHtml(res, 405, errorPage({ error: 'invalid_request', error_description: 'method not allowed' }));
  };
}
