// The Registration screen: first start, or after the registration was revoked or forgotten.
import { h, button, heading } from "../dom.js";
import { chosenMode } from "../state.js";
import { MODE_TEXT } from "../copy.js";
import { onboardingScreen } from "./onboarding.js";

// Why the user is here again, when the backend says so (StateView.reason).
const REASONS = {
  revoked: {
    title: "This device's registration is no longer valid",
    text: "An administrator may have revoked it. Register this device again to get new credentials.",
  },
  secretExpired: {
    title: "This device's credentials have expired",
    text: "Register this device again to get new credentials.",
  },
  deviceKeyLost: {
    title: "This device's key is no longer available",
    text: "The TPM that held it was cleared or replaced, or this keychain entry came from another computer. Register this device again to get a new key.",
  },
};

export function registerScreen(model, { doc }) {
  const reason = model.view && REASONS[model.view.reason];
  return onboardingScreen(
    doc,
    model,
    { name: "register", step: 0 },
    reason
      ? h(
          doc,
          "div",
          { class: "callout callout-warning", role: "alert", id: "register-reason" },
          h(doc, "p", { class: "callout-title" }, reason.title),
          h(doc, "p", {}, reason.text),
        )
      : null,
    heading(doc, "Register this device", { id: "screen-title" }),
    h(
      doc,
      "p",
      { class: "lead" },
      "This app registers itself once with your organisation's identity server so that this device gets its own credentials.",
    ),
    h(
      doc,
      "p",
      { class: "muted", id: "register-how" },
      (chosenMode(model) || (model.view && model.view.userAgent)) === "embedded" || !model.view
        ? "A sign-in window will open. After you sign in, the app registers this device and signs you in — no second password."
        : "Your web browser will open the sign-in page. After you sign in there, the app registers this device and signs you in — no second password.",
    ),
    modeChoice(doc, model),
    h(
      doc,
      "div",
      { class: "actions" },
      button(doc, {
        id: "register",
        action: "register",
        kind: "primary",
        label: reason ? "Register again" : "Register this device",
      }),
    ),
  );
}

/**
 * Where the sign-in page opens, when the config allows more than one mode (`userAgent` as a
 * list; the first is preselected). The registration is bound to the mode chosen here.
 */
export function modeChoice(doc, model) {
  const chosen = chosenMode(model);
  if (!chosen) return null;
  return h(
    doc,
    "fieldset",
    { id: "mode-choice", class: "mode-choice" },
    h(doc, "legend", {}, "Where should the sign-in page open?"),
    model.view.userAgents.map((mode) =>
      h(
        doc,
        "label",
        { class: "mode-option", for: `mode-${mode}` },
        h(doc, "input", {
          type: "radio",
          name: "mode",
          id: `mode-${mode}`,
          value: mode,
          checked: mode === chosen,
          "data-change": "chooseMode",
        }),
        h(doc, "span", { class: "mode-label" }, MODE_TEXT[mode].label),
        h(doc, "span", { class: "muted mode-hint" }, MODE_TEXT[mode].hint),
      ),
    ),
    h(doc, "p", { class: "muted" }, "This device stays registered for the way you choose; to change it later, forget this device and register again."),
  );
}
