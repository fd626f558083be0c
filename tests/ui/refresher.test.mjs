// Background refresh: the timer is armed for the engine's `refreshAt` and nothing else, never
// stacks, a failed one is not retried in a loop, and Home stays on screen with "refreshing…"
// while it runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRefresher, wantsBackgroundRefresh } from "../../ui/refresher.js";
import { initialModel, screenOf, transition } from "../../ui/state.js";
import { REFRESHING_TEXT } from "../../ui/copy.js";
import { NOW, views } from "./fixtures.mjs";

function fakeClock(start) {
  const clock = {
    t: start,
    timers: new Map(),
    next: 1,
    now: () => clock.t,
    setTimeout(fn, ms) {
      const id = clock.next++;
      clock.timers.set(id, { fn, at: clock.t + ms / 1000 });
      return id;
    },
    clearTimeout(id) {
      clock.timers.delete(id);
    },
    advance(seconds) {
      clock.t += seconds;
      for (const [id, timer] of [...clock.timers]) {
        if (timer.at <= clock.t) {
          clock.timers.delete(id);
          timer.fn();
        }
      }
    },
  };
  return clock;
}

// Home with the engine's instant to refresh at (`refreshAt`); the expiry itself is not the
// window's business any more.
const home = (refreshAt, extra = {}) => ({ ...initialModel(), view: { ...views.signedIn, refreshAt }, ...extra });

test("one timer, due at the instant the engine names, never doubled by re-renders", () => {
  const clock = fakeClock(1000);
  const calls = [];
  const refresher = createRefresher(clock, (at) => calls.push(at));
  for (let i = 0; i < 5; i++) refresher.sync(home(1240), "home");
  assert.equal(clock.timers.size, 1, "re-rendering Home keeps the one timer");
  clock.advance(239);
  assert.deepEqual(calls, []);
  clock.advance(1);
  assert.deepEqual(calls, [1240]);
  // While it runs (refreshing) nothing is armed; the new instant arms one new timer.
  refresher.sync(home(1240, { refreshing: true }), "home");
  assert.equal(clock.timers.size, 0);
  refresher.sync(home(1480), "home");
  assert.equal(clock.timers.size, 1);
  assert.equal(refresher.armed(), 1480);
});

test("the window has no refresh rule of its own: only the engine's instant arms a timer", () => {
  const clock = fakeClock(1000);
  const refresher = createRefresher(clock, () => assert.fail("no refresh"));
  // Signed in with an expiry but nothing to refresh at (no refresh token, say): no timer.
  refresher.sync({ ...initialModel(), view: { ...views.signedIn, accessTokenExpiresAt: 1300, refreshAt: null } }, "home");
  assert.equal(clock.timers.size, 0);
  assert.equal(wantsBackgroundRefresh(home(1240), "home"), true);
  assert.equal(wantsBackgroundRefresh(home(undefined), "home"), false);
  // The instant passed already (a late render): due at once, still one timer.
  refresher.sync(home(900), "home");
  assert.equal([...clock.timers.values()][0].at, 1000);
});

test("the StateView's refreshAt reaches the model", () => {
  const model = transition(initialModel(), { type: "loaded", view: { ...views.signedIn, refreshAt: NOW + 240 } });
  assert.equal(model.view.refreshAt, NOW + 240);
  assert.equal(transition(initialModel(), { type: "loaded", view: { ...views.signedIn, refreshAt: undefined } }).view.refreshAt, null);
  assert.equal(transition(initialModel(), { type: "loaded", view: { ...views.signedIn, refreshAt: "soon" } }).view.refreshAt, null);
});

test("leaving Home or starting a command disarms it", () => {
  const clock = fakeClock(0);
  const refresher = createRefresher(clock, () => assert.fail("no refresh"));
  refresher.sync(home(240), "home");
  refresher.sync(home(240, { busy: true }), "progress");
  assert.equal(clock.timers.size, 0);
  refresher.sync(home(240), "home");
  refresher.sync({ ...initialModel(), view: views.registered }, "signIn");
  assert.equal(clock.timers.size, 0);
  clock.advance(1000);
});

test("a failed background refresh is not retried for the same instant", () => {
  const clock = fakeClock(0);
  let calls = 0;
  const refresher = createRefresher(clock, () => calls++);
  refresher.sync(home(95), "home");
  clock.advance(100);
  assert.equal(calls, 1);
  refresher.failed(95);
  refresher.sync(home(95), "home");
  assert.equal(clock.timers.size, 0, "no loop of immediate retries");
  refresher.sync(home(395), "home");
  assert.equal(clock.timers.size, 1, "a new instant (a manual refresh) arms again");
});

test("a background refresh keeps Home on screen, its progress event included", () => {
  let model = transition(initialModel(), { type: "loaded", view: views.signedIn });
  model = transition(model, { type: "backgroundRefresh" });
  model = transition(model, { type: "progress", step: "refreshing" });
  assert.equal(screenOf(model), "home");
  assert.equal(model.refreshing, true);
  const fresh = { ...views.signedIn, accessTokenExpiresAt: views.signedIn.accessTokenExpiresAt + 300 };
  model = transition(model, { type: "backgroundRefreshed", view: fresh });
  assert.equal(model.refreshing, false);
  assert.equal(model.view.accessTokenExpiresAt, fresh.accessTokenExpiresAt);
  const failed = transition(transition(model, { type: "backgroundRefresh" }), { type: "backgroundFailed", error: { kind: "unreachable", message: "no route" } });
  assert.equal(screenOf(failed), "home");
  assert.match(failed.notice, /could not be refreshed.*no route/);
  assert.equal(REFRESHING_TEXT, "refreshing…");
});

test("a refused background refresh shows the engine's state from the reply, not a guess", () => {
  const onHome = transition(transition(initialModel(), { type: "loaded", view: views.signedIn }), { type: "backgroundRefresh" });
  const revoked = transition(onHome, { type: "backgroundFailed", error: { kind: "invalidClient", message: "invalid_client", state: views.revoked } });
  assert.equal(screenOf(revoked), "register");
  assert.equal(revoked.view.reason, "revoked");
  assert.equal(revoked.refreshing, false);
  // Without a state in the reply, the model keeps what it knows until get_state answers.
  const unknown = transition(onHome, { type: "backgroundFailed", error: { kind: "invalidClient", message: "invalid_client" } });
  assert.equal(screenOf(unknown), "home");
});
