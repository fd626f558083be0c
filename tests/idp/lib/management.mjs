// RFC 7592 §3: in any answer of the client configuration endpoint the server may hand out a new
// registration access token, and the client must then discard the old one. Keycloak does so on
// every read and update. oidc-provider's `registrationManagement.rotateRegistrationAccessToken`
// only covers updates (PUT, see its lib/actions/registration.js), so with
// IDP_ROTATE_REGISTRATION_TOKEN=1 this middleware does the same for reads (GET): a new token in
// the body, and the one the request used destroyed, so presenting it again is 401 invalid_token.

// provider.use(rotateRegistrationTokenOnRead()): runs around every oidc-provider request and acts
// only on a successful read of a client's configuration (the route oidc-provider names `client`).
export function rotateRegistrationTokenOnRead() {
  return async function rotateOnRead(ctx, next) {
    await next();
    if (ctx.method !== 'GET' || ctx.oidc?.route !== 'client' || ctx.status !== 200) return;
    const { provider, client, entities: { RegistrationAccessToken: used } } = ctx.oidc;
    // The same construction as oidc-provider's own rotation on update: bound to the client, and
    // carrying the registration policies an update must run again.
    const rotated = new provider.RegistrationAccessToken({ client, policies: used.policies });
    ctx.body.registration_access_token = await rotated.save();
    await used.destroy();
  };
}
