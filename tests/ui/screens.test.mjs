// Screens build DOM from state with createElement and text nodes only, and carry the ids the
// end-to-end tests use. The fake document has no HTML parser: innerHTML would throw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { initialModel, transition } from "../../ui/state.js";
import { registerScreen } from "../../ui/screens/register.js";
import { signInScreen } from "../../ui/screens/sign-in.js";
import { homeScreen, initials } from "../../ui/screens/home.js";
import { errorScreen } from "../../ui/screens/error.js";
import { progressScreen, progressHint } from "../../ui/screens/progress.js";
import { setupScreen } from "../../ui/screens/setup.js";
import { aboutContent } from "../../ui/screens/about.js";
import { allElements, byId, byTag, fakeDocument as doc, text } from "./fake-dom.mjs";
import { NOW, views } from "./fixtures.mjs";

const ctx = { doc, now: NOW, locale: "en-GB" };
const modelWith = (...events) => events.reduce(transition, initialModel());
const loaded = (view) => ({ type: "loaded", view });
const BOUND = new Set(["register", "signIn", "refresh", "signOut", "openForget", "cancelForget", "forget", "retry", "back", "finishCleanup", "rotateKey", "openAbout"]);
const XSS = "<img src=x onerror=alert(1)>";

function assertButtonsSound(root) {
  for (const b of byTag(root, "button")) {
    assert.equal(b.getAttribute("type"), "button", `${b.id} has type=button`);
    assert.ok(text(b).length > 0, `${b.id} has a name`);
    assert.ok(BOUND.has(b.getAttribute("data-action")), `${b.id} routes to a bound action`);
  }
}

// A register flow stopped at progress `step` (waiting in a browser or the sign-in window).
const registeringAt = (step) => modelWith(loaded(views.unregistered), { type: "started", action: "register" }, { type: "progress", step });

// The progress screen says `status` and offers exactly `buttons` ([id, label, action]) in order.
function assertProgress(root, status, buttons) {
  assert.equal(text(byId(root, "progress")), status);
  assert.deepEqual(byTag(root, "button").map(text), buttons.map(([, label]) => label));
  for (const [id, , action] of buttons) assert.equal(byId(root, id).getAttribute("data-action"), action, id);
}

function stepStates(root) {
  return byTag(root, "li").map((li) => li.getAttribute("aria-current"));
}

test("Registration screen: heading, explanation, steps, one primary button", () => {
  const root = registerScreen(modelWith(loaded(views.unregistered)), ctx);
  const [h1] = byTag(root, "h1");
  assert.equal(text(h1), "Register this device");
  assert.ok(allElements(root).some((el) => text(el) ===
    "This app registers itself once with your organisation's identity server so that this device gets its own credentials."));
  assert.deepEqual(stepStates(root), ["step", null, null]);
  assert.deepEqual(allElements(root).filter((el) => el.getAttribute("class") === "step-label").map(text), ["Register device", "Sign in", "Done"]);
  assert.equal(text(byId(root, "register")), "Register this device");
  assert.equal(byId(root, "register").getAttribute("class"), "btn btn-primary");
  assert.equal(byId(root, "register-reason"), null);
  // One primary action; the only other button is the About link in the footer.
  assert.deepEqual(byTag(root, "button").map((b) => b.id), ["register", "about-open"]);
  assertButtonsSound(root);
});

test("Registration screen after revocation explains why and offers Register again", () => {
  const root = registerScreen(modelWith(loaded(views.revoked)), ctx);
  const reason = byId(root, "register-reason");
  assert.equal(reason.getAttribute("role"), "alert");
  assert.match(text(reason), /This device's registration is no longer valid/);
  assert.equal(text(byTag(root, "h1")[0]), "Register this device");
  assert.equal(text(byId(root, "register")), "Register again");
});

test("Sign-in screen: Welcome back, the registration date, Sign in", () => {
  const root = signInScreen(modelWith(loaded(views.registered)), ctx);
  assert.equal(text(byTag(root, "h1")[0]), "Welcome back");
  assert.equal(text(byId(root, "registered-at")), new Date((NOW - 3600) * 1000).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }));
  assert.equal(text(byId(root, "sign-in")), "Sign in");
  assert.deepEqual(stepStates(root), [null, "step", null]);
  assert.match(text(byTag(root, "li")[0]), /completed/);
  assertButtonsSound(root);
});

