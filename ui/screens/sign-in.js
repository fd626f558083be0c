// The Sign-in screen: a registration came back from the keychain, but nobody is signed in.
import { h, button, steps, heading } from "../dom.js";
import { formatTimestamp } from "../format.js";
import { cleanupCallout } from "./cleanup.js";
import { aboutButton } from "./about.js";

export function signInScreen(model, { doc, locale }) {
  const registration = model.view && model.view.registration;
  return h(
    doc,
    "section",
    { class: "screen screen-sign-in", "aria-labelledby": "screen-title" },
    steps(doc, 1),
    cleanupCallout(doc, model.view),
    heading(doc, "Welcome back", { id: "screen-title" }),
    registration
      ? h(
          doc,
          "p",
          { class: "lead" },
          "This device was registered on ",
          h(doc, "strong", { id: "registered-at" }, formatTimestamp(registration.registeredAt, locale)),
          ".",
        )
      : h(doc, "p", { class: "lead" }, "This device is registered."),
    h(
      doc,
      "p",
      { class: "muted" },
      "Sign in with your organisation's account. If you are still signed in there, it takes one click.",
    ),
    h(doc, "div", { class: "actions" }, button(doc, { id: "sign-in", action: "signIn", kind: "primary", label: "Sign in" })),
    h(doc, "div", { class: "screen-footer" }, aboutButton(doc)),
  );
}
