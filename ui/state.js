// The UI's state machine: a pure `transition(model, event)` and the questions asked of a model
// (which screen, which onboarding step). No DOM, no Tauri, no clock: everything it needs
// arrives in the event, so node tests can drive it.
//
// The engine's `StateView` (state, reason, registration, user, token expiry, when to refresh)
// is the truth, and a failed command's reply carries the state the engine is in afterwards:
// nothing here infers the engine's state from an error. The model adds only what the screen
// needs on top of it: which action is running, the progress step, the error being shown, and a
// one-line notice. The words live in `copy.js` and `errors.js`.

import { errorScreenFor } from "./errors.js";
import { CANCELLED_NOTICE, DONE_NOTICE, MODE_TEXT, PARTIAL_TEXT, SHELL_STEPS, backgroundFailedNotice, refusedText } from "./copy.js";

/** What the model looks like before `get_state` has answered. */
export function initialModel() {
  return { view: null, busy: false, action: null, step: null, error: null, notice: null, setup: null, refused: null, about: null, refreshing: false };
}

/** Steps waiting in the user's own browser: the screen offers Cancel and "Open the browser again". */
export function inBrowser(step) {
  return ["waitingInBrowser", "signingOutInBrowser", "waitingInSystemBrowser", "signingOutInSystemBrowser"].includes(step);
}

/**
 * Embedded mode, a few seconds into a sign-in window step: the screen offers "Show the sign-in
 * window" and Cancel, whether or not the user can see the window.
 */
export function inWindow(step) {
  return step === "waitingInWindow" || step === "signingOutInWindow";
}

/** Which controls the waiting screen shows for `step`: "browser", "window" or "" (none). */
export function controlsFor(step) {
  return inBrowser(step) ? "browser" : inWindow(step) ? "window" : "";
}