test("Progress screen: a live status with the step text and the onboarding step", () => {
  const model = registeringAt("registering");
  const root = progressScreen(model, ctx);
  const status = byId(root, "progress");
  assert.equal(status.getAttribute("role"), "status");
  assert.equal(text(status), "Registering this device…");
  assert.equal(byTag(root, "button").length, 0);
  assert.deepEqual(stepStates(root), ["step", null, null]);
  const signingIn = progressScreen(transition(model, { type: "progress", step: "signingIn" }), ctx);
  assert.equal(text(byId(signingIn, "progress")), "Signing you in…");
  assert.deepEqual(stepStates(signingIn), [null, "step", null]);
  const refreshing = progressScreen(modelWith(loaded(views.signedIn), { type: "started", action: "refresh" }), ctx);
  assert.equal(byTag(refreshing, "ol").length, 0, "no onboarding steps outside onboarding");
});

test("Progress screen in loopback mode: finish in your browser, Cancel, Open the browser again", () => {
  const model = registeringAt("waitingInBrowser");
  const root = progressScreen(model, ctx);
  assertProgress(root, "Finish signing in in your browser", [
    ["cancel-browser", "Cancel", "cancelBrowser"],
    ["open-browser-again", "Open the browser again", "openBrowserAgain"],
  ]);
  const out = progressScreen(transition(model, { type: "progress", step: "signingOutInBrowser" }), ctx);
  assert.equal(text(byId(out, "progress")), "Finish signing out in your browser");
  // The SSO sign-in that follows the registration, in the browser too: step 2 of onboarding.
  const ssoModel = [{ type: "progress", step: "signingIn" }, { type: "progress", step: "waitingInBrowser" }].reduce(transition, model);
  assert.deepEqual(stepStates(progressScreen(ssoModel, ctx)), [null, "step", null]);
  assert.deepEqual(stepStates(root), ["step", null, null]);
  const back = progressScreen(transition(model, { type: "progress", step: "signingIn" }), ctx);
  assert.equal(byTag(back, "button").length, 0, "no browser controls once the browser is done");
});

test("Home screen: user, claims, registration, countdown, fingerprint, actions, dialog", () => {
  const root = homeScreen(modelWith(loaded(views.signedIn)), ctx);
  assert.equal(text(byId(root, "user-name")), "Demo User");
  assert.equal(byId(root, "user-name").tagName, "H1");
  const claims = byId(root, "claims");
  assert.equal(claims.tagName, "DL");
  assert.deepEqual(byTag(claims, "dt").map(text), ["Subject", "Email", "Email verified", "age"]);
  assert.deepEqual(byTag(claims, "dd").map(text), ["demouser", "demo@example.com", "true", "42"]);
  assert.equal(text(byId(root, "client-id")), "c-1234");
  assert.ok(text(byId(root, "registered-at")).includes("2025"));
  assert.equal(text(byId(root, "secret-expires")), "Never");
  assert.equal(text(byId(root, "token-expiry")), "in 4 min 59 s");
  assert.equal(byId(root, "token-expiry").getAttribute("data-expires-at"), String(NOW + 299));
  assert.equal(text(byId(root, "token-fingerprint")), "9f3a61c2");
  assert.equal(text(byId(root, "refresh")), "Refresh access token");
  assert.equal(text(byId(root, "sign-out")), "Sign out");
  assert.equal(text(byId(root, "forget")), "Forget this device");
  const dialog = byId(root, "forget-dialog");
  assert.equal(dialog.tagName, "DIALOG");
  assert.equal(dialog.getAttribute("aria-labelledby"), "forget-title");
  assert.equal(byId(dialog, "forget-confirm").getAttribute("data-action"), "forget");
  assert.equal(byId(dialog, "forget-cancel").getAttribute("data-action"), "cancelForget");
  assert.equal(byId(root, "forget").getAttribute("data-action"), "openForget", "Forget only opens the dialog");
  assertButtonsSound(root);
});

