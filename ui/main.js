// Bootstrap: wire the view to the state machine and the Tauri commands, then load the state.
import * as api from "./api.js";
import { copyText } from "./clipboard.js";
import { chosenMode, configFileProblem, initialModel, normalizeError, screenOf, transition } from "./state.js";
import { bind, render } from "./view.js";
import { createRefresher } from "./refresher.js";

// Every module above has loaded and run: the page's first script (see reportStartup).
const firstScript = Date.now();

let model = initialModel();

const refresher = createRefresher(
  { now: () => Date.now() / 1000, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t) },
  (refreshAt) => backgroundRefresh(refreshAt),
);

function dispatch(event) {
  model = transition(model, event);
  render(model);
  refresher.sync(model, screenOf(model));
}

// While Home is open the access token is refreshed at the instant the engine names
// (`refreshAt`). Not a command the user started: Home stays, and its countdown says "refreshing…".
async function backgroundRefresh(refreshAt) {
  if (model.busy || model.refreshing) return;
  dispatch({ type: "backgroundRefresh" });
  try {
    dispatch({ type: "backgroundRefreshed", view: await api.perform("refresh") });
  } catch (error) {
    refresher.failed(refreshAt);
    dispatch({ type: "backgroundFailed", error });
    if (!normalizeError(error).state) resync();
  }
}

async function run(action, args) {
  if (model.busy || !action) return; // one command at a time; buttons are gone while busy anyway
  dispatch({ type: "started", action });
  try {
    dispatch({ type: "finished", action, view: await api.perform(action, args) });
  } catch (error) {
    dispatch({ type: "failed", error, retry: action });
    // A failed command may still have moved the engine's state (registered, then the sign-in
    // was cancelled; a revoked client wiped). The reply says where it is now; one that cannot
    // (the command failed before the engine was asked) leaves it to a fresh get_state.
    if (action !== "load" && !normalizeError(error).state) resync();
  }
}


// state-changed events and command replies travel on different channels, so an event can land
// after the reply it preceded. While idle, treat the event as a hint and ask for the truth.
async function resync() {
  try {
    const view = await api.perform("load");
    if (!model.busy) dispatch({ type: "loaded", view });
  } catch {
    // The error screen (if any) already says what is wrong.
  }
}

// With several allowed modes the registration screen's choice goes along.
bind("register", () => run("register", chosenMode(model) ? { mode: chosenMode(model) } : undefined));
bind("chooseMode", (input) => input && dispatch({ type: "chooseMode", mode: input.value }));
bind("signIn", () => run("signIn"));
bind("refresh", () => run("refresh"));
bind("signOut", () => run("signOut"));
bind("forget", () => run("forget"));
bind("finishCleanup", () => run("finishCleanup"));
bind("rotateKey", () => run("rotateKey"));
// Not commands of their own: they steer the running one (which then ends, or goes on).
bind("cancelBrowser", () => api.cancelBrowserStep().catch(() => {}));
bind("openBrowserAgain", () => api.openBrowserAgain().catch(() => {}));
// Embedded mode: the same command shows and focuses the sign-in window.
bind("showSignInWindow", () => api.openBrowserAgain().catch(() => {}));
bind("retry", () => run(model.error && model.error.retry));
bind("back", () => dispatch({ type: "back" }));
bind("dismissNotice", () => dispatch({ type: "dismissNotice" }));

// About this device: a snapshot of the facts each time it opens; its actions report in its
// own status line (a live region), never on an error screen behind the dialog.
bind("openAbout", async () => {
  if (model.busy || model.about) return;
  try {
    dispatch({ type: "aboutOpened", about: await api.about() });
  } catch (error) {
    dispatch({ type: "notice", text: `About this device is not available: ${(error && error.message) || "unknown error"}` });
  }
});
bind("closeAbout", () => dispatch({ type: "aboutClosed" }));
bind("copyDiagnostics", async () => {
  const report = model.about && model.about.view.report;
  if (typeof report !== "string") return;
  const copied = await copyText(report, { container: document.getElementById("about-dialog") });
  dispatch({
    type: "aboutStatus",
    text: copied ? "Diagnostics copied to the clipboard." : "The clipboard refused the report. Select the details above and copy them instead.",
  });
});
bind("openLogFolder", async () => {
  try {
    await api.openLogFolder();
    dispatch({ type: "aboutStatus", text: "The log folder opened in your file manager." });
  } catch (error) {
    dispatch({ type: "aboutStatus", text: (error && error.message) || "The log folder could not be opened." });
  }
});

// The setup screen's file picker: the file's text goes to the shell, which checks it like a
// config at start and saves it only if it is valid (a config holds no secret).
bind("chooseConfig", async (input) => {
  const file = input && input.files && input.files[0];
  if (!file || model.busy) return;
  const problem = configFileProblem(file);
  if (problem) return dispatch({ type: "failed", error: problem, retry: "installConfig" });
  let text;
  try {
    text = await file.text();
  } catch (error) {
    const message = `${file.name} could not be read${error && error.message ? `: ${error.message}` : "."}`;
    return dispatch({ type: "failed", error: { kind: "config", message }, retry: "installConfig" });
  }
  run("installConfig", { text });
});

async function start() {
  // The state came with this script: the first frame WebKit paints is the screen itself. (Its
  // second frame comes hundreds of ms later; see docs/benchmarks.md, "First screen".)
  const carried = api.carriedView();
  if (carried) dispatch({ type: "loaded", view: carried });
  else render(model);
  let rendered = carried ? Date.now() : null;
  let painted = carried ? framePainted() : null;
  // The listeners' requests go out before get_state's and are not waited for: the shell
  // registers each as its request arrives, well before get_state's first progress event (which
  // follows a keychain read), and the first screen does not wait for three more round trips.
  const listening = Promise.all([
    api.onStateChanged((view) => (model.busy ? dispatch({ type: "loaded", view }) : resync())),
    api.onProgress((step) => dispatch({ type: "progress", step })),
    api.onSignInRefused((host) => dispatch({ type: "refused", host })),
  ]);
  if (carried) {
    // A change between the shell's read and the listeners (a deep link, another process) is
    // not lost: once they listen, one quiet get_state, drawn only if the state moved.
    await listening;
    await resync();
  } else {
    await run("load");
    rendered = Date.now();
    painted = framePainted();
    await listening;
  }
  reportStartup(rendered, await painted);
}

// When the frame with what is in the DOM now has been painted: in the second animation frame
// from now (the first frame's callbacks run before that frame is painted).
function framePainted() {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(Date.now()))));
}

// The startup stamps (docs/benchmarks.md): taken on the page's clock, sent after the first
// screen is painted, so no IPC sits on the way to it.
function reportStartup(screenRendered, screenPainted) {
  const origin = performance.timeOrigin;
  const paint = performance.getEntriesByType("paint").find((entry) => entry.name === "first-contentful-paint");
  api.reportStartup({
    navigationStart: origin,
    firstScript,
    firstPaint: paint ? origin + paint.startTime : null,
    screenRendered,
    screenPainted,
  });
}

start();
