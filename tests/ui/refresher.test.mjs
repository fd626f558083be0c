// Background refresh (issue 9): when it is due, that the timer never stacks, that a failed one is
// not retried in a loop, and that Home stays on screen with "refreshing…" while it runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRefresher, refreshLead, MAX_LEAD_SECONDS, MIN_LEAD_SECONDS } from "../../ui/refresher.js";
import { initialModel, REFRESHING_TEXT, screenOf, transition } from "../../ui/state.js";
import { views } from "./fixtures.mjs";

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

const home = (expiresAt, extra = {}) => ({ ...initialModel(), view: { ...views.signedIn, accessTokenExpiresAt: expiresAt }, ...extra });

test("the lead is a fifth of the lifetime, between the bounds", () => {
  assert.equal(refreshLead(300), MAX_LEAD_SECONDS);
  assert.equal(refreshLead(100), 20);
  assert.equal(refreshLead(10), MIN_LEAD_SECONDS);
  assert.equal(refreshLead(-3), MIN_LEAD_SECONDS);
});

test("one timer, due a minute before a five-minute token expires, never doubled by re-renders", () => {
  const clock = fakeClock(1000);
  const calls = [];
  const refresher = createRefresher(clock, (at) => calls.push(at));
  for (let i = 0; i < 5; i++) refresher.sync(home(1300), "home");
  assert.equal(clock.timers.size, 1, "re-rendering Home keeps the one timer");
  clock.advance(239);
  assert.deepEqual(calls, []);
  clock.advance(1);
  assert.deepEqual(calls, [1300]);
  // While it runs (refreshing) nothing is armed; the new expiry arms one new timer.
  refresher.sync(home(1300, { refreshing: true }), "home");
  assert.equal(clock.timers.size, 0);
  refresher.sync(home(1540), "home");
  assert.equal(clock.timers.size, 1);
  assert.equal(refresher.armed(), 1540);
});

test("leaving Home or starting a command disarms it", () => {
  const clock = fakeClock(0);
  const refresher = createRefresher(clock, () => assert.fail("no refresh"));
  refresher.sync(home(300), "home");
  refresher.sync(home(300, { busy: true }), "progress");
  assert.equal(clock.timers.size, 0);
  refresher.sync(home(300), "home");
  refresher.sync({ ...initialModel(), view: views.registered }, "signIn");
  assert.equal(clock.timers.size, 0);
  clock.advance(1000);
});

test("a failed background refresh is not retried for the same expiry", () => {
  const clock = fakeClock(0);
  let calls = 0;
  const refresher = createRefresher(clock, () => calls++);
  refresher.sync(home(100), "home");
  clock.advance(100);
  assert.equal(calls, 1);
  refresher.failed(100);
  refresher.sync(home(100), "home");
  assert.equal(clock.timers.size, 0, "no loop of immediate retries");
  refresher.sync(home(400), "home");
  assert.equal(clock.timers.size, 1, "a new expiry (a manual refresh) arms again");
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
