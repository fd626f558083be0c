// The only file that touches `window.__TAURI__` (withGlobalTauri). Every command returns a
// StateView or rejects with `{kind, message}`, plus `state` (the engine's StateView after the
// failure) when the shell could read it; see src-tauri/src/commands.rs and error.rs.

// UI action → Tauri command.
const COMMANDS = Object.freeze({
  load: "get_state",
  register: "register",
  signIn: "sign_in",
  refresh: "refresh",
  signOut: "sign_out",
  forget: "forget_device",
  installConfig: "install_config",
  finishCleanup: "finish_server_cleanup",
  rotateKey: "rotate_device_key",
});

// The state the shell sent along with this script (src-tauri/src/first_view.rs), taken once:
// the page's first frame draws it. Absent when the keychain was slow, when the state needs the
// network (a remembered sign-in), on a reload, and in the browser preview: then the page asks.
export function carriedView() {
  const view = globalThis.__DCR_FIRST_VIEW__;
  delete globalThis.__DCR_FIRST_VIEW__;
  return view && typeof view === "object" ? view : null;
}

function tauri() {
  const t = globalThis.window && window.__TAURI__;
  if (!t || !t.core || !t.event) {
    throw { kind: "unavailable", message: "This page only works inside the DCR Client app." };
  }
  return t;
}

/**
 * Runs the command behind a UI action with its arguments (`installConfig`: `{text}`); resolves
 * with a StateView, rejects with `{kind, message}`.
 */
export async function perform(action, args) {
  const command = COMMANDS[action];
  if (!command) throw { kind: "unknown", message: `Unknown action: ${action}` };
  try {
    return await tauri().core.invoke(command, args);
  } catch (error) {
    throw toError(error);
  }
}

/** The waiting screen's Cancel: ends the step in the user's browser, or closes the sign-in window. */
export async function cancelBrowserStep() {
  await tauri().core.invoke("cancel_browser_step");
}

/**
 * The waiting screen: opens the same sign-in page in the browser again, or (embedded mode)
 * shows and focuses the sign-in window.
 */
export async function openBrowserAgain() {
  await tauri().core.invoke("open_browser_again");
}

/** About this device: its facts and the redacted diagnostics report (no secret). */
export async function about() {
  try {
    return await tauri().core.invoke("about");
  } catch (error) {
    throw toError(error);
  }
}

/** About this device: opens the folder of the app's log file in the file manager. */
export async function openLogFolder() {
  try {
    await tauri().core.invoke("open_log_folder");
  } catch (error) {
    throw toError(error);
  }
}

/**
 * The page's startup stamps (`Date.now()` values), sent once the first screen is up; the shell
 * logs them at debug level (docs/benchmarks.md). Best effort: a failure changes nothing.
 */
export async function reportStartup(marks) {
  try {
    await tauri().core.invoke("startup_marks", { marks });
  } catch {
    // Only a log line is lost.
  }
}

/** Retries the server part of a sign-out or forget that failed (`view.pendingServerCleanup`). */
export function finishServerCleanup() {
  return perform("finishCleanup");
}

/** Calls `handler(view)` on every `state-changed` event. */
export function onStateChanged(handler) {
  return listen("state-changed", (payload) => handler(payload));
}

/** Calls `handler(step)` on every `progress` event (`{step}`). */
export function onProgress(handler) {
  return listen("progress", (payload) => handler(payload && payload.step));
}

/** Calls `handler(host)` when the sign-in window refused a page (`{host}`). */
export function onSignInRefused(handler) {
  return listen("sign-in-refused", (payload) => handler(payload && payload.host));
}

async function listen(name, handler) {
  try {
    return await tauri().event.listen(name, (event) => handler(event && event.payload));
  } catch {
    return () => {};
  }
}

// Tauri itself rejects with plain strings (e.g. "command not found"); keep one shape for the UI.
function toError(error) {
  if (error && typeof error === "object" && typeof error.kind === "string") return error;
  if (typeof error === "string") return { kind: "unknown", message: error };
  return { kind: "unknown", message: error && error.message ? String(error.message) : "" };
}
