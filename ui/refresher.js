// Background refresh (issue 9): while Home is open, the access token is refreshed shortly before
// it expires. One timer at most: every render re-syncs it, and a timer already armed for the
// same expiry is kept, never doubled. The engine shares concurrent refreshes too (single
// flight), so a click on "Refresh access token" during a background refresh sends no second
// token request.

/** Refresh this many seconds before expiry at most, and at least MIN_LEAD_SECONDS. */
export const MAX_LEAD_SECONDS = 60;
export const MIN_LEAD_SECONDS = 5;

/**
 * How long before expiry to refresh: a fifth of the token's lifetime as first seen, between
 * MIN_LEAD_SECONDS and MAX_LEAD_SECONDS (a 5-minute token is refreshed a minute early).
 */
export function refreshLead(lifetime) {
  if (!Number.isFinite(lifetime) || lifetime <= 0) return MIN_LEAD_SECONDS;
  return Math.min(MAX_LEAD_SECONDS, Math.max(MIN_LEAD_SECONDS, Math.floor(lifetime / 5)));
}

/** Whether the model wants a background refresh armed: Home, idle, with a known expiry. */
export function wantsBackgroundRefresh(model, screen) {
  const view = model && model.view;
  return (
    screen === "home" &&
    !model.busy &&
    !model.refreshing &&
    Boolean(view) &&
    typeof view.accessTokenExpiresAt === "number" &&
    Number.isFinite(view.accessTokenExpiresAt)
  );
}

/**
 * `clock`: `{ now() (unix seconds), setTimeout(fn, ms), clearTimeout(handle) }`;
 * `refresh()`: starts the background refresh. Returns `{ sync(model, screen), armed() }`.
 */
export function createRefresher(clock, refresh) {
  let timer = null;
  let armedFor = null;
  // The expiry whose refresh failed: not retried by the timer (the user can click Refresh);
  // a new expiry (after any refresh or sign-in) arms again.
  let failedFor = null;
  const disarm = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    armedFor = null;
  };
  return {
    sync(model, screen) {
      if (!wantsBackgroundRefresh(model, screen)) return disarm();
      const expiresAt = model.view.accessTokenExpiresAt;
      if (expiresAt === failedFor) return disarm();
      if (timer !== null && armedFor === expiresAt) return; // already armed: never a second timer
      disarm();
      const now = clock.now();
      const due = expiresAt - refreshLead(expiresAt - now);
      armedFor = expiresAt;
      timer = clock.setTimeout(() => {
        timer = null;
        armedFor = null;
        refresh(expiresAt);
      }, Math.max(0, (due - now) * 1000));
    },
    /** After a failed background refresh for `expiresAt`. */
    failed(expiresAt) {
      failedFor = expiresAt;
    },
    armed() {
      return timer === null ? null : armedFor;
    },
  };
}
