// The pure state machine: every event, the cancellation and revocation paths, the error mapping.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chosenMode, configFileProblem, controlsFor, describeError, initialModel, MAX_CONFIG_BYTES, normalizeError, onboardingStep, screenOf, transition } from "../../ui/state.js";
import { refusedText, stepText } from "../../ui/copy.js";
import { deviceCredential, shortThumbprint } from "../../ui/format.js";
import { THUMBPRINT, views } from "./fixtures.mjs";

// Runs events from the initial model, freezing every model on the way: transition must not mutate.
function run(...events) {
  return events.reduce((model, event) => transition(deepFreeze(model), event), deepFreeze(initialModel()));
}
function deepFreeze(value) {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    Object.values(value).forEach(deepFreeze);
  }
  return value;
}
const loaded = (view) => ({ type: "loaded", view });

test("before get_state answers, the loading screen shows", () => {
  assert.equal(screenOf(initialModel()), "loading");
  assert.equal(screenOf(run({ type: "started", action: "load" })), "loading");
});

test("each backend state maps to its screen", () => {
  assert.equal(screenOf(run(loaded(views.unregistered))), "register");
  assert.equal(screenOf(run(loaded(views.registered))), "signIn");
  assert.equal(screenOf(run(loaded(views.signedIn))), "home");
  assert.equal(screenOf(run(loaded({ state: "bogus" }))), "register");
});

test("loaded keeps only the StateView's known fields", () => {
  const model = run(loaded({ ...views.signedIn, clientSecret: "s3cret", accessToken: "eyJ" }));
  assert.deepEqual(Object.keys(model.view).sort(), [
    "accessTokenExpiresAt", "credential", "deviceKeyHolder", "deviceKeyText", "deviceKeyThumbprint", "issuerHost", "lastEvent", "pendingServerCleanup", "reason",
    "refreshAt", "registration", "state", "tokenFingerprint", "tokensBound", "user", "userAgent", "userAgents",
  ]);
  assert.equal(JSON.stringify(model).includes("s3cret"), false);
});

test("started shows progress at once, clearing the notice and any error", () => {
  const before = run(loaded(views.unregistered), { type: "notice", text: "hello" });
  const model = transition(before, { type: "started", action: "register" });
  assert.equal(screenOf(model), "progress");
  assert.equal(model.step, "waitingForSignIn");
  assert.equal(model.notice, null);
  assert.equal(model.error, null);
  assert.equal(model.busy, true);
  assert.equal(onboardingStep(model), 0);
  const first = (action) => run(loaded(views.signedIn), { type: "started", action }).step;
  assert.equal(first("signIn"), "waitingForSignIn");
  assert.equal(first("refresh"), "refreshing");
  assert.equal(first("signOut"), "signingOut");
  assert.equal(first("forget"), "forgetting");
});

test("progress events move the step, and signing in marks the second onboarding step", () => {
  const base = [loaded(views.unregistered), { type: "started", action: "register" }];
  const registering = run(...base, { type: "progress", step: "registering" });
  assert.equal(registering.step, "registering");
  assert.equal(onboardingStep(registering), 0);
  const signingIn = transition(registering, { type: "progress", step: "signingIn" });
  assert.equal(screenOf(signingIn), "progress");
  assert.equal(onboardingStep(signingIn), 1);
  // A progress event with no click before it (backend-initiated) still shows progress.
  assert.equal(screenOf(run(loaded(views.signedIn), { type: "progress", step: "refreshing" })), "progress");
});

test("a state-changed event during a command updates the facts but keeps the progress screen", () => {
  const model = run(loaded(views.unregistered), { type: "started", action: "register" }, loaded(views.registered));
  assert.equal(screenOf(model), "progress");
  assert.equal(model.view.state, "registered");
});