test("Home without a display name greets neutrally: the opaque subject only in the claims table", () => {
  const sub = "248289761001-a3f9c2";
  const view = { ...views.signedIn, user: { sub, displayName: null, claims: { sub } },
    registration: { ...views.signedIn.registration, clientSecretExpiresAt: NOW + 86400 } };
  const root = homeScreen(modelWith(loaded(view)), ctx);
  assert.equal(text(byId(root, "user-name")), "Signed in");
  assert.equal(byId(root, "user-sub"), null);
  assert.ok(!allElements(byTag(root, "header")[0]).some((el) => text(el).includes(sub)), "no subject in the greeting");
  assert.deepEqual(byTag(byId(root, "claims"), "dd").map(text), [sub]);
  assert.notEqual(text(byId(root, "secret-expires")), "Never");
});

test("Home greets by the engine's display name (a username or email when there is no name)", () => {
  const view = { ...views.signedIn, user: { sub: "demouser", displayName: "jdoe", claims: { sub: "demouser", preferred_username: "jdoe" } } };
  const root = homeScreen(modelWith(loaded(view)), ctx);
  assert.equal(text(byId(root, "user-name")), "jdoe");
  const empty = { ...views.signedIn, user: { sub: "demouser", displayName: null, claims: {} } };
  assert.match(text(byId(homeScreen(modelWith(loaded(empty)), ctx), "claims")), /no profile claims/);
  assert.equal(initials("Demo User"), "DU");
  assert.equal(initials("demouser"), "DE");
  assert.equal(initials(""), "?");
});

test("Home with a client secret says so, and offers no key rotation", () => {
  const root = homeScreen(modelWith(loaded(views.signedInSecret)), ctx);
  assert.equal(text(byId(root, "credential")), "Client secret");
  assert.equal(text(byId(root, "secret-expires")), "Never");
  assert.equal(byId(root, "key-thumbprint"), null);
  assert.equal(byId(root, "key-holder"), null, "no device key, so nothing holds one");
  assert.equal(byId(root, "tokens-bound"), null);
  assert.equal(byId(root, "rotate-key"), null);
});

test("Home and About say who holds the device key in the engine's words: the keychain or the TPM", () => {
  assert.equal(text(byId(homeScreen(modelWith(loaded(views.signedInDeviceKey)), ctx), "key-holder")), "Device key stored in the keychain");
  const tpm = "Device key held by this computer's TPM (cannot be copied)";
  assert.equal(text(byId(homeScreen(modelWith(loaded(views.signedInTpm)), ctx), "key-holder")), tpm);
  const wrap = (children) => {
    const box = doc.createElement("div");
    for (const child of children) box.appendChild(child);
    return box;
  };
  const about = wrap(aboutContent(doc, { credential: "deviceKey", deviceKeyHolder: "tpm", deviceKeyText: tpm, registration: null }, {}));
  assert.equal(text(byId(about, "about-key-holder")), tpm);
  const none = wrap(aboutContent(doc, { credential: "clientSecret", deviceKeyHolder: null, deviceKeyText: null, registration: null }, {}));
  assert.equal(byId(none, "about-key-holder"), null);
});

test("Home with a device key: no secret expiry, the short thumbprint, bound tokens, Rotate device key", () => {
  const root = homeScreen(modelWith(loaded(views.signedInDeviceKey)), ctx);
  assert.equal(text(byId(root, "credential")), "Device key (no shared secret)");
  assert.equal(text(byId(root, "key-thumbprint")), "NzbLsX…RGC9Xs");
  assert.equal(text(byId(root, "tokens-bound")), "Tokens bound to this device");
  assert.equal(byId(root, "secret-expires"), null, "there is no secret to expire");
  const rotate = byId(root, "rotate-key");
  assert.equal(text(rotate), "Rotate device key");
  assert.equal(rotate.getAttribute("data-action"), "rotateKey");
  assertButtonsSound(root);
  const unbound = homeScreen(modelWith(loaded(views.signedInDeviceKeyUnbound)), ctx);
  assert.equal(byId(unbound, "tokens-bound"), null, "bearer tokens are not called bound");
  assert.ok(byId(unbound, "rotate-key"));
});