/** The mode the registration screen has selected: the user's choice, else the current one. */
export function chosenMode(model) {
  const modes = (model.view && model.view.userAgents) || [];
  if (modes.length < 2) return null;
  return modes.includes(model.mode) ? model.mode : model.view.userAgent;
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

/** A picked file larger than this is refused before it is read (the shell refuses it too). */
export const MAX_CONFIG_BYTES = 64 * 1024;

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

/**
 * Returns the next model. Events:
 * - `{type:"loaded", view}`: a StateView from get_state or the state-changed event.
 * - `{type:"started", action}`: the user asked for `action`; show progress right away.
 * - `{type:"progress", step}`: the backend's progress event.
 * - `{type:"refused", host}`: the sign-in window refused a page on `host` (and stayed put).
 * - `{type:"finished", action, view}`: the command resolved with `view`.
 * - `{type:"failed", error:{kind,message,state?}, retry}`: the command rejected; `retry` is the
 *   action, `state` the engine's StateView after the failure when the shell could read it.
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
    case "loaded": {
      const view = normalizeView(event.view);
      // Register and Sign in end signed in: their state event says so before their reply,
      // which travels on another channel, behind it. Home is drawn from the event; the reply
      // then only confirms it (see `finished`), or reports what still went wrong.
      if (model.busy && SETTLED_BY_SIGNED_IN.includes(model.action) && view.state === "signedIn") {
        return { ...finish(model, model.action, view), settledEarly: model.action };
      }
      // While a command runs, its progress screen stays; only the facts underneath change.
      return { ...model, view };
    }
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
        settledEarly: null,
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
      if (stale(model, event.action)) return model;
      // The reply of a command its state event already ended: Home is up; the facts follow.
      if (model.settledEarly === event.action) return { ...model, view: normalizeView(event.view), settledEarly: null };
      return finish(model, event.action, normalizeView(event.view));
    }
    case "failed":
      if (stale(model, event.retry)) return model;
      return failed({ ...model, settledEarly: null }, event.error, event.retry);
    case "notice":
      return { ...model, notice: event.text ? String(event.text) : null };
    case "dismissNotice":
      return { ...model, notice: null };
    // Background refresh: not a command the user started, so no progress screen.
    case "backgroundRefresh":
      return { ...model, refreshing: true };
    case "backgroundRefreshed":
      return { ...model, refreshing: false, view: normalizeView(event.view) };
    case "backgroundFailed": {
      // Like a failed command: the engine's state after the failure, when the reply has it.
      const error = normalizeError(event.error);
      return { ...model, refreshing: false, view: error.state || model.view, notice: backgroundFailedNotice(error.message) };
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

// Commands whose state event, once signed in, ends their progress screen (see `loaded`).
const SETTLED_BY_SIGNED_IN = ["register", "signIn"];

function finish(model, action, view) {
  const before = model.view && model.view.pendingServerCleanup;
  return {
    ...model,
    view,
    busy: false,
    step: null,
    error: null,
    setup: null,
    refused: null,
    notice: doneNotice(action, view, before),
  };
}

// A reply for a command other than the one running: the late reply of a command its state
// event ended, arriving after the user started the next one. The running one's own reply
// decides.
function stale(model, action) {
  return model.busy && model.action !== action;
}

function failed(model, rawError, retry) {
  const error = normalizeError(rawError);
  // A failure can move the engine's state (a revoked client is Unregistered now): the reply
  // carries the state it is in afterwards, shown as it is. Without one (the failure came before
  // the engine was asked), the state-changed event or a fresh get_state brings it.
  const idle = { ...model, view: error.state || model.view, busy: false, step: null, refused: null };
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
    // Neutral: the screen the state implies (the one the user left, or the Sign-in screen when
    // the registration before the cancelled sign-in went through), with a notice.
    const text = retry === "signOut" ? CANCELLED_NOTICE.signOut : CANCELLED_NOTICE.signIn;
    return { ...idle, error: null, notice: text };
  }
  if (error.state && errorScreenFor(error.kind).actions === "state") {
    // The engine's state explains this failure on its own screen (a revoked client's
    // Registration screen says so and offers Register again): no error screen in front of it.
    return { ...idle, error: null, notice: null };
  }
  return { ...idle, notice: null, error: describeError(error, retry, idle.view !== null) };
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
    // Shown here only when the reply did not say which state the engine is in now.
    state: back,
  }[screen.actions];
  return { kind, message, retry: retry || null, title: screen.title, help: screen.help, actions };
}

/**
 * Accepts whatever the shell rejected with: `{kind, message}` (plus `setup` for configMissing,
 * and `state`, the engine's StateView after the failure), a string, or an Error.
 */
export function normalizeError(error) {
  if (error && typeof error === "object" && typeof error.kind === "string") {
    const normal = { kind: error.kind, message: clip(error.message) };
    const setup = normalizeSetup(error.setup);
    if (setup) normal.setup = setup;
    if (error.state && typeof error.state === "object") normal.state = normalizeView(error.state);
    return normal;
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
    refreshAt: typeof v.refreshAt === "number" ? v.refreshAt : null,
    tokenFingerprint: typeof v.tokenFingerprint === "string" ? v.tokenFingerprint : null,
    lastEvent: typeof v.lastEvent === "string" ? v.lastEvent : null,
    pendingServerCleanup: ["signOut", "forget"].includes(v.pendingServerCleanup) ? v.pendingServerCleanup : null,
    credential: ["clientSecret", "deviceKey"].includes(v.credential) ? v.credential : null,
    tokensBound: v.tokensBound === true,
    deviceKeyThumbprint: typeof v.deviceKeyThumbprint === "string" ? v.deviceKeyThumbprint : null,
    // Who holds the device key, and the engine's sentence for it (KeyHolder::describe): the
    // words are the engine's so the app and `dcr status` say the same thing.
    deviceKeyHolder: ["software", "tpm"].includes(v.deviceKeyHolder) ? v.deviceKeyHolder : null,
    deviceKeyText: typeof v.deviceKeyText === "string" && v.deviceKeyText !== "" ? clip(v.deviceKeyText) : null,
    userAgent: typeof v.userAgent === "string" ? v.userAgent : "embedded",
    userAgents: Array.isArray(v.userAgents) ? v.userAgents.filter((mode) => Object.hasOwn(MODE_TEXT, mode)) : [],
  };
}
