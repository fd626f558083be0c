// What the window says: the text of each progress step, mode, notice and label. Words only; which
// one applies is decided by the engine's state (`state.js` picks, the screens show). Error
// screens have their own table in `errors.js`.

/** The user-facing text of each backend `progress` step. */
export const STEP_TEXT = Object.freeze({
  loading: "Loading…",
  waitingForSignIn: "Waiting for you to sign in…",
  registering: "Registering this device…",
  signingIn: "Signing you in…",
  refreshing: "Refreshing the access token…",
  signingOut: "Signing you out…",
  forgetting: "Forgetting this device…",
  rotatingKey: "Rotating the device key…",
  savingConfig: "Checking the configuration…",
  waitingInBrowser: "Finish signing in in your browser",
  signingOutInBrowser: "Finish signing out in your browser",
  waitingInSystemBrowser: "Finish signing in in your browser",
  signingOutInSystemBrowser: "Finish signing out in your browser",
  waitingInWindow: "Waiting for you to sign in…",
  signingOutInWindow: "Signing you out…",
});

/**
 * Where each STEP_TEXT entry comes from besides the engine's own progress reports
 * (`dcr_core::Progress`): steps only the desktop shell reports (loopback mode's waiting
 * screen, `ShellStep` in src-tauri/src/events.rs), and steps the UI shows by itself.
 * tests/tests/repository/progress_steps.rs and src-tauri's events tests keep the three lists exact.
 */
export const SHELL_STEPS = Object.freeze(["waitingInBrowser", "signingOutInBrowser", "waitingInSystemBrowser", "signingOutInSystemBrowser", "waitingInWindow", "signingOutInWindow"]);
export const UI_ONLY_STEPS = Object.freeze(["loading", "savingConfig"]);

export function stepText(step) {
  return Object.prototype.hasOwnProperty.call(STEP_TEXT, step) ? STEP_TEXT[step] : "Working…";
}

/** What each `userAgent` mode is called on the registration screen, and when to pick it. */
export const MODE_TEXT = Object.freeze({
  embedded: {
    label: "In this app's sign-in window",
    hint: "For your organisation's own identity server.",
  },
  system: {
    label: "In your web browser",
    hint: "Uses the passwords and passkeys saved in your browser; the browser hands the sign-in back to this app.",
  },
  loopback: {
    label: "In your web browser, answering on this computer",
    hint: "For systems where apps cannot register a link handler; the browser answers this app on a local port.",
  },
});

/** A one-line notice after an action succeeds, so the change is announced (role=status). */
export const DONE_NOTICE = Object.freeze({
  refresh: "The access token was refreshed.",
  signOut: "You have signed out.",
  forget: "This device was forgotten. Its registration was deleted.",
  installConfig: "The configuration was saved. The app uses it from now on.",
  rotateKey: "The device key was rotated. The identity server now accepts only the new key.",
});

/** The notice when the user cancelled a browser step: neutral, nothing changed. */
export const CANCELLED_NOTICE = Object.freeze({
  signIn: "Sign-in was cancelled.",
  signOut: "Sign-out was cancelled.",
});

/** The notice when a background refresh failed; `message` is the shell's (sanitized) text. */
export function backgroundFailedNotice(message) {
  return `The access token could not be refreshed in the background${message ? `: ${message}` : "."}`;
}

/**
 * What the user is told when only the local half of sign-out or forget happened (the engine's
 * `signedOutLocally` / `forgottenLocally`). With `pendingServerCleanup` the screen also offers
 * "Try again" (the `finishCleanup` action).
 */
export const PARTIAL_TEXT = Object.freeze({
  signOut:
    "Signed out on this device; the identity server could not be reached, so your session there may still be active.",
  forget:
    "This device was forgotten here, but the identity server could not be told; its registration there may still be active.",
  // No end-session endpoint: nothing to try again.
  signOutUnsupported:
    "Signed out on this device; the identity server offers no sign-out, so your session there may still be active.",
});

/** The callout for a server part still to do: `{kind, text}` or null. */
export function pendingCleanup(view) {
  const kind = view && view.pendingServerCleanup;
  return kind === "signOut" || kind === "forget" ? { kind, text: PARTIAL_TEXT[kind] } : null;
}

/**
 * What the user is told when the sign-in window refused a page (a host, or a scheme such as
 * `file:` for addresses without one). The shell sends only that, sanitized; this clips it again
 * and drops control and invisible characters, since it came from a web page's navigation.
 */
export function refusedText(host) {
  const place = String(host == null ? "" : host)
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "")
    .slice(0, 80);
  if (!place) return "The sign-in window refused to open a page.";
  if (place.endsWith(":")) return `The sign-in window refused to open a ${place} address.`;
  return `The sign-in window refused to open a page on ${place}.`;
}

/** Home's heading when the engine names nobody to greet (no name, username or email). */
export const NO_NAME_HEADING = "Signed in";

/** What the Home screen's "Credential" row says for each `credential` of the StateView. */
export const CREDENTIAL_TEXT = Object.freeze({
  clientSecret: "Client secret",
  deviceKey: "Device key (no shared secret)",
});

/** What Home's countdown says while a background refresh is in flight. */
export const REFRESHING_TEXT = "refreshing…";

// OpenID Connect Core §5.1 standard claims, as a person would name them.
const CLAIM_LABELS = Object.freeze({
  sub: "Subject",
  name: "Name",
  given_name: "Given name",
  family_name: "Family name",
  middle_name: "Middle name",
  nickname: "Nickname",
  preferred_username: "Username",
  profile: "Profile",
  picture: "Picture",
  website: "Website",
  email: "Email",
  email_verified: "Email verified",
  gender: "Gender",
  birthdate: "Birthdate",
  zoneinfo: "Time zone",
  locale: "Locale",
  phone_number: "Phone",
  phone_number_verified: "Phone verified",
  address: "Address",
  updated_at: "Updated",
});

/** A readable label for a claim name; unknown claims keep their own name. */
export function claimLabel(name) {
  return Object.prototype.hasOwnProperty.call(CLAIM_LABELS, name) ? CLAIM_LABELS[name] : name;
}
