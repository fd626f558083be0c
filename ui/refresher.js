// Background refresh: while Home is open, the access token is refreshed at the instant the
// engine names (`StateView.refreshAt`; when to refresh is the engine's rule, not the window's).
// One timer at most: every render re-syncs it, and a timer already armed for the same instant
// is kept, never doubled. The engine shares concurrent refreshes too (single flight), so a
// click on "Refresh access token" during a background refresh sends no second token request.

/** Whether the model wants a background refresh armed: Home, idle, with an instant to arm for. */
export function wantsBackgroundRefresh(model, screen) {
  const view = model && model.view;
  return (
    screen === "home" &&
    !model.busy &&
    !model.refreshing &&
    Boolean(view) &&
    typeof view.refreshAt === "number" &&
    Number.isFinite(view.refreshAt)
  );
}

/**
 * `clock`: `{ now() (unix seconds), setTimeout(fn, ms), clearTimeout(handle) }`;
 * `refresh(refreshAt)`: starts the background refresh. Returns `{ sync(model, screen), failed(refreshAt), armed() }`.
 */
export function createRefresher(clock, refresh) {
  let timer = null;
  let armedFor = null;
  // The instant whose refresh failed: not retried by the timer (the user can click Refresh);
  // a new instant (after any refresh or sign-in) arms again.
  let failedFor = null;
  const disarm = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    armedFor = null;
  };
  return {
    sync(model, screen) {
      if (!wantsBackgroundRefresh(model, screen)) return disarm();
      const refreshAt = model.view.refreshAt;
      if (refreshAt === failedFor) return disarm();
      if (timer !== null && armedFor === refreshAt) return; // already armed: never a second timer
      disarm();
      armedFor = refreshAt;
      timer = clock.setTimeout(() => {
        timer = null;
        armedFor = null;
        refresh(refreshAt);
      }, Math.max(0, (refreshAt - clock.now()) * 1000));
    },
    /** After a failed background refresh armed for `refreshAt`. */
    failed(refreshAt) {
      failedFor = refreshAt;
    },
    armed() {
      return timer === null ? null : armedFor;
    },
  };
}
