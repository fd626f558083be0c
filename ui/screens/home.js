// The Home screen: who is signed in, this device's registration, and the access token's expiry.
// Token values never reach the webview; the backend sends only the expiry and a short fingerprint.
import { h, button, facts, heading, screen } from "../dom.js";
import { aboutButton } from "./about.js";
import { NO_NAME_HEADING, claimLabel } from "../copy.js";
import { deviceCredential, formatClaim, formatCountdown, formatSecretExpiry, formatTimestamp } from "../format.js";

export function homeScreen(model, { doc, now, locale }) {
  const view = model.view;
  const user = view.user || { sub: "", displayName: null, claims: {} };
  // Who to greet is the engine's choice (name, username or email; never the opaque subject,
  // which stays in the claims table): without one, a neutral heading.
  const named = typeof user.displayName === "string" && user.displayName !== "";
  const registration = view.registration;
  const claims = Object.entries(user.claims || {});
  const expiresAt = view.accessTokenExpiresAt;
  const credential = deviceCredential(view);

  return screen(
    doc,
    "home",
    "user-name",
    h(
      doc,
      "header",
      { class: "identity" },
      named ? h(doc, "span", { class: "avatar", "aria-hidden": "true" }, initials(user.displayName)) : null,
      h(
        doc,
        "div",
        { class: "identity-text" },
        named ? h(doc, "p", { class: "eyebrow" }, "Signed in as") : null,
        heading(doc, named ? user.displayName : NO_NAME_HEADING, { id: "user-name" }),
        named && user.sub ? h(doc, "p", { class: "muted mono", id: "user-sub" }, user.sub) : null,
      ),
    ),
    h(
      doc,
      "div",
      { class: "panels" },
      panel(
        doc,
        "Profile",
        "profile-title",
        claims.length
          ? facts(doc, claims.map(([name, value]) => [claimLabel(name), formatClaim(value)]), { id: "claims" })
          : h(doc, "p", { class: "muted", id: "claims" }, "The identity server shared no profile claims."),
      ),
      panel(
        doc,
        "This device",
        "device-title",
        registration
          ? facts(doc, deviceFacts(registration, credential, locale))
          : h(doc, "p", { class: "muted" }, "No registration details."),
      ),
      panel(
        doc,
        "Access token",
        "token-title",
        facts(doc, [
          [
            "Expires",
            h(
              doc,
              "time",
              { id: "token-expiry", datetime: isoOrNull(expiresAt), "data-expires-at": expiresAt ?? null },
              formatCountdown(expiresAt, now),
            ),
            null,
          ],
          ["Fingerprint", view.tokenFingerprint || "—", "token-fingerprint", { class: "mono" }],
        ]),
      ),
    ),
    h(
      doc,
      "div",
      { class: "actions actions-home" },
      button(doc, { id: "refresh", action: "refresh", kind: "primary", label: "Refresh access token" }),
      credential && credential.canRotate
        ? button(doc, { id: "rotate-key", action: "rotateKey", label: "Rotate device key" })
        : null,
      button(doc, { id: "sign-out", action: "signOut", label: "Sign out" }),
      button(doc, { id: "forget", action: "openForget", kind: "danger", label: "Forget this device", "aria-haspopup": "dialog" }),
    ),
    h(doc, "div", { class: "screen-footer" }, aboutButton(doc)),
    forgetDialog(doc),
  );
}

// The registration, and how this device proves itself to the identity server: a client secret
// (a bearer secret), or a key pair whose private half never leaves the device (private_key_jwt,
// RFC 7523), with tokens bound to it when DPoP is on (RFC 9449).
function deviceFacts(registration, credential, locale) {
  const deviceKey = credential && credential.canRotate;
  return [
    ["Client ID", registration.clientId, "client-id", { class: "mono" }],
    ["Registered", formatTimestamp(registration.registeredAt, locale), "registered-at"],
    deviceKey ? null : ["Secret expires", formatSecretExpiry(registration.clientSecretExpiresAt, locale), "secret-expires"],
    ["Registration", registration.templatized ? "From a template" : "Full metadata", "registration-kind"],
    credential ? ["Proves itself with", credential.label, "credential"] : null,
    deviceKey && credential.thumbprint ? ["Key thumbprint", credential.thumbprint, "key-thumbprint", { class: "mono" }] : null,
    credential && credential.keyHolderText ? ["Key storage", credential.keyHolderText, "key-holder"] : null,
    credential && credential.bound ? ["Token binding", "Tokens bound to this device", "tokens-bound"] : null,
  ].filter(Boolean);
}

function panel(doc, title, id, body) {
  return h(doc, "section", { class: `panel panel-${id.replace("-title", "")}`, "aria-labelledby": id }, h(doc, "h2", { id }, title), body);
}

// An in-page modal (<dialog>.showModal traps focus and closes on Escape), not window.confirm.
function forgetDialog(doc) {
  return h(
    doc,
    "dialog",
    { id: "forget-dialog", class: "dialog", "aria-labelledby": "forget-title", "aria-describedby": "forget-text" },
    h(doc, "h2", { id: "forget-title" }, "Forget this device?"),
    h(
      doc,
      "p",
      { id: "forget-text" },
      "The app deletes this device's registration at the identity server and removes its credentials from the keyring. You will need to register again.",
    ),
    h(
      doc,
      "div",
      { class: "actions" },
      button(doc, { id: "forget-cancel", action: "cancelForget", label: "Cancel" }),
      button(doc, { id: "forget-confirm", action: "forget", kind: "danger-solid", label: "Forget this device" }),
    ),
  );
}

/** Up to two initials from a name or subject, for the avatar. */
export function initials(text) {
  const words = String(text).trim().split(/[\s._@-]+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[1][0] : (words[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

function isoOrNull(unix) {
  return typeof unix === "number" && Number.isFinite(unix) ? new Date(unix * 1000).toISOString() : null;
}
