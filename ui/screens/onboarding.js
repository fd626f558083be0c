// The frame the two onboarding screens (Register, Sign in) share: the step indicator, the
// callout for a sign-out or forget still to finish, the screen's own content under its heading
// (#screen-title), then the About button.
import { h, screen, steps } from "../dom.js";
import { cleanupCallout } from "./cleanup.js";
import { aboutButton } from "./about.js";

/** `step`: 0 on Register, 1 on Sign in (see `steps`). */
export function onboardingScreen(doc, model, { name, step }, ...content) {
  return screen(
    doc,
    name,
    "screen-title",
    steps(doc, step),
    cleanupCallout(doc, model.view),
    ...content,
    h(doc, "div", { class: "screen-footer" }, aboutButton(doc)),
  );
}
