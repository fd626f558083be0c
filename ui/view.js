// The view: `render(model)` draws the screen the model implies, `bind(name, handler)` routes user
// actions (todomvc-style). It knows the DOM, not Tauri and not the state machine's rules.
import { controlsFor, onboardingStep, screenOf } from "./state.js";
import { REFRESHING_TEXT, stepText } from "./copy.js";
import { formatCountdown } from "./format.js";
import { steps } from "./dom.js";
import { registerScreen } from "./screens/register.js";
import { signInScreen } from "./screens/sign-in.js";
import { homeScreen } from "./screens/home.js";
import { errorScreen } from "./screens/error.js";
import { browserControls, progressScreen, progressHint } from "./screens/progress.js";
import { setupScreen } from "./screens/setup.js";
import { aboutContent } from "./screens/about.js";

const SCREENS = {
  register: registerScreen,
  signIn: signInScreen,
  home: homeScreen,
  error: errorScreen,
  progress: progressScreen,
  loading: progressScreen,
  setup: setupScreen,
};

const handlers = {};
let drawn = null; // { screen, key } of what is on screen now
let ticker = null;
let lastClicked = null; // id of the button that started the running action

const $ = (id) => document.getElementById(id);
const nowSeconds = () => Date.now() / 1000;

/**
 * Registers the handler for a named user action: a button's data-action (or "cancelForget"…),
 * or an input's data-change, whose handler gets the input element.
 */
export function bind(name, handler) {
  handlers[name] = handler;
  if (bind.installed) return;
  bind.installed = true;
  // One delegated listener survives every re-render.
  $("app").addEventListener("click", (event) => {
    const target = event.target.closest("[data-action]");
    if (!target || target.disabled) return;
    lastClicked = target.id || null;
    route(target.getAttribute("data-action"));
  });
  $("app").addEventListener("change", (event) => {
    const target = event.target.closest("[data-change]");
    if (!target || target.disabled) return;
    lastClicked = target.id || null; // back on its screen (a refused file), focus returns here
    route(target.getAttribute("data-change"), target);
  });
  // About this device lives outside #app (index.html), so a screen change never destroys it.
  const about = $("about-dialog");
  about.addEventListener("click", (event) => {
    const target = event.target.closest("[data-action]");
    if (target && !target.disabled) route(target.getAttribute("data-action"));
  });
  // Escape, Close, or the window going away: the model follows, and focus returns to the
  // button that opened it.
  about.addEventListener("close", () => {
    route("closeAbout");
    const opener = document.querySelector("#app #about-open");
    if (opener) opener.focus();
  });
  $("notice-dismiss").addEventListener("click", () => {
    route("dismissNotice");
    // The dismiss button hides itself; keep keyboard focus on the page, not lost on <body>.
    const title = document.querySelector("#app h1");
    if (title) title.focus();
  });
}

function route(action, target) {
  if (action === "openForget") return openDialog();
  if (action === "closeAbout") {
    const about = $("about-dialog");
    // Closing fires "close", which routes here again with the dialog shut: then tell the model.
    if (about.open) return about.close();
  }
  if (action === "cancelForget") return closeDialog();
  if (action === "forget") closeDialog();
  if (handlers[action]) handlers[action](target);
}

export function render(model) {
  renderHeader(model);
  renderNotice(model);
  renderAbout(model);
  const screen = screenOf(model);
  // A progress screen is kept across steps (its live region must survive to be announced).
  const busy = screen === "progress" || screen === "loading";
  const key = JSON.stringify(busy ? [screen, model.action] : [screen, model.view, model.error, model.setup, model.mode]);
  if (drawn && drawn.key === key) {
    if (busy) updateProgress(model);
    markRefreshing(model);
    return;
  }
  const previous = drawn;
  const app = $("app");
  // The same screen drawn again with new facts (a background refresh on Home): keyboard focus
  // stays on the control that had it.
  const focused = previous && previous.screen === screen && app.contains(document.activeElement) ? document.activeElement.id : null;
  app.replaceChildren(SCREENS[screen](model, { doc: document, now: nowSeconds() }));
  if (focused && $(focused)) $(focused).focus();
  document.body.setAttribute("data-screen", screen);
  drawn = { screen, key };
  markRefreshing(model);
  startTicker(screen === "home");
  // Move focus to the new screen's heading (or the progress status) so keyboard and
  // screen-reader users land on what changed; before any click, the page keeps its focus.
  if (previous && previous.screen !== screen && lastClicked !== null) focusScreen();
}

