// Pure formatting helpers: the countdown, dates, "never", claim values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatClaim, formatCountdown, formatSecretExpiry, formatTimestamp } from "../../ui/format.js";
import { claimLabel, stepText, STEP_TEXT } from "../../ui/copy.js";

test("the countdown reads naturally at every scale", () => {
  const now = 1000;
  assert.equal(formatCountdown(now + 42, now), "in 42 s");
  assert.equal(formatCountdown(now + 59.9, now), "in 59 s");
  assert.equal(formatCountdown(now + 60, now), "in 1 min 00 s");
  assert.equal(formatCountdown(now + 299, now), "in 4 min 59 s");
  assert.equal(formatCountdown(now + 3599, now), "in 59 min 59 s");
  assert.equal(formatCountdown(now + 3600, now), "in 1 h 00 min");
  assert.equal(formatCountdown(now + 2 * 3600 + 5 * 60 + 30, now), "in 2 h 05 min");
  assert.equal(formatCountdown(now + 86400, now), "in 1 day");
  assert.equal(formatCountdown(now + 3 * 86400 + 4 * 3600, now), "in 3 days 4 h");
});

test("the countdown says expired at and after zero, and copes with fractional now", () => {
  assert.equal(formatCountdown(1000, 1000), "expired");
  assert.equal(formatCountdown(1000, 1000.5), "expired");
  assert.equal(formatCountdown(1000, 5000), "expired");
  assert.equal(formatCountdown(1001, 1000.4), "expired"); // 0.6 s left rounds down to 0
  assert.equal(formatCountdown(1010, 1000.4), "in 9 s");
});

test("the countdown of a missing expiry is 'unknown'", () => {
  assert.equal(formatCountdown(null, 1000), "unknown");
  assert.equal(formatCountdown(undefined, 1000), "unknown");
  assert.equal(formatCountdown(NaN, 1000), "unknown");
});

test("timestamps are local dates; missing ones are 'unknown'", () => {
  assert.equal(formatTimestamp(1764133920, "en-GB", "UTC"), "26 Nov 2025, 05:12");
  assert.equal(formatTimestamp(null), "unknown");
});

test("a secret with no expiry (null, or RFC 7591's 0) never expires", () => {
  assert.equal(formatSecretExpiry(null), "Never");
  assert.equal(formatSecretExpiry(undefined), "Never");
  assert.equal(formatSecretExpiry(0), "Never");
  assert.equal(formatSecretExpiry(1764133920, "en-GB", "UTC"), "26 Nov 2025, 05:12");
});

test("claim values become display text", () => {
  assert.equal(formatClaim("demouser"), "demouser");
  assert.equal(formatClaim(true), "true");
  assert.equal(formatClaim(false), "false");
  assert.equal(formatClaim(42), "42");
  assert.equal(formatClaim(null), "");
  assert.equal(formatClaim(["a", "b"]), '["a","b"]');
  assert.equal(formatClaim({ country: "SE" }), '{"country":"SE"}');
});

test("every progress step of the contract has its text", () => {
  assert.equal(stepText("waitingForSignIn"), "Waiting for you to sign in…");
  assert.equal(stepText("registering"), "Registering this device…");
  assert.equal(stepText("signingIn"), "Signing you in…");
  for (const step of ["refreshing", "signingOut", "forgetting"]) assert.ok(STEP_TEXT[step], step);
  assert.equal(stepText("somethingNew"), "Working…");
  assert.equal(stepText("toString"), "Working…");
});

test("standard claims get readable labels; unknown ones keep their name", () => {
  assert.equal(claimLabel("family_name"), "Family name");
  assert.equal(claimLabel("preferred_username"), "Username");
  assert.equal(claimLabel("custom_claim"), "custom_claim");
  assert.equal(claimLabel("__proto__"), "__proto__");
});
