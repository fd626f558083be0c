// Keyboard and screen-reader guarantees, checked on every screen the view can draw
// and on the static page: every control has an accessible name and a bound action, every
// status is a live region, every dialog is labelled, and keyboard focus is always visible.
// The real window's Tab / Enter / Escape walk is tests/tests/desktop/about.rs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { initialModel, transition } from "../../ui/state.js";
import { registerScreen } from "../../ui/screens/register.js";
import { signInScreen } from "../../ui/screens/sign-in.js";
import { homeScreen } from "../../ui/screens/home.js";
import { errorScreen } from "../../ui/screens/error.js";
import { progressScreen } from "../../ui/screens/progress.js";
import { setupScreen } from "../../ui/screens/setup.js";
import { aboutContent } from "../../ui/screens/about.js";
import { ERROR_SCREENS } from "../../ui/errors.js";
import { allElements, byId, fakeDocument as doc, text } from "./fake-dom.mjs";
import { NOW, THUMBPRINT, views } from "./fixtures.mjs";

const read = (path) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8");
const ctx = { doc, now: NOW, locale: "en-GB" };
const modelWith = (...events) => events.reduce(transition, initialModel());
const loaded = (view) => ({ type: "loaded", view });

export const ABOUT = {
  appVersion: "0.1.0",
  platform: "linux x86_64",
  configFile: "/home/a-rather-long-user-name/.config/io.curity.dcrclient/deployments/2026/config.json",
  configOrigin: "systemFile",
  issuer: "https://idsvr.example.com/oauth/v2/oauth-anonymous",
  userAgent: "embedded",
  tokenEndpointAuthMethod: "private_key_jwt",
  dpop: true,
  state: "signedIn",
  registration: { clientId: "8c3d0e7f-58b4-4e8e-9a0c-2f1b6d5e4c3a-desktop", registeredAt: NOW - 3600, clientSecretExpiresAt: null, templatized: false },
  credential: "deviceKey",
  deviceKeyThumbprint: THUMBPRINT,
  deviceKeyHolder: "tpm",
  deviceKeyText: "Device key held by this computer's TPM (cannot be copied)",
  tokensBound: true,
  logFile: "/home/a-rather-long-user-name/.local/share/io.curity.dcrclient/logs/dcr-client.log",
  logFolder: "/home/a-rather-long-user-name/.local/share/io.curity.dcrclient/logs",
  report: "DCR Client diagnostics\n",
};

/** Every screen (and dialog) the UI can show, rendered with the fake DOM. */
function everyScreen() {
  const searched = ["/u/config.json", "/etc/io.curity.dcrclient/config.json"];
  const setup = modelWith({ type: "failed", error: { kind: "configMissing", message: "none", setup: { searched, saveTo: searched[0] } }, retry: "load" });
  const screens = {
    register: registerScreen(modelWith(loaded(views.unregistered)), ctx),
    revoked: registerScreen(modelWith(loaded(views.revoked)), ctx),
    signIn: signInScreen(modelWith(loaded(views.registered)), ctx),
    home: homeScreen(modelWith(loaded(views.signedIn)), ctx),
    homeDeviceKey: homeScreen(modelWith(loaded(views.signedInDeviceKey)), ctx),
    homeTpm: homeScreen(modelWith(loaded(views.signedInTpm)), ctx),
    progress: progressScreen(modelWith(loaded(views.unregistered), { type: "started", action: "register" }), ctx),
    progressInBrowser: progressScreen(
      modelWith(loaded(views.unregistered), { type: "started", action: "register" }, { type: "progress", step: "waitingInBrowser" }),
      ctx,
    ),
    setup: setupScreen(setup, ctx),
    setupError: setupScreen(transition(setup, { type: "failed", error: { kind: "config", message: "bad" }, retry: "installConfig" }), ctx),
    about: wrap(aboutContent(doc, ABOUT, { locale: "en-GB" })),
    aboutUnregistered: wrap(aboutContent(doc, { ...ABOUT, registration: null, deviceKeyThumbprint: null, logFolder: null, logFile: null }, {})),
  };
  for (const kind of Object.keys(ERROR_SCREENS)) {
    const model = modelWith(loaded(views.signedIn), { type: "failed", error: { kind, message: "m" }, retry: "refresh" });
    // Some kinds lead to another screen (setup, a notice, Registration), drawn above.
    if (model.error) screens[`error-${kind}`] = errorScreen(model, ctx);
  }
  return screens;
}