test("Home from a backend without the credential fields shows neither row nor rotation", () => {
  const root = homeScreen(modelWith(loaded({ ...views.signedIn, credential: undefined })), ctx);
  assert.equal(byId(root, "credential"), null);
  assert.equal(byId(root, "rotate-key"), null);
});

test("a hostile claim, name or error message is rendered as text, never as markup", () => {
  const view = { ...views.signedIn, user: { sub: XSS, displayName: XSS, claims: { nickname: XSS, [XSS]: "key" } } };
  const home = homeScreen(modelWith(loaded(view)), ctx);
  assert.equal(byTag(home, "img").length, 0);
  assert.equal(text(byId(home, "user-name")), XSS);
  const dds = byTag(byId(home, "claims"), "dd").map(text);
  assert.ok(dds.includes(XSS));
  assert.ok(byTag(byId(home, "claims"), "dt").map(text).includes(XSS));
  assert.ok(allElements(home).every((el) => [...el.attributes.keys()].every((name) => !/^on/i.test(name))));

  const failed = modelWith(loaded(views.registered), { type: "failed", error: { kind: "serverError", message: XSS }, retry: "signIn" });
  const err = errorScreen(failed, ctx);
  assert.equal(text(byId(err, "error-message")), XSS);
  assert.equal(byTag(err, "img").length, 0);
});

test("Error screen: title, message, and exactly the actions of its kind", () => {
  const screenFor = (kind, view = views.signedIn) =>
    errorScreen(modelWith(loaded(view), { type: "failed", error: { kind, message: `about ${kind}` }, retry: "refresh" }), ctx);
  const unreachable = screenFor("unreachable");
  assert.equal(text(byId(unreachable, "error-title")), "The identity server is unreachable");
  assert.equal(byId(unreachable, "error-title").tagName, "H1");
  assert.equal(text(byId(unreachable, "error-message")), "about unreachable");
  assert.deepEqual(byTag(unreachable, "button").map((b) => b.id), ["retry", "back"]);
  assert.equal(text(byId(unreachable, "retry")), "Try again");
  assertButtonsSound(unreachable);
  assert.deepEqual(byTag(screenFor("config"), "button").map((b) => b.id), []);
  assert.deepEqual(byTag(screenFor("keychainLocked"), "button").map((b) => b.id), ["retry"]);
  assert.match(text(byId(screenFor("keychainUnavailable"), "error-help")), /gnome-keyring/);
  assert.deepEqual(byTag(screenFor("serverError"), "button").map((b) => b.id), ["back"]);
  assert.deepEqual(byTag(screenFor("whatever"), "button").map((b) => b.id), ["back"]);
});

test("Setup screen: where the app looked, a keyboard-reachable file picker, no way around it", () => {
  const searched = ["/home/u/.config/io.curity.dcrclient/config.json", "/etc/io.curity.dcrclient/config.json"];
  const missing = { kind: "configMissing", message: "none", setup: { searched, saveTo: searched[0] } };
  const model = modelWith({ type: "failed", error: missing, retry: "load" });
  const root = setupScreen(model, ctx);
  assert.equal(text(byTag(root, "h1")[0]), "Choose a configuration");
  assert.equal(byTag(root, "h1")[0].getAttribute("tabindex"), "-1");
  assert.deepEqual(byTag(byId(root, "setup-searched"), "li").map(text), searched);
  const input = byId(root, "config-file");
  assert.equal(input.tagName, "INPUT");
  assert.equal(input.getAttribute("type"), "file");
  assert.equal(input.getAttribute("accept"), ".json,application/json");
  assert.equal(input.getAttribute("data-change"), "chooseConfig");
  assert.equal(input.getAttribute("tabindex"), null, "natively focusable, never taken out of the tab order");
  const label = byTag(root, "label")[0];
  assert.equal(label.getAttribute("for"), "config-file");
  assert.match(text(byId(root, "config-file-help")), new RegExp(`saves a copy to ${searched[0].replace(/\./g, "\\.")}`));
  assert.equal(byId(root, "setup-error"), null);
  assert.equal(byTag(root, "button").length, 0, "no Register or Retry before there is a config");
});

