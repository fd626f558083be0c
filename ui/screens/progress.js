// The progress screen while a command runs. The view updates `#progress-text` in place between
// steps, so the live region survives and each step is announced.
import { h, steps } from "../dom.js";
import { onboardingStep, stepText } from "../state.js";

const HINTS = {
  waitingForSignIn: "Enter your credentials in the sign-in window. Closing that window cancels.",
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
    // Always present (empty when nothing was refused), so the view can fill it in place and
    // the alert is announced when it appears.
    h(doc, "p", { id: "progress-refused", class: "progress-refused", role: "alert" }, model.refused || ""),
  );
}

export function progressHint(step) {
  return HINTS[step] || "";
}