test("Register and Sign in end at their signed-in state event; the reply that follows only confirms", () => {
  for (const action of ["register", "signIn"]) {
    const before = action === "register" ? views.unregistered : views.registered;
    const settled = run(loaded(before), { type: "started", action }, loaded(views.signedIn));
    assert.equal(screenOf(settled), "home", action);
    assert.equal(settled.busy, false);
    const replied = transition(settled, { type: "finished", action, view: views.signedIn });
    assert.equal(screenOf(replied), "home");
    assert.equal(replied.settledEarly, null);
    // A failure reported by the reply still shows.
    const failedAfter = transition(settled, { type: "failed", retry: action, error: { kind: "network", message: "x" } });
    assert.equal(screenOf(failedAfter), "error");
  }
  // Other commands keep their progress screen until the reply: a refresh stays signed in throughout.
  const refreshing = run(loaded(views.signedIn), { type: "started", action: "refresh" }, loaded(views.signedIn));
  assert.equal(screenOf(refreshing), "progress");
});

test("a late reply of an earlier command does not end the one running now", () => {
  const settled = run(loaded(views.registered), { type: "started", action: "signIn" }, loaded(views.signedIn));
  const refreshing = transition(settled, { type: "started", action: "refresh" });
  const late = transition(refreshing, { type: "finished", action: "signIn", view: views.signedIn });
  assert.equal(screenOf(late), "progress");
  assert.equal(late.action, "refresh");
  const lateFailure = transition(refreshing, { type: "failed", retry: "signIn", error: { kind: "network", message: "x" } });
  assert.equal(screenOf(lateFailure), "progress");
  assert.equal(screenOf(transition(late, { type: "finished", action: "refresh", view: views.signedIn })), "home");
});

test("finished shows the screen of the final state, with a notice for refresh, sign-out, forget", () => {
  const registered = run(loaded(views.unregistered), { type: "started", action: "register" },
    { type: "finished", action: "register", view: views.signedIn });
  assert.equal(screenOf(registered), "home");
  assert.equal(registered.busy, false);
  assert.equal(registered.notice, null);
  assert.equal(onboardingStep(registered), -1);
  const after = (action, view) => run(loaded(views.signedIn), { type: "started", action }, { type: "finished", action, view });
  assert.match(after("refresh", views.signedIn).notice, /refreshed/);
  assert.equal(screenOf(after("signOut", views.registered)), "signIn");
  assert.match(after("signOut", views.registered).notice, /signed out/);
  assert.equal(screenOf(after("forget", views.forgotten)), "register");
  assert.match(after("forget", views.forgotten).notice, /forgotten/);
});

test("cancellation is neutral: the previous screen with 'Sign-in was cancelled'", () => {
  for (const [view, screen, action] of [[views.unregistered, "register", "register"], [views.registered, "signIn", "signIn"]]) {
    const before = run(loaded(view));
    const model = transition(transition(before, { type: "started", action }),
      { type: "failed", error: { kind: "cancelled", message: "closed" }, retry: action });
    assert.equal(screenOf(model), screen);
    assert.equal(model.notice, "Sign-in was cancelled.");
    assert.equal(model.error, null);
    assert.equal(model.busy, false);
    assert.deepEqual(model.view, before.view, "the state is unchanged");
  }
});

test("cancelling the SSO sign-in after registration succeeded lands on the Sign-in screen", () => {
  const model = run(loaded(views.unregistered), { type: "started", action: "register" },
    { type: "progress", step: "signingIn" }, loaded(views.registered),
    { type: "failed", error: { kind: "cancelled", message: "" }, retry: "register" });
  assert.equal(screenOf(model), "signIn");
  assert.equal(model.notice, "Sign-in was cancelled.");
});

test("cancelling sign-out says so", () => {
  const model = run(loaded(views.signedIn), { type: "started", action: "signOut" },
    { type: "failed", error: { kind: "cancelled", message: "" }, retry: "signOut" });
  assert.equal(model.notice, "Sign-out was cancelled.");
  assert.equal(screenOf(model), "home");
});

