// A sign-out or forget whose server part failed is said as it is, not with the happy
// sentence, and offers "Try again" (finish_server_cleanup) while the engine keeps it pending.
import { test } from "node:test";
import assert from "node:assert/strict";
import { initialModel, screenOf, transition } from "../../ui/state.js";
import { PARTIAL_TEXT } from "../../ui/copy.js";
import { registerScreen } from "../../ui/screens/register.js";
import { signInScreen } from "../../ui/screens/sign-in.js";
import { byId, byTag, fakeDocument as doc, text } from "./fake-dom.mjs";
import { NOW, views } from "./fixtures.mjs";

const ctx = { doc, now: NOW, locale: "en-GB" };
const run = (...events) => events.reduce(transition, initialModel());
const loaded = (view) => ({ type: "loaded", view });
const finished = (action, view) => ({ type: "finished", action, view });

const SIGN_OUT_TEXT =
  "Signed out on this device; the identity server could not be reached, so your session there may still be active.";
const FORGET_TEXT =
  "This device was forgotten here, but the identity server could not be told; its registration there may still be active.";

const signedOutLocally = { ...views.registered, lastEvent: "signedOutLocally", pendingServerCleanup: "signOut" };
const forgottenLocally = { ...views.unregistered, lastEvent: "forgottenLocally", pendingServerCleanup: "forget" };

test("the partial texts are the issue's sentences", () => {
  assert.equal(PARTIAL_TEXT.signOut, SIGN_OUT_TEXT);
  assert.equal(PARTIAL_TEXT.forget, FORGET_TEXT);
});

test("a confirmed sign-out still says the happy sentence, without a callout", () => {
  const model = run(loaded(views.signedIn), { type: "started", action: "signOut" },
    finished("signOut", { ...views.registered, lastEvent: "signedOut" }));
  assert.equal(model.notice, "You have signed out.");
  assert.equal(byId(signInScreen(model, ctx), "pending-cleanup"), null);
});

test("a sign-out whose server part failed says so and offers Try again", () => {
  const model = run(loaded(views.signedIn), { type: "started", action: "signOut" }, finished("signOut", signedOutLocally));
  assert.notEqual(model.notice, "You have signed out.");
  assert.equal(model.notice, null, "the callout says it; no second line");
  assert.equal(model.view.pendingServerCleanup, "signOut");
  assert.equal(screenOf(model), "signIn");
  const root = signInScreen(model, ctx);
  const callout = byId(root, "pending-cleanup");
  assert.equal(callout.getAttribute("role"), "alert");
  assert.equal(text(byTag(callout, "p")[0]), SIGN_OUT_TEXT);
  const retry = byId(root, "finish-cleanup");
  assert.equal(text(retry), "Try again");
  assert.equal(retry.getAttribute("data-action"), "finishCleanup");
  assert.equal(retry.getAttribute("type"), "button");
  // The sign-in button is still there: signing in again is fine too.
  assert.equal(text(byId(root, "sign-in")), "Sign in");
});

test("a forget whose server delete failed says so and offers Try again", () => {
  const model = run(loaded(views.registered), { type: "started", action: "forget" }, finished("forget", forgottenLocally));
  assert.notEqual(model.notice, "This device was forgotten. Its registration was deleted.");
  assert.equal(screenOf(model), "register");
  const root = registerScreen(model, ctx);
  assert.equal(text(byTag(byId(root, "pending-cleanup"), "p")[0]), FORGET_TEXT);
  assert.equal(byId(root, "finish-cleanup").getAttribute("data-action"), "finishCleanup");
});

test("forgotten locally with nothing to retry still says the server was not told", () => {
  const model = run(loaded(views.registered), { type: "started", action: "forget" },
    finished("forget", { ...views.unregistered, lastEvent: "forgottenLocally" }));
  assert.equal(model.notice, FORGET_TEXT);
  assert.equal(byId(registerScreen(model, ctx), "pending-cleanup"), null);
});

test("a sign-out the server does not support says the session there may still be active", () => {
  const model = run(loaded(views.signedIn), { type: "started", action: "signOut" },
    finished("signOut", { ...views.registered, lastEvent: "signedOutLocally" }));
  assert.match(model.notice, /^Signed out on this device; .*may still be active\.$/);
  assert.equal(byId(signInScreen(model, ctx), "finish-cleanup"), null);
});

test("Try again: progress, then the happy sentence once the server part is done", () => {
  const started = run(loaded(views.signedIn), finished("signOut", signedOutLocally), { type: "started", action: "finishCleanup" });
  assert.equal(screenOf(started), "progress");
  assert.equal(started.step, "signingOut");
  const done = transition(started, finished("finishCleanup", { ...views.registered, lastEvent: "signedOut" }));
  assert.equal(done.notice, "You have signed out.");
  assert.equal(done.view.pendingServerCleanup, null);
  assert.equal(byId(signInScreen(done, ctx), "pending-cleanup"), null);

  const forget = run(loaded(views.registered), finished("forget", forgottenLocally), { type: "started", action: "finishCleanup" });
  assert.equal(forget.step, "forgetting");
  const forgotten = transition(forget, finished("finishCleanup", { ...views.unregistered, lastEvent: "forgotten" }));
  assert.equal(forgotten.notice, "This device was forgotten. Its registration was deleted.");
});

test("Try again that fails again keeps the callout", () => {
  const model = run(loaded(views.signedIn), finished("signOut", signedOutLocally), { type: "started", action: "finishCleanup" },
    finished("finishCleanup", signedOutLocally));
  assert.equal(model.notice, null);
  assert.equal(text(byTag(byId(signInScreen(model, ctx), "pending-cleanup"), "p")[0]), SIGN_OUT_TEXT);
});

test("after a restart (no pendingServerCleanup in the view) there is no callout", () => {
  const model = run(loaded({ ...views.registered, pendingServerCleanup: null }));
  assert.equal(byId(signInScreen(model, ctx), "pending-cleanup"), null);
  assert.equal(run(loaded({ ...views.registered, pendingServerCleanup: "bogus" })).view.pendingServerCleanup, null);
});
