// The UI's state machine: a pure `transition(model, event)` plus pure formatting helpers.
// No DOM, no Tauri, no clock: everything it needs arrives in the event, so node tests can drive it.
//
// The backend's `StateView` (state, reason, registration, user, token expiry) is the truth; the
// model adds only what the screen needs on top of it: which action is running, the progress
// step, the error being shown, and a one-line notice.

/** What the model looks like before `get_state` has answered. */
export function initialModel() {
  return { view: null, busy: false, action: null, step: null, error: null, notice: null, refused: null };
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
});

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
};

// A one-line notice after an action succeeds, so the change is announced (role=status).
const DONE_NOTICE = {
  refresh: "The access token was refreshed.",
  signOut: "You have signed out.",
  forget: "This device was forgotten. Its registration was deleted.",
};

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
        step: FIRST_STEP[event.action] || null,
        error: null,
        notice: null,
        refused: null,
      };
    case "progress":
      return { ...model, busy: true, step: event.step };
    case "refused":
      // Only while a command runs: the window exists only then, and a late event must not
      // resurface on an idle screen.
      return model.busy ? { ...model, refused: refusedText(event.host) } : model;
    case "finished":
      return {
        ...model,
        view: normalizeView(event.view),
        busy: false,
        step: null,
        error: null,
        refused: null,
        notice: DONE_NOTICE[event.action] || null,
      };
    case "failed":
      return failed(model, event.error, event.retry);
    case "notice":
      return { ...model, notice: event.text ? String(event.text) : null };
    case "dismissNotice":
      return { ...model, notice: null };
    case "back":
      return { ...model, error: null };
    default:
      return model;
  }
}

function failed(model, rawError, retry) {
  const error = normalizeError(rawError);
  const idle = { ...model, busy: false, step: null, refused: null };
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

/** Which screen the model shows: loading | progress | error | register | signIn | home. */
export function screenOf(model) {
  if (model.busy) return model.action === "load" && !model.view ? "loading" : "progress";
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
    if (model.step === "signingIn") return 1;
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
  const base = { kind, message, retry: retry || null };
  switch (kind) {
    case "keychainLocked":
      return {
        ...base,
        title: "The keyring is locked",
        help:
          "This app keeps its credentials in your login keyring. Unlock it (for example in " +
          "Passwords and Keys, or by signing in to your desktop again), then try again.",
        actions: canRetry ? ["retry"] : [],
      };
    case "keychainUnavailable":
      return {
        ...base,
        title: "No keyring is available",
        help:
          "This app keeps its credentials in a Secret Service keyring. Install and start a " +
          "provider such as gnome-keyring (sudo apt install gnome-keyring), then try again.",
        actions: canRetry ? ["retry"] : [],
      };
    case "config":
      return {
        ...base,
        title: "The configuration is invalid",
        help: "Fix config.json as described above, then restart the app.",
        actions: [],
      };
    case "unreachable":
      return {
        ...base,
        title: "The identity server is unreachable",
        help: "Check your network connection and that the identity server is running.",
        actions: canRetry ? ["retry", ...back.filter((a) => a !== "retry")] : back,
      };
    case "serverError":
      return { ...base, title: "The identity server returned an error", help: null, actions: back };
    case "registrationRejected":
      return { ...base, title: "The registration was rejected", help: null, actions: back };
    case "dcrTokenRejected":
      return {
        ...base,
        title: "The identity server did not accept the sign-in for registration",
        help: null,
        actions: back,
      };
    default:
      return { ...base, title: "Something went wrong", help: null, actions: back };
  }
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
  };
}

/** Accepts whatever the shell rejected with: `{kind, message}`, a string, or an Error. */
export function normalizeError(error) {
  if (error && typeof error === "object" && typeof error.kind === "string") {
    return { kind: error.kind, message: clip(error.message) };
  }
  if (typeof error === "string") return { kind: "unknown", message: clip(error) };
  if (error && typeof error.message === "string") return { kind: "unknown", message: clip(error.message) };
  return { kind: "unknown", message: "" };
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
  };
}

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