test("invalidClient shows the engine's state from the reply: the Registration screen, revoked", () => {
  for (const action of ["refresh", "signIn"]) {
    const start = action === "refresh" ? views.signedIn : views.registered;
    const model = run(loaded(start), { type: "started", action },
      { type: "failed", error: { kind: "invalidClient", message: "invalid_client", state: views.revoked }, retry: action });
    assert.equal(screenOf(model), "register");
    assert.equal(model.view.reason, "revoked");
    assert.equal(model.view.registration, null);
    assert.equal(model.view.user, null);
    assert.equal(model.view.tokenFingerprint, null);
    assert.equal(model.view.issuerHost, "127.0.0.1:8443");
    assert.equal(model.error, null);
  }
});

test("the window never infers the engine's state from an error kind", () => {
  // No state in the reply: the error screen says what happened, over the last known state,
  // until the state-changed event or get_state brings the engine's.
  const model = run(loaded(views.signedIn), { type: "started", action: "refresh" },
    { type: "failed", error: { kind: "invalidClient", message: "invalid_client" }, retry: "refresh" });
  assert.equal(screenOf(model), "error");
  assert.equal(model.error.title, "This device's registration is no longer valid");
  assert.deepEqual(model.error.actions, ["back"]);
  assert.equal(model.view.state, "signedIn", "not guessed");
  const later = transition(model, loaded(views.revoked));
  assert.equal(screenOf(transition(later, { type: "back" })), "register");
  // Whatever the kind, the reply's state is the one shown: here the engine kept the sign-in.
  const kept = run(loaded(views.signedIn), { type: "started", action: "refresh" },
    { type: "failed", error: { kind: "unreachable", message: "no route", state: views.signedIn }, retry: "refresh" });
  assert.equal(kept.view.state, "signedIn");
  assert.equal(screenOf(kept), "error");
  // A cancelled SSO sign-in after a registration: the reply says Registered.
  const cancelled = run(loaded(views.unregistered), { type: "started", action: "register" },
    { type: "failed", error: { kind: "cancelled", message: "", state: views.registered }, retry: "register" });
  assert.equal(screenOf(cancelled), "signIn");
});

test("a StateView with reason revoked shows the Registration screen", () => {
  assert.equal(screenOf(run(loaded(views.revoked))), "register");
});

test("error kinds map to their screen and actions", () => {
  const fail = (kind, start = views.signedIn, action = "refresh") =>
    run(loaded(start), { type: "started", action }, { type: "failed", error: { kind, message: `m-${kind}` }, retry: action });
  const cases = {
    keychainLocked: [/keyring is locked/, ["retry"]],
    keychainUnavailable: [/No keyring/, ["retry"]],
    config: [/configuration is invalid/, []],
    unreachable: [/unreachable/, ["retry", "back"]],
    serverError: [/returned an error/, ["back"]],
    registrationRejected: [/registration was rejected/, ["back"]],
    dcrTokenRejected: [/did not accept/, ["back"]],
    somethingNew: [/Something went wrong/, ["back"]],
  };
  for (const [kind, [title, actions]] of Object.entries(cases)) {
    const model = fail(kind);
    assert.equal(screenOf(model), "error", kind);
    assert.match(model.error.title, title, kind);
    assert.deepEqual(model.error.actions, actions, kind);
    assert.equal(model.error.message, `m-${kind}`, kind);
    assert.equal(model.error.kind, kind);
    assert.equal(model.error.retry, "refresh");
    assert.equal(model.busy, false);
  }
  assert.match(fail("keychainUnavailable").error.help, /gnome-keyring/);
  assert.match(fail("keychainLocked").error.help, /Unlock/);
});

test("without a known state, errors offer Try again instead of Back", () => {
  const model = run({ type: "started", action: "load" }, { type: "failed", error: { kind: "internal", message: "x" }, retry: "load" });
  assert.equal(screenOf(model), "error");
  assert.deepEqual(model.error.actions, ["retry"]);
  assert.equal(model.error.retry, "load");
  assert.deepEqual(run({ type: "failed", error: { kind: "config", message: "k" }, retry: "load" }).error.actions, []);
});