// The About dialog as index.html declares it (checked below), filled like the view fills it.
function wrap(children) {
  const dialog = doc.createElement("dialog");
  dialog.setAttribute("id", "about-dialog");
  dialog.setAttribute("aria-labelledby", "about-title");
  for (const child of children) dialog.appendChild(child);
  return dialog;
}

/** The accessible name (the parts of accname 1.2 the screens use). */
function accessibleName(root, el) {
  const label = el.getAttribute("aria-label");
  if (label && label.trim()) return label.trim();
  const labelledby = el.getAttribute("aria-labelledby");
  if (labelledby) return labelledby.split(/\s+/).map((id) => text(byId(root, id)) || "").join(" ").trim();
  if (el.id) {
    const forLabel = allElements(root).find((l) => l.tagName === "LABEL" && l.getAttribute("for") === el.id);
    if (forLabel) return text(forLabel);
  }
  return el.tagName === "BUTTON" ? text(el) : "";
}

// Actions main.js binds, and the ones view.js handles itself (dialogs).
const main = read("../../ui/main.js");
const BOUND = new Set([...main.matchAll(/bind\("([A-Za-z]+)"/g)].map((m) => m[1]));
const VIEW_ONLY = new Set(["openForget", "cancelForget", "closeAbout"]);

test("every control on every screen has an accessible name and a bound action", () => {
  const screens = everyScreen();
  let controls = 0;
  for (const [name, root] of Object.entries(screens)) {
    for (const el of allElements(root).filter((e) => ["BUTTON", "INPUT", "SELECT", "TEXTAREA", "A"].includes(e.tagName))) {
      controls++;
      assert.ok(accessibleName(root, el).length > 1, `${name}: ${el.tagName} #${el.id} has an accessible name`);
      assert.notEqual(el.getAttribute("tabindex"), "-1", `${name}: #${el.id} stays in the tab order`);
      const action = el.getAttribute("data-action") || el.getAttribute("data-change");
      assert.ok(BOUND.has(action) || VIEW_ONLY.has(action), `${name}: #${el.id} routes to a bound action (${action})`);
      if (el.tagName === "BUTTON") assert.equal(el.getAttribute("type"), "button", `${name}: #${el.id} is type=button`);
    }
  }
  assert.ok(controls > 40, `checked ${controls} controls`);
});

test("About this device is reachable from Registration, Welcome back and Home", () => {
  const screens = everyScreen();
  for (const name of ["register", "revoked", "signIn", "home", "homeDeviceKey"]) {
    const open = byId(screens[name], "about-open");
    assert.ok(open, `${name} has the About button`);
    assert.equal(open.getAttribute("aria-haspopup"), "dialog");
  }
});

test("every status is a live region, and every dialog is labelled by its heading", () => {
  const screens = everyScreen();
  for (const [name, root] of Object.entries(screens)) {
    for (const el of allElements(root)) {
      const role = el.getAttribute("role");
      if (role === "status") assert.equal(el.getAttribute("aria-live"), "polite", `${name}: #${el.id} is a polite live region`);
      if (el.tagName === "DIALOG") {
        const title = byId(root, el.getAttribute("aria-labelledby"));
        assert.ok(title && /^H[12]$/.test(title.tagName), `${name}: #${el.id} is labelled by its heading`);
      }
    }
  }
  // The progress text stays inside the live region the view updates in place.
  const progress = byId(screens.progress, "progress");
  assert.ok(byId(progress, "progress-text"));
  assert.equal(byId(screens.about, "about-status").getAttribute("role"), "status");
});

test("the static page: labelled buttons, a labelled About dialog, live notice", () => {
  const html = read("../../ui/index.html");
  for (const tag of html.match(/<button\b[^>]*>[^<]*<\/button>/g)) {
    assert.match(tag, /aria-label="[^"]+"|>[^<\s][^<]*</, tag);
  }
  assert.match(html, /<dialog id="about-dialog" class="dialog dialog-about" aria-labelledby="about-title"/);
  assert.match(html, /id="notice" role="status" aria-live="polite"/);
});

test("keyboard focus is always visible: :focus-visible outlines, none removed from controls", () => {
  const css = read("../../ui/styles.css") + read("../../ui/screens.css") + read("../../ui/about.css");
  assert.match(css, /:focus-visible\s*{[^}]*outline:\s*3px solid/);
  for (const match of css.matchAll(/([^{}]+){[^}]*outline:\s*(none|0)\b/g)) {
    const selector = match[1].trim();
    // Only script-focused landmarks (tabindex=-1): a heading, the progress status.
    assert.ok(["h1:focus", ".progress:focus"].includes(selector), `outline removed on ${selector}`);
  }
});

test("About shows the facts a help desk asks for; long values stay whole for wrapping", () => {
  const root = wrap(aboutContent(doc, ABOUT, { locale: "en-GB" }));
  assert.equal(text(byId(root, "about-title")), "About this device");
  assert.equal(text(byId(root, "about-version")), "0.1.0 (linux x86_64)");
  assert.equal(text(byId(root, "about-config-file")), ABOUT.configFile);
  assert.equal(text(byId(root, "about-config-origin")), "Set by your administrator (system-wide file)");
  assert.equal(text(byId(root, "about-issuer")), ABOUT.issuer);
  assert.equal(text(byId(root, "about-user-agent")), "The app's own sign-in window (embedded)");
  assert.equal(text(byId(root, "about-client-id")), ABOUT.registration.clientId);
  assert.equal(text(byId(root, "about-secret-expires")), "No shared secret (device key)");
  assert.equal(text(byId(root, "about-thumbprint")), THUMBPRINT, "the whole thumbprint, not the short form");
  assert.equal(text(byId(root, "about-log-file")), ABOUT.logFile);
  // Paths wrap after a separator, never inside a folder name (the text itself is unchanged).
  const logParts = allElements(byId(root, "about-log-file")).filter((e) => e.tagName === "WBR");
  assert.equal(logParts.length, ABOUT.logFile.split("/").length - 1);
  assert.deepEqual(allElements(root).filter((e) => e.tagName === "BUTTON").map((b) => b.id), ["copy-diagnostics", "open-log-folder", "about-close"]);
  const secret = wrap(aboutContent(doc, { ...ABOUT, credential: "clientSecret", deviceKeyThumbprint: null, registration: { ...ABOUT.registration, clientSecretExpiresAt: 0 } }, {}));
  assert.equal(text(byId(secret, "about-secret-expires")), "Never");
  assert.equal(byId(secret, "about-thumbprint"), null);
  const none = wrap(aboutContent(doc, { ...ABOUT, registration: null, logFolder: null, logFile: null, configFile: null, configOrigin: null }, {}));
  assert.equal(text(byId(none, "about-registration")), "This device is not registered");
  assert.equal(byId(none, "open-log-folder"), null, "no folder to open without a log file");
  assert.equal(byId(none, "about-config-origin"), null);
});

test("the About dialog's model: opened with the command's answer, a status line, closed", () => {
  let model = modelWith(loaded(views.registered));
  model = transition(model, { type: "aboutStatus", text: "ignored" });
  assert.equal(model.about, null, "no status without the dialog");
  model = transition(model, { type: "aboutOpened", about: ABOUT });
  assert.deepEqual(model.about, { view: ABOUT, status: null });
  model = transition(model, { type: "aboutStatus", text: "Diagnostics copied to the clipboard." });
  assert.equal(model.about.status, "Diagnostics copied to the clipboard.");
  assert.equal(model.view.state, "registered", "the session's view is untouched");
  model = transition(model, { type: "aboutClosed" });
  assert.equal(model.about, null);
  assert.equal(transition(model, { type: "aboutOpened", about: null }).about, null);
});