test("Setup screen after a refused file: the message as text in an alert, the picker still there", () => {
  const missing = { kind: "configMissing", message: "", setup: { searched: [XSS], saveTo: null } };
  const model = modelWith(
    { type: "failed", error: missing, retry: "load" },
    { type: "started", action: "installConfig" },
    { type: "failed", error: { kind: "config", message: `config key \`${XSS}\` is not recognised` }, retry: "installConfig" },
  );
  const root = setupScreen(model, ctx);
  assert.equal(byId(root, "setup-error").getAttribute("role"), "alert");
  assert.match(text(byId(root, "setup-error-message")), /is not recognised/);
  assert.ok(text(byId(root, "setup-error-message")).includes(XSS));
  assert.deepEqual(byTag(byId(root, "setup-searched"), "li").map(text), [XSS]);
  assert.equal(byTag(root, "img").length, 0);
  assert.ok(byId(root, "config-file"));
  assert.equal(text(byId(root, "config-file-help")), "The app checks the file and uses it.");
});

test("Progress screen names a page the sign-in window refused, as text in an alert", () => {
  const waiting = modelWith(loaded(views.unregistered), { type: "started", action: "register" });
  const empty = byId(progressScreen(waiting, ctx), "progress-refused");
  assert.equal(text(empty), "", "nothing refused, nothing said");
  const root = progressScreen(transition(waiting, { type: "refused", host: XSS }), ctx);
  const refused = byId(root, "progress-refused");
  assert.equal(refused.getAttribute("role"), "alert");
  assert.equal(text(refused), `The sign-in window refused to open a page on ${XSS}.`);
  assert.equal(byTag(root, "img").length, 0, "the host stays text");
});

test("Progress screen, embedded mode: a few seconds in, Show the sign-in window and Cancel", () => {
  const model = registeringAt("waitingInWindow");
  const buttons = [
    ["show-sign-in-window", "Show the sign-in window", "showSignInWindow"],
    ["cancel-sign-in", "Cancel", "cancelBrowser"],
  ];
  assertProgress(progressScreen(model, ctx), "Waiting for you to sign in…", buttons);
  const out = progressScreen(transition(model, { type: "progress", step: "signingOutInWindow" }), ctx);
  assertProgress(out, "Signing you out…", buttons);
});

test("Progress screen, system mode: no loopback wording about closing the tab", () => {
  for (const step of ["waitingInSystemBrowser", "signingOutInSystemBrowser"]) {
    assert.ok(progressHint(step).length > 0, step);
    assert.equal(/close the tab/i.test(progressHint(step)), false, `${step}: ${progressHint(step)}`);
    assert.match(progressHint(step), /back to this app/);
  }
  assert.match(progressHint("waitingInBrowser"), /close the tab/);
});

test("Registration screen: a choice of mode only when the config allows more than one", () => {
  const single = registerScreen(modelWith(loaded({ ...views.unregistered, userAgent: "embedded", userAgents: ["embedded"] })), ctx);
  assert.equal(byId(single, "mode-choice"), null);
  const view = { ...views.unregistered, userAgent: "embedded", userAgents: ["embedded", "system", "loopback"] };
  const root = registerScreen(modelWith(loaded(view)), ctx);
  const radios = byTag(root, "input");
  assert.deepEqual(radios.map((r) => r.getAttribute("value")), ["embedded", "system", "loopback"]);
  assert.deepEqual(radios.map((r) => r.getAttribute("checked") !== null), [true, false, false], "the first is the default");
  assert.ok(radios.every((r) => r.getAttribute("data-change") === "chooseMode" && r.getAttribute("name") === "mode"));
  assert.match(text(byId(root, "mode-choice")), /In your web browser/);
  const chosen = registerScreen(modelWith(loaded(view), { type: "chooseMode", mode: "loopback" }), ctx);
  assert.deepEqual(byTag(chosen, "input").map((r) => r.getAttribute("checked") !== null), [false, false, true]);
  assert.match(text(chosen), /Your web browser will open the sign-in page/);
});
