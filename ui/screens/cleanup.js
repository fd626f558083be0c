// The callout for a sign-out or forget whose server part failed: it says what happened and offers
// "Try again" (the engine keeps what the retry needs in memory; see StateView.pendingServerCleanup).
import { h, button } from "../dom.js";
import { pendingCleanup } from "../copy.js";

export function cleanupCallout(doc, view) {
  const pending = pendingCleanup(view);
  if (!pending) return null;
  return h(
    doc,
    "div",
    { class: "callout callout-warning", role: "alert", id: "pending-cleanup", "data-pending": pending.kind },
    h(doc, "p", {}, pending.text),
    h(doc, "div", { class: "actions" }, button(doc, { id: "finish-cleanup", action: "finishCleanup", label: "Try again" })),
  );
}
