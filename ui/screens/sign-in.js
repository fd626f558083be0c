// The Sign-in screen: a registration came back from the keychain, but nobody is signed in.
import { h, button, heading } from "../dom.js";
import { formatTimestamp } from "../format.js";
import { onboardingScreen } from "./onboarding.js";

export function signInScreen(model, { doc, locale }) {
  const registration = model.view && model.view.registration;
  return onboardingScreen(
    doc,
    model,
    { name: "sign-in", step: 1 },
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
  );
}