test("back leaves the error screen for the state's screen; a later command clears the error", () => {
  const failed = run(loaded(views.registered), { type: "started", action: "signIn" },
    { type: "failed", error: { kind: "serverError", message: "access_denied" }, retry: "signIn" });
  assert.equal(screenOf(transition(failed, { type: "back" })), "signIn");
  const retried = transition(failed, { type: "started", action: failed.error.retry });
  assert.equal(retried.error, null);
  assert.equal(screenOf(retried), "progress");
});

test("a state-changed event does not hide an error the user has not acted on", () => {
  const failed = run(loaded(views.signedIn), { type: "failed", error: { kind: "unreachable", message: "" }, retry: "refresh" });
  assert.equal(screenOf(transition(failed, loaded(views.signedIn))), "error");
});

test("notice and dismissNotice; unknown events change nothing", () => {
  const model = run(loaded(views.registered), { type: "notice", text: "Hello" });
  assert.equal(model.notice, "Hello");
  assert.equal(transition(model, { type: "dismissNotice" }).notice, null);
  assert.equal(transition(model, { type: "nope" }), model);
  assert.equal(transition(model, undefined), model);
});

test("errors of any shape become {kind, message}, clipped", () => {
  assert.deepEqual(normalizeError("command get_state not found"), { kind: "unknown", message: "command get_state not found" });
  assert.deepEqual(normalizeError(new Error("boom")), { kind: "unknown", message: "boom" });
  assert.deepEqual(normalizeError(null), { kind: "unknown", message: "" });
  assert.deepEqual(normalizeError({ kind: "config", message: null }), { kind: "config", message: "" });
  assert.equal(normalizeError({ kind: "x", message: "a".repeat(5000) }).message.length, 600);
  assert.equal(describeError({ kind: "unreachable", message: "" }, null, true).actions[0], "back");
});

// No config anywhere is not an error screen and not a default config; it is
// the setup screen, which lists where the app looked.
const SEARCHED = ["/home/u/.config/io.curity.dcrclient/config.json", "/etc/io.curity.dcrclient/config.json"];
const missing = {
  kind: "configMissing",
  message: "No configuration was found.",
  setup: { searched: SEARCHED, saveTo: SEARCHED[0] },
};

test("configMissing at load opens the setup screen with the searched paths", () => {
  const model = run({ type: "started", action: "load" }, { type: "failed", error: missing, retry: "load" });
  assert.equal(screenOf(model), "setup");
  assert.deepEqual(model.setup, { searched: SEARCHED, saveTo: SEARCHED[0], error: null });
  assert.equal(model.error, null);
  assert.equal(model.busy, false);
  assert.equal(onboardingStep(model), -1);
});

test("a refused config file stays on the setup screen with its message; a valid one moves on", () => {
  const setup = run({ type: "failed", error: missing, retry: "load" });
  const saving = transition(setup, { type: "started", action: "installConfig" });
  assert.equal(screenOf(saving), "progress");
  assert.equal(saving.step, "savingConfig");
  const refused = transition(saving, {
    type: "failed",
    error: { kind: "config", message: "config key `registrationClientId` is not recognised" },
    retry: "installConfig",
  });
  assert.equal(screenOf(refused), "setup");
  assert.deepEqual(refused.setup.error, { kind: "config", message: "config key `registrationClientId` is not recognised" });
  assert.deepEqual(refused.setup.searched, SEARCHED, "the list stays");
  assert.equal(refused.error, null);
  const notSaved = transition(transition(refused, { type: "started", action: "installConfig" }),
    { type: "failed", error: { kind: "configNotSaved", message: "disk full" }, retry: "installConfig" });
  assert.equal(screenOf(notSaved), "setup");
  assert.equal(notSaved.setup.error.message, "disk full");
  const done = transition(transition(refused, { type: "started", action: "installConfig" }),
    { type: "finished", action: "installConfig", view: views.unregistered });
  assert.equal(screenOf(done), "register");
  assert.equal(done.setup, null);
  assert.match(done.notice, /configuration was saved/);
});

