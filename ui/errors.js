// What the error screen says for each error kind. One entry per kind the engine can report
// (`ErrorKind` in crates/dcr-core/src/error/kind.rs); tests/tests/repository/error_kinds.rs checks
// that the two lists are the same, so a new kind in Rust cannot reach this screen without its own
// words.
//
// `actions` names what the screen offers: "retry" (try the same action again), "retryOrBack"
// (both), "back" (return to the screen the state implies), "none" (nothing the app can do; the
// help says what the user can), "state" (no error screen when the reply carries the engine's
// state after the failure: that state's own screen explains it, by its `reason`; otherwise as
// "back").

/** Kinds that only the UI produces (outside the app, or an unrecognised rejection). */
export const UI_ONLY_KINDS = Object.freeze(["unavailable", "unknown"]);

export const ERROR_SCREENS = Object.freeze({
  config: {
    title: "The configuration is invalid",
    help: "Fix config.json as described above, then restart the app.",
    actions: "none",
  },
  configMissing: {
    title: "This app has not been set up yet",
    help: "Choose the configuration file your organisation gave you.",
    actions: "none",
  },
  configNotSaved: {
    title: "The configuration could not be saved",
    help: "Check that your configuration folder is writable, then try again.",
    actions: "retryOrBack",
  },
  folderNotOpened: {
    title: "The log folder could not be opened",
    help: "Open the folder named under About this device with your file manager.",
    actions: "back",
  },
  discovery: {
    title: "The identity server's settings cannot be used",
    help: "Check the issuer in config.json, or ask your administrator.",
    actions: "retryOrBack",
  },
  unreachable: {
    title: "The identity server is unreachable",
    help: "Check your network connection and that the identity server is running.",
    actions: "retryOrBack",
  },
  responseTooLarge: {
    title: "The identity server sent an oversized response",
    help: "The response was refused. Try again later, or ask your administrator.",
    actions: "retryOrBack",
  },
  keysUnavailable: {
    title: "The identity server's signing keys could not be loaded",
    help: "You are still signed in. Try again in a moment.",
    actions: "retryOrBack",
  },
  cancelled: { title: "Sign-in was cancelled", help: null, actions: "back" },
  stateMismatch: {
    title: "The sign-in response did not belong to this sign-in",
    help: "Start again. If this keeps happening, another program may be interfering with sign-in.",
    actions: "back",
  },
  issuerMismatch: {
    title: "The sign-in response came from a different identity server",
    help: "It was rejected. Start again, or ask your administrator.",
    actions: "back",
  },
  redirectMismatch: {
    title: "The sign-in ended at an unexpected address",
    help: "It was rejected. Start again, or ask your administrator.",
    actions: "back",
  },
  authorizationFailed: { title: "The identity server refused the sign-in", help: null, actions: "back" },
  invalidCallback: { title: "The sign-in response was malformed", help: "It was rejected. Start again.", actions: "back" },
  invalidClient: {
    title: "This device's registration is no longer valid",
    help: "Register this device again.",
    actions: "state",
  },
  invalidGrant: { title: "Your sign-in has expired", help: "Sign in again.", actions: "back" },
  invalidDpopProof: {
    title: "The identity server did not accept this device's proof",
    help: "Check that this computer's clock is correct, then try again. If it keeps happening, ask your administrator.",
    actions: "retryOrBack",
  },
  serverError: { title: "The identity server returned an error", help: null, actions: "back" },
  invalidResponse: {
    title: "The identity server sent a response this app cannot use",
    help: null,
    actions: "back",
  },
  idTokenInvalid: {
    title: "The identity server's proof of who you are was not valid",
    help: "It was rejected. Sign in again, or ask your administrator.",
    actions: "back",
  },
  userInfoInvalid: { title: "Your profile could not be read", help: null, actions: "back" },
  logout: { title: "Sign-out could not be confirmed", help: null, actions: "back" },
  dcrTokenRejected: {
    title: "The identity server did not accept the sign-in for registration",
    help: null,
    actions: "back",
  },
  registrationRejected: { title: "The registration was rejected", help: null, actions: "back" },
  keychainLocked: {
    title: "The keyring is locked",
    help:
      "This app keeps its credentials in your login keyring. Unlock it (for example in " +
      "Passwords and Keys, or by signing in to your desktop again), then try again.",
    actions: "retry",
  },
  keychainUnavailable: {
    title: "No keyring is available",
    help:
      "This app keeps its credentials in a Secret Service keyring. Install and start a " +
      "provider such as gnome-keyring (sudo apt install gnome-keyring), then try again.",
    actions: "retry",
  },
  keychainCorrupt: {
    title: "The saved registration could not be read",
    help: "It was discarded. Register this device again.",
    actions: "back",
  },
  keychainEntryTooLarge: {
    title: "The registration is too large for the keyring",
    help: "Ask your administrator to shorten the client's registered settings.",
    actions: "back",
  },
  userAgent: { title: "The sign-in window could not be opened", help: null, actions: "retryOrBack" },
  secretExpired: {
    title: "This device's credentials have expired",
    help: "Sign in again to register this device anew.",
    actions: "back",
  },
  notRegistered: { title: "This device is not registered", help: "Register it first.", actions: "back" },
  notSignedIn: { title: "You are not signed in", help: "Sign in first.", actions: "back" },
  deviceKeyUnavailable: {
    title: "This device's key could not be created",
    help: "The system could not generate a key pair. Nothing was changed; try again, and ask your administrator if it keeps happening.",
    actions: "retryOrBack",
  },
  deviceKeyLost: {
    title: "This device's key is no longer available",
    help: "The TPM that held it was cleared or replaced, or this keychain entry came from another computer. The registration was deleted; register this device again.",
    actions: "state",
  },
  rotationUnavailable: {
    title: "The device key cannot be rotated",
    help: "This registration has no device key, or the identity server offers no way to update it. Nothing was changed.",
    actions: "back",
  },
  unavailable: { title: "This page only works inside the app", help: null, actions: "none" },
  unknown: { title: "Something went wrong", help: null, actions: "back" },
});

/** The screen for `kind`; an unlisted kind gets the generic one. */
export function errorScreenFor(kind) {
  return Object.prototype.hasOwnProperty.call(ERROR_SCREENS, kind) ? ERROR_SCREENS[kind] : ERROR_SCREENS.unknown;
}
