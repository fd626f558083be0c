// The UI's state machine: a pure `transition(model, event)` plus pure formatting helpers.
// No DOM, no Tauri, no clock: everything it needs arrives in the event, so node tests can drive it.
//
// The backend's `StateView` (state, reason, registration, user, token expiry) is the truth; the
// model adds only what the screen needs on top of it: which action is running, the progress
// step, the error being shown, and a one-line notice.

import { errorScreenFor } from "./errors.js";

/** What the model looks like before `get_state` has answered. */
export function initialModel() {
  return { view: null, busy: false, action: null, step: null, error: null, notice: null, setup: null, refused: null, about: null, refreshing: false };
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
 * tests/tests/progress_steps.rs and src-tauri's events tests keep the three lists exact.
 */
export const SHELL_STEPS = Object.freeze(["waitingInBrowser", "signingOutInBrowser", "waitingInSystemBrowser", "signingOutInSystemBrowser", "waitingInWindow", "signingOutInWindow"]);
export const UI_ONLY_STEPS = Object.freeze(["loading", "savingConfig"]);

/** Steps waiting in the user's own browser: the screen offers Cancel and "Open the browser again". */
export function inBrowser(step) {
  return ["waitingInBrowser", "signingOutInBrowser", "waitingInSystemBrowser", "signingOutInSystemBrowser"].includes(step);
}

/**
 * Embedded mode, a few seconds into a sign-in window step: the screen offers "Show the sign-in
 * window" and Cancel, whether or not the user can see the window (issue 8).
 */
export function inWindow(step) {
  return step === "waitingInWindow" || step === "signingOutInWindow";
}

/** Which controls the waiting screen shows for `step`: "browser", "window" or "" (none). */
export function controlsFor(step) {
  return inBrowser(step) ? "browser" : inWindow(step) ? "window" : "";
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

/** The mode the registration screen has selected: the user's choice, else the current one. */
export function chosenMode(model) {
  const modes = (model.view && model.view.userAgents) || [];
  if (modes.length < 2) return null;
  return modes.includes(model.mode) ? model.mode : model.view.userAgent;
}

export function stepText(step) {
  return Object.prototype.hasOwnProperty.call(STEP_TEXT, step) ? STEP_TEXT[step] : "Working…";
}

// The step shown as soon as the user clicks, before the backend's first `progress` event.
const FIRST_STEP = {
  load: "loading",
  register: "waitingForSignIn",
  signIn: "waitingForSignIn",
  refresh: "refreshing",
  signOut: "signingOut",
  forget: "forgetting",
  rotateKey: "rotatingKey",
  installConfig: "savingConfig",
};

function firstStep(action, view) {
  if (action === "finishCleanup") {
    return view && view.pendingServerCleanup === "forget" ? "forgetting" : "signingOut";
  }
  return FIRST_STEP[action] || null;
}

// A one-line notice after an action succeeds, so the change is announced (role=status).
const DONE_NOTICE = {
  refresh: "The access token was refreshed.",
  signOut: "You have signed out.",
  forget: "This device was forgotten. Its registration was deleted.",
  installConfig: "The configuration was saved. The app uses it from now on.",
  rotateKey: "The device key was rotated. The identity server now accepts only the new key.",
};

/** A picked file larger than this is refused before it is read (the shell refuses it too). */
export const MAX_CONFIG_BYTES = 64 * 1024;

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

// The notice after a command resolved. A partial success shown with a Try again callout (the
// view's pendingServerCleanup) needs no notice on top; one that cannot be retried says so here.
function doneNotice(action, view, before) {
  if (view.pendingServerCleanup) return null;
  if (action === "finishCleanup") {
    return before === "forget" ? DONE_NOTICE.forget : before === "signOut" ? DONE_NOTICE.signOut : null;
  }
  if (action === "signOut" && view.lastEvent === "signedOutLocally") return PARTIAL_TEXT.signOutUnsupported;
  if (action === "forget" && view.lastEvent === "forgottenLocally") return PARTIAL_TEXT.forget;
  return DONE_NOTICE[action] || null;
}

/** The callout for a server part still to do: `{kind, text}` or null. */
export function pendingCleanup(view) {
  const kind = view && view.pendingServerCleanup;
  return kind === "signOut" || kind === "forget" ? { kind, text: PARTIAL_TEXT[kind] } : null;
}

/**
 * Returns the next model. Events:
 * - `{type:"loaded", view}`: a StateView from get_state or the state-changed event.
 * - `{type:"started", action}`: the user asked for `action`; show progress right away.
 * - `{type:"progress", step}`: the backend's progress event.
 * - `{type:"refused", host}`: the sign-in window refused a page on `host` (and stayed put).
 * - `{type:"finished", action, view}`: the command resolved with `view`.
 * - `{type:"failed", error:{kind,message}, retry}`: the command rejected; `retry` is the action.
 * - `{type:"notice", text}` / `{type:"dismissNotice"}`.
 * - `{type:"back"}`: leave the error screen for the screen the state implies.
 * - `{type:"aboutOpened", about}` / `{type:"aboutStatus", text}` / `{type:"aboutClosed"}`: the
 *   About this device dialog (`about` is the `about` command's answer), its status line.
 *
 * A `configMissing` failure (no config anywhere) opens the setup screen (`model.setup`); a
 * failed `installConfig` stays on it and shows why the chosen file cannot be used.
 */
export function transition(model, event) {
  switch (event && event.type) {
    case "loaded":
      // While a command runs, its progress screen stays; only the facts underneath change.
      return { ...model, view: normalizeView(event.view) };
    case "started":
      return {
        ...model,
        busy: true,
        action: event.action,
        step: firstStep(event.action, model.view),
        phase: null,
        error: null,
        notice: null,
        refused: null,
      };
    case "progress":
      // The background refresh's own progress: Home stays, its countdown says "refreshing…".
      if (model.refreshing && !model.busy && event.step === "refreshing") return model;
      // `phase` is the engine's last step: a shell step (waiting in the browser) keeps it, so
      // the onboarding indicator still knows whether this is the registration or the sign-in.
      return { ...model, busy: true, step: event.step, phase: SHELL_STEPS.includes(event.step) ? model.phase : event.step };
    case "chooseMode":
      // The registration screen's choice; sent with `register` (see chosenMode).
      return { ...model, mode: typeof event.mode === "string" ? event.mode : null };
    case "refused":
      // Only while a command runs: the window exists only then, and a late event must not
      // resurface on an idle screen.
      return model.busy ? { ...model, refused: refusedText(event.host) } : model;
    case "finished": {
      const view = normalizeView(event.view);
      const before = model.view && model.view.pendingServerCleanup;
      return {
        ...model,
        view,
        busy: false,
        step: null,
        error: null,
        setup: null,
        refused: null,
        notice: doneNotice(event.action, view, before),
      };
    }
    case "failed":
      return failed(model, event.error, event.retry);
    case "notice":
      return { ...model, notice: event.text ? String(event.text) : null };
    case "dismissNotice":
      return { ...model, notice: null };
    // Background refresh (issue 9): not a command the user started, so no progress screen.
    case "backgroundRefresh":
      return { ...model, refreshing: true };
    case "backgroundRefreshed":
      return { ...model, refreshing: false, view: normalizeView(event.view) };
    case "backgroundFailed": {
      const { message } = normalizeError(event.error);
      const text = `The access token could not be refreshed in the background${message ? `: ${message}` : "."}`;
      return { ...model, refreshing: false, notice: text };
    }
    case "back":
      return { ...model, error: null };
    case "aboutOpened":
      return event.about && typeof event.about === "object" ? { ...model, about: { view: event.about, status: null } } : model;
    case "aboutStatus":
      return model.about ? { ...model, about: { ...model.about, status: event.text ? String(event.text) : null } } : model;
    case "aboutClosed":
      return { ...model, about: null };
    default:
      return model;
  }
}

function failed(model, rawError, retry) {
  const error = normalizeError(rawError);
  const idle = { ...model, busy: false, step: null, refused: null };
  if (error.kind === "configMissing") {
    const setup = error.setup || { searched: [], saveTo: null };
    return { ...idle, error: null, notice: null, setup: { ...setup, error: null } };
  }
  if (retry === "installConfig" && model.setup) {
    // Nothing was saved: stay on the setup screen and say what is wrong with the file.
    const { kind, message } = error;
    return { ...idle, error: null, notice: null, setup: { ...model.setup, error: { kind, message } } };
  }
  if (error.kind === "cancelled") {
    // Neutral: the state is unchanged, so the screen it implies is the one the user left.
    const text = retry === "signOut" ? "Sign-out was cancelled." : "Sign-in was cancelled.";
    return { ...idle, error: null, notice: text };
  }
  if (error.kind === "invalidClient") {
    // The engine has wiped the registration (architecture: on invalid_client → Unregistered with
    // reason "revoked"); mirror that now rather than wait for the state-changed event.
    return { ...idle, error: null, notice: null, view: revokedView(model.view) };
  }
  return { ...idle, notice: null, error: describeError(error, retry, model.view !== null) };
}

/** Which screen the model shows: loading | progress | setup | error | register | signIn | home. */
export function screenOf(model) {
  if (model.busy) return model.action === "load" && !model.view ? "loading" : "progress";
  if (model.setup) return "setup";
  if (model.error) return "error";
  if (!model.view) return "loading";
  switch (model.view.state) {
    case "signedIn":
      return "home";
    case "registered":
      return "signIn";
    default:
      return "register";
  }
}

/** Index of the current step in Register device → Sign in → Done, or -1 for no indicator. */
export function onboardingStep(model) {
  const screen = screenOf(model);
  if (screen === "register") return 0;
  if (screen === "signIn") return 1;
  if (screen === "progress") {
    if (model.step === "signingIn" || model.phase === "signingIn") return 1;
    if (model.action === "register") return 0;
    if (model.action === "signIn") return 1;
  }
  return -1;
}

/**
 * Maps an error `{kind, message}` to what the error screen says and offers. `message` is already
 * sanitized by the shell (plain text, no secrets); decisions are made on `kind` only.
 */
export function describeError(error, retry, hasState) {
  const { kind, message } = normalizeError(error);
  const canRetry = Boolean(retry);
  // Without a known state, "Back" has nowhere to go: offer "Try again" instead.
  const back = hasState ? ["back"] : canRetry ? ["retry"] : [];
  const screen = errorScreenFor(kind);
  const actions = {
    none: [],
    retry: canRetry ? ["retry"] : [],
    retryOrBack: canRetry ? ["retry", ...back.filter((a) => a !== "retry")] : back,
    back,
  }[screen.actions];
  return { kind, message, retry: retry || null, title: screen.title, help: screen.help, actions };
}

function revokedView(view) {
  return {
    ...(view || { issuerHost: null }),
    state: "unregistered",
    reason: "revoked",
    registration: null,
    user: null,
    accessTokenExpiresAt: null,
    tokenFingerprint: null,
    pendingServerCleanup: null,
  };
}

/**
 * Accepts whatever the shell rejected with: `{kind, message}` (plus `setup` for configMissing),
 * a string, or an Error.
 */
export function normalizeError(error) {
  if (error && typeof error === "object" && typeof error.kind === "string") {
    const setup = normalizeSetup(error.setup);
    return setup ? { kind: error.kind, message: clip(error.message), setup } : { kind: error.kind, message: clip(error.message) };
  }
  if (typeof error === "string") return { kind: "unknown", message: clip(error) };
  if (error && typeof error.message === "string") return { kind: "unknown", message: clip(error.message) };
  return { kind: "unknown", message: "" };
}

// `{searched: [path…], saveTo: path|null}`: local paths the setup screen lists.
function normalizeSetup(setup) {
  if (!setup || typeof setup !== "object") return null;
  const searched = Array.isArray(setup.searched) ? setup.searched.filter((p) => typeof p === "string").map(clip) : [];
  return { searched, saveTo: typeof setup.saveTo === "string" ? clip(setup.saveTo) : null };
}

/** Why a picked file cannot be a config before it is even read, or null. `file`: {name, size}. */
export function configFileProblem(file) {
  if (!file) return null;
  if (typeof file.size === "number" && file.size > MAX_CONFIG_BYTES) {
    return {
      kind: "config",
      message: `${file.name} is too large for a config.json (${file.size} bytes; at most ${MAX_CONFIG_BYTES}).`,
    };
  }
  return null;
}

function clip(text) {
  const s = text == null ? "" : String(text);
  return s.length > 600 ? s.slice(0, 599) + "…" : s;
}

function normalizeView(view) {
  const v = view && typeof view === "object" ? view : {};
  const state = ["unregistered", "registered", "signedIn"].includes(v.state) ? v.state : "unregistered";
  return {
    state,
    reason: typeof v.reason === "string" ? v.reason : null,
    issuerHost: typeof v.issuerHost === "string" ? v.issuerHost : null,
    registration: v.registration && typeof v.registration === "object" ? v.registration : null,
    user: v.user && typeof v.user === "object" ? v.user : null,
    accessTokenExpiresAt: typeof v.accessTokenExpiresAt === "number" ? v.accessTokenExpiresAt : null,
    tokenFingerprint: typeof v.tokenFingerprint === "string" ? v.tokenFingerprint : null,
    lastEvent: typeof v.lastEvent === "string" ? v.lastEvent : null,
    pendingServerCleanup: ["signOut", "forget"].includes(v.pendingServerCleanup) ? v.pendingServerCleanup : null,
    credential: ["clientSecret", "deviceKey"].includes(v.credential) ? v.credential : null,
    tokensBound: v.tokensBound === true,
    deviceKeyThumbprint: typeof v.deviceKeyThumbprint === "string" ? v.deviceKeyThumbprint : null,
    userAgent: typeof v.userAgent === "string" ? v.userAgent : "embedded",
    userAgents: Array.isArray(v.userAgents) ? v.userAgents.filter((mode) => Object.hasOwn(MODE_TEXT, mode)) : [],
  };
}

/** What the Home screen's "Credential" row says for each `credential` of the StateView. */
export const CREDENTIAL_TEXT = Object.freeze({
  clientSecret: "Client secret",
  deviceKey: "Device key (no shared secret)",
});

/**
 * How this device proves itself, for the Home screen: `{label, thumbprint, bound, canRotate}` or
 * null when the view does not say (an older backend). Only a device-key registration can rotate
 * its key (RFC 7592 §2.2 update with a new `jwks`).
 */
export function deviceCredential(view) {
  const credential = view && view.credential;
  if (!Object.prototype.hasOwnProperty.call(CREDENTIAL_TEXT, credential || "")) return null;
  const deviceKey = credential === "deviceKey";
  return {
    label: CREDENTIAL_TEXT[credential],
    thumbprint: deviceKey ? shortThumbprint(view.deviceKeyThumbprint) : null,
    bound: view.tokensBound === true,
    canRotate: deviceKey,
  };
}

/** An RFC 7638 thumbprint (43 base64url characters) cut to its first and last 6, for display. */
export function shortThumbprint(thumbprint) {
  if (typeof thumbprint !== "string") return null;
  const clean = thumbprint.replace(/[^A-Za-z0-9_-]/g, "");
  if (!clean) return null;
  return clean.length > 16 ? `${clean.slice(0, 6)}…${clean.slice(-6)}` : clean;
}

/** What Home's countdown says while a background refresh is in flight (issue 9). */
export const REFRESHING_TEXT = "refreshing…";

/** "in 4 min 05 s", "in 2 h 05 min", "in 3 days 4 h", or "expired". Times are unix seconds. */
export function formatCountdown(expiresAt, now) {
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) return "unknown";
  const left = Math.floor(expiresAt - now);
  if (left <= 0) return "expired";
  const pad = (n) => String(n).padStart(2, "0");
  if (left < 60) return `in ${left} s`;
  if (left < 3600) return `in ${Math.floor(left / 60)} min ${pad(left % 60)} s`;
  if (left < 86400) return `in ${Math.floor(left / 3600)} h ${pad(Math.floor((left % 3600) / 60))} min`;
  const days = Math.floor(left / 86400);
  const hours = Math.floor((left % 86400) / 3600);
  return `in ${days} ${days === 1 ? "day" : "days"}` + (hours ? ` ${hours} h` : "");
}

/** A unix time as a local date and time, e.g. "26 Nov 2025, 05:12". */
export function formatTimestamp(unix, locale, timeZone) {
  if (typeof unix !== "number" || !Number.isFinite(unix)) return "unknown";
  return new Date(unix * 1000).toLocaleString(locale, {
    dateStyle: "medium",
    timeStyle: "short",
    ...(timeZone ? { timeZone } : {}),
  });
}

/** RFC 7591 §3.2.1: client_secret_expires_at 0 (here also null) means the secret never expires. */
export function formatSecretExpiry(unix, locale, timeZone) {
  if (unix === null || unix === undefined || unix === 0) return "Never";
  return formatTimestamp(unix, locale, timeZone);
}

/** A claim value as display text: strings as they are, everything else as JSON. */
// OpenID Connect Core §5.1 standard claims, as a person would name them.
const CLAIM_LABELS = {
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
};

/** A readable label for a claim name; unknown claims keep their own name. */
export function claimLabel(name) {
  return Object.prototype.hasOwnProperty.call(CLAIM_LABELS, name) ? CLAIM_LABELS[name] : name;
}

export function formatClaim(value) {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null || value === undefined) return "";
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}