test("the setup payload is normalized: strings only, missing fields become empty", () => {
  const odd = run({ type: "failed", error: { kind: "configMissing", message: "", setup: { searched: ["/a", 7, null], saveTo: 3 } }, retry: "load" });
  assert.deepEqual(odd.setup, { searched: ["/a"], saveTo: null, error: null });
  const bare = run({ type: "failed", error: { kind: "configMissing", message: "" }, retry: "load" });
  assert.deepEqual(bare.setup, { searched: [], saveTo: null, error: null });
  assert.deepEqual(normalizeError({ kind: "config", message: "m" }), { kind: "config", message: "m" }, "no setup key otherwise");
});

test("a picked file too large for a config is refused before it is read", () => {
  assert.equal(configFileProblem({ name: "config.json", size: 300 }), null);
  assert.equal(configFileProblem(null), null);
  const problem = configFileProblem({ name: "huge.json", size: MAX_CONFIG_BYTES + 1 });
  assert.equal(problem.kind, "config");
  assert.match(problem.message, /huge\.json is too large/);
});

test("a page the sign-in window refused is named while waiting, and forgotten afterwards", () => {
  const waiting = run(loaded(views.unregistered), { type: "started", action: "register" });
  const refused = transition(waiting, { type: "refused", host: "evil.example" });
  assert.equal(refused.refused, "The sign-in window refused to open a page on evil.example.");
  assert.equal(screenOf(refused), "progress", "still waiting: the window stays open");
  assert.equal(refused.step, "waitingForSignIn");
  const again = transition(refused, { type: "refused", host: "file:" });
  assert.equal(again.refused, "The sign-in window refused to open a file: address.");
  // Cancelling (closing the window) ends it with the neutral notice, and the refusal is gone.
  const cancelled = transition(again, { type: "failed", error: { kind: "cancelled", message: "" }, retry: "register" });
  assert.equal(cancelled.refused, null);
  assert.equal(cancelled.notice, "Sign-in was cancelled.");
  // A late event on an idle screen changes nothing.
  assert.equal(transition(cancelled, { type: "refused", host: "late.example" }), cancelled);
  // Invisible and control characters never reach the screen.
  assert.equal(refusedText("ev\u202eil\u200b.example\u0007"), "The sign-in window refused to open a page on evil.example.");
  assert.equal(refusedText(null), "The sign-in window refused to open a page.");
  assert.equal(refusedText("x".repeat(200)).length, "The sign-in window refused to open a page on .".length + 80);
});

test("how the device proves itself: client secret, device key, bound tokens; unknown values are dropped", () => {
  assert.deepEqual(deviceCredential(run(loaded(views.signedInSecret)).view), {
    label: "Client secret", thumbprint: null, keyHolderText: null, bound: false, canRotate: false,
  });
  assert.deepEqual(deviceCredential(run(loaded(views.signedInDeviceKey)).view), {
    label: "Device key (no shared secret)", thumbprint: "NzbLsX…RGC9Xs", keyHolderText: "Device key stored in the keychain", bound: true, canRotate: true,
  });
  assert.equal(deviceCredential(run(loaded(views.signedInTpm)).view).keyHolderText, "Device key held by this computer's TPM (cannot be copied)");
  assert.equal(deviceCredential(run(loaded(views.signedInDeviceKeyUnbound)).view).bound, false);
  // An older backend without the fields, or a value the UI does not know: no row, no button.
  assert.equal(deviceCredential(run(loaded({ ...views.signedIn, credential: undefined })).view), null);
  const odd = run(loaded({ ...views.signedIn, credential: "password", tokensBound: "yes", deviceKeyThumbprint: 7, deviceKeyHolder: "usb", deviceKeyText: 7 })).view;
  assert.equal(odd.credential, null);
  assert.equal(odd.deviceKeyHolder, null);
  assert.equal(odd.deviceKeyText, null);
  assert.equal(odd.tokensBound, false);
  assert.equal(odd.deviceKeyThumbprint, null);
  assert.equal(deviceCredential(odd), null);
});

