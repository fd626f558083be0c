// Formatters: a StateView's numbers and codes as display text. Pure: the clock and the locale
// come in as arguments, so node tests can pin them.
import { CREDENTIAL_TEXT } from "./copy.js";

/** "in 4 min 05 s", "in 2 h 05 min", "in 3 days 4 h", or "expired". Times are unix seconds. */
export function formatCountdown(expiresAt, now) {
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) return "unknown";
  const left = Math.floor(expiresAt - now);
  if (left <= 0) return "expired";
  const pad = (n) => String(n).padStart(2, "0");
  if (left < 60) return `in ${left} s`;
  if (left < 3600) return `in ${Math.floor(left / 60)} min ${pad(left % 60)} s`;
  if (left < 86400) return `in ${Math.floor(left / 3600)} h ${pad(Math.floor((left % 3600) / 60))} min`;
  const days = Math.floor(left / 86400);
  const hours = Math.floor((left % 86400) / 3600);
  return `in ${days} ${days === 1 ? "day" : "days"}` + (hours ? ` ${hours} h` : "");
}

/** A unix time as a local date and time, e.g. "26 Nov 2025, 05:12". */
export function formatTimestamp(unix, locale, timeZone) {
  if (typeof unix !== "number" || !Number.isFinite(unix)) return "unknown";
  return new Date(unix * 1000).toLocaleString(locale, {
    dateStyle: "medium",
    timeStyle: "short",
    ...(timeZone ? { timeZone } : {}),
  });
}

/** RFC 7591 §3.2.1: client_secret_expires_at 0 (here also null) means the secret never expires. */
export function formatSecretExpiry(unix, locale, timeZone) {
  if (unix === null || unix === undefined || unix === 0) return "Never";
  return formatTimestamp(unix, locale, timeZone);
}

/** A claim value as display text: strings as they are, everything else as JSON. */
export function formatClaim(value) {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null || value === undefined) return "";
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

/** An RFC 7638 thumbprint (43 base64url characters) cut to its first and last 6, for display. */
export function shortThumbprint(thumbprint) {
  if (typeof thumbprint !== "string") return null;
  const clean = thumbprint.replace(/[^A-Za-z0-9_-]/g, "");
  if (!clean) return null;
  return clean.length > 16 ? `${clean.slice(0, 6)}…${clean.slice(-6)}` : clean;
}

/**
 * How this device proves itself, for the Home screen: `{label, thumbprint, keyHolderText, bound,
 * canRotate}` or
 * null when the view does not say (an older backend). Only a device-key registration can rotate
 * its key (RFC 7592 §2.2 update with a new `jwks`).
 */
export function deviceCredential(view) {
  const credential = view && view.credential;
  if (!Object.prototype.hasOwnProperty.call(CREDENTIAL_TEXT, credential || "")) return null;
  const deviceKey = credential === "deviceKey";
  return {
    label: CREDENTIAL_TEXT[credential],
    thumbprint: deviceKey ? shortThumbprint(view.deviceKeyThumbprint) : null,
    // Where the key lives (the engine's sentence); also for a DPoP key beside a client secret.
    keyHolderText: typeof view.deviceKeyText === "string" && view.deviceKeyText ? view.deviceKeyText : null,
    bound: view.tokensBound === true,
    canRotate: deviceKey,
  };
}
