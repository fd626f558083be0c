// The progress screen while a command runs. The view updates `#progress-text` in place between
// steps, so the live region survives and each step is announced.
import { button, h, steps } from "../dom.js";
import { controlsFor, onboardingStep } from "../state.js";
import { stepText } from "../copy.js";

const HINTS = {
  waitingForSignIn: "Enter your credentials in the sign-in window. Closing that window cancels.",
  waitingInBrowser: "The sign-in page opened in your web browser. Come back here when it says you can close the tab.",
  signingOutInBrowser: "The sign-out page opened in your web browser. Come back here when it says you can close the tab.",
  // System mode: the browser hands the answer to the app through the OS (it may ask whether to
  // open this app); there is no "close this tab" page.
  waitingInSystemBrowser:
    "The sign-in page opened in your web browser. When you have signed in, the browser hands you back to this app; allow it if it asks.",
  signingOutInSystemBrowser:
    "The sign-out page opened in your web browser. When you have signed out, the browser hands you back to this app; allow it if it asks.",
  waitingInWindow: "Enter your credentials in the sign-in window. If you cannot see it, show it; Cancel stops signing in.",
  signingOutInWindow: "The identity server's sign-out page is open in the sign-in window. If you cannot see it, show it; Cancel stops.",
};

export function progressScreen(model, { doc }) {
  const current = onboardingStep(model);
  return h(
    doc,
    "section",
    { class: "screen screen-progress", "aria-busy": "true" },
    current >= 0 ? steps(doc, current) : null,
    h(
      doc,
      "div",
      { id: "progress", class: "progress", role: "status", "aria-live": "polite", tabindex: "-1" },
      h(doc, "span", { class: "spinner", "aria-hidden": "true" }),
      h(doc, "p", { id: "progress-text", class: "progress-text" }, stepText(model.step)),
    ),
    h(doc, "p", { id: "progress-hint", class: "muted progress-hint" }, progressHint(model.step)),
    // Loopback mode (the user's own browser): the container is always present, filled while a
    // step waits there, so the view can update it in place without redrawing the live region.
    h(doc, "div", { id: "browser-controls", class: "actions", "data-kind": controlsFor(model.step) }, browserControls(doc, model.step)),
    // Always present (empty when nothing was refused), so the view can fill it in place and
    // the alert is announced when it appears.
    h(doc, "p", { id: "progress-refused", class: "progress-refused", role: "alert" }, model.refused || ""),
  );
}

/**
 * Cancel and "Open the browser again" while a step waits in the user's browser; "Show the
 * sign-in window" and Cancel a few seconds into a sign-in window step (embedded mode).
 */
export function browserControls(doc, step) {
  switch (controlsFor(step)) {
    case "browser":
      return [
        button(doc, { id: "cancel-browser", action: "cancelBrowser", label: "Cancel" }),
        button(doc, { id: "open-browser-again", action: "openBrowserAgain", label: "Open the browser again", kind: "link" }),
      ];
    case "window":
      return [
        button(doc, { id: "show-sign-in-window", action: "showSignInWindow", label: "Show the sign-in window" }),
        button(doc, { id: "cancel-sign-in", action: "cancelBrowser", label: "Cancel" }),
      ];
    default:
      return [];
  }
}

export function progressHint(step) {
  return HINTS[step] || "";
}