// Back on a screen with the button the user pressed (Refresh, a cancelled Sign in): focus it
// again; otherwise the heading, or the progress status.
function focusScreen() {
  const again = lastClicked && document.querySelector(`#app #${CSS.escape(lastClicked)}`);
  const target = again || document.querySelector("#app h1, #progress");
  if (target) target.focus();
}

function updateProgress(model) {
  const text = $("progress-text");
  if (text && text.textContent !== stepText(model.step)) text.textContent = stepText(model.step);
  const hint = $("progress-hint");
  if (hint) hint.textContent = progressHint(model.step);
  const controls = $("browser-controls");
  if (controls && controls.getAttribute("data-kind") !== controlsFor(model.step)) {
    controls.replaceChildren(...browserControls(document, model.step));
    controls.setAttribute("data-kind", controlsFor(model.step));
  }
  const refused = $("progress-refused");
  if (refused && refused.textContent !== (model.refused || "")) refused.textContent = model.refused || "";
  const indicator = document.querySelector("#app .steps");
  const current = onboardingStep(model);
  if (indicator && current >= 0) indicator.replaceWith(steps(document, current));
}

function renderHeader(model) {
  const host = model.view && model.view.issuerHost;
  const el = $("issuer-host");
  el.textContent = host || "";
  $("issuer").hidden = !host;
}

// The dialog is filled when it opens and only its status line changes while it is open, so
// keyboard focus stays on the button the user pressed.
function renderAbout(model) {
  const dialog = $("about-dialog");
  if (!model.about) {
    if (dialog.open) dialog.close();
    return;
  }
  if (!dialog.open) {
    dialog.replaceChildren(...aboutContent(document, model.about.view));
    dialog.showModal();
    const first = $("copy-diagnostics");
    if (first) first.focus();
  }
  const status = $("about-status");
  const text = model.about.status || "";
  if (status && status.textContent !== text) status.textContent = text;
}

function renderNotice(model) {
  const text = model.notice || "";
  const el = $("notice");
  if (el.textContent !== text) el.textContent = text;
  $("notice-bar").classList.toggle("notice-empty", !text);
  $("notice-dismiss").hidden = !text;
}

// A background refresh in flight: the countdown says so until the new time arrives.
function markRefreshing(model) {
  const el = $("token-expiry");
  if (!el) return;
  if (model.refreshing) el.setAttribute("data-refreshing", "");
  else el.removeAttribute("data-refreshing");
  if (ticker) tick();
}

// The countdown changes every second; only its text node is touched, never the screen.
function tick() {
  const el = $("token-expiry");
  if (!el) return;
  const at = Number(el.getAttribute("data-expires-at"));
  const text = el.hasAttribute("data-refreshing")
    ? REFRESHING_TEXT
    : el.hasAttribute("data-expires-at")
      ? formatCountdown(at, nowSeconds())
      : "unknown";
  if (el.textContent !== text) el.textContent = text;
  el.classList.toggle("expired", text === "expired");
}

function startTicker(on) {
  if (ticker) clearInterval(ticker);
  ticker = null;
  if (!on) return;
  tick();
  ticker = setInterval(tick, 1000);
}

function openDialog() {
  const dialog = $("forget-dialog");
  if (!dialog || dialog.open) return;
  // Escape, Cancel and Confirm all end here: give focus back to the button that opened it.
  dialog.addEventListener(
    "close",
    () => {
      const opener = $("forget");
      if (opener && (document.activeElement === document.body || !document.activeElement)) opener.focus();
    },
    { once: true },
  );
  dialog.showModal();
  const cancel = $("forget-cancel");
  if (cancel) cancel.focus();
}

function closeDialog() {
  const dialog = $("forget-dialog");
  if (dialog && dialog.open) dialog.close();
}