test("a thumbprint is shortened for display and stripped of anything but base64url", () => {
  assert.equal(shortThumbprint(THUMBPRINT), "NzbLsX…RGC9Xs");
  assert.equal(shortThumbprint("abc<b>def"), "abcbdef");
  assert.equal(shortThumbprint(""), null);
  assert.equal(shortThumbprint(null), null);
});

test("rotating the device key shows its progress step, then Home with a notice and the new thumbprint", () => {
  const started = run(loaded(views.signedInDeviceKey), { type: "started", action: "rotateKey" });
  assert.equal(screenOf(started), "progress");
  assert.equal(started.step, "rotatingKey");
  assert.equal(stepText(started.step), "Rotating the device key…");
  const done = transition(started, { type: "finished", action: "rotateKey", view: views.rotated });
  assert.equal(screenOf(done), "home");
  assert.equal(done.notice, "The device key was rotated. The identity server now accepts only the new key.");
  assert.equal(deviceCredential(done.view).thumbprint, "0vx7ag…aiAFbW");
});

test("a refused rotation keeps Home's facts and shows the error with Try again", () => {
  const started = run(loaded(views.signedInDeviceKey), { type: "started", action: "rotateKey" });
  const failed = transition(started, { type: "failed", error: { kind: "registrationRejected", message: "refused" }, retry: "rotateKey" });
  assert.equal(screenOf(failed), "error");
  assert.equal(failed.error.retry, "rotateKey");
  assert.equal(failed.view.deviceKeyThumbprint, THUMBPRINT, "the old key is still the one shown");
  assert.equal(screenOf(transition(failed, { type: "back" })), "home");
});

test("the registration screen's mode: the current one until the user chooses another allowed one", () => {
  const one = run(loaded({ ...views.unregistered, userAgent: "loopback", userAgents: ["loopback"] }));
  assert.equal(chosenMode(one), null, "one allowed mode: no choice, nothing sent");
  assert.equal(chosenMode(run(loaded(views.unregistered))), null, "a backend without modes: no choice");
  const several = { ...views.unregistered, userAgent: "embedded", userAgents: ["embedded", "loopback", "bogus"] };
  const model = run(loaded(several));
  assert.deepEqual(model.view.userAgents, ["embedded", "loopback"], "unknown modes are dropped");
  assert.equal(chosenMode(model), "embedded");
  assert.equal(chosenMode(transition(model, { type: "chooseMode", mode: "loopback" })), "loopback");
  assert.equal(chosenMode(transition(model, { type: "chooseMode", mode: "system" })), "embedded", "not allowed: the current one");
});

test("each waiting step has its controls: the browser's, the sign-in window's, or none", () => {
  for (const step of ["waitingInBrowser", "signingOutInBrowser", "waitingInSystemBrowser", "signingOutInSystemBrowser"]) {
    assert.equal(controlsFor(step), "browser", step);
  }
  for (const step of ["waitingInWindow", "signingOutInWindow"]) assert.equal(controlsFor(step), "window", step);
  for (const step of ["waitingForSignIn", "signingIn", "registering", null]) assert.equal(controlsFor(step), "", step);
  // A shell step keeps the onboarding phase: the sign-in window offer after the SSO sign-in
  // is still step 2.
  const model = run(loaded(views.unregistered), { type: "started", action: "register" }, { type: "progress", step: "signingIn" }, { type: "progress", step: "waitingInWindow" });
  assert.equal(onboardingStep(model), 1);
  assert.equal(stepText("waitingInSystemBrowser"), "Finish signing in in your browser");
});
