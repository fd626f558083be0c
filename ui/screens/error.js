// The error screen: what happened, the sanitized message, what to do next.
import { h, button, heading, screen } from "../dom.js";

const ACTIONS = {
  retry: { id: "retry", label: "Try again", kind: "primary" },
  back: { id: "back", label: "Back", kind: "secondary" },
};

export function errorScreen(model, { doc }) {
  const error = model.error;
  return screen(
    doc,
    "error",
    "error-title",
    h(doc, "div", { class: "error-icon", "aria-hidden": "true" }, "!"),
    heading(doc, error.title, { id: "error-title" }),
    error.message ? h(doc, "p", { id: "error-message", class: "error-message" }, error.message) : null,
    error.help ? h(doc, "p", { id: "error-help", class: "muted" }, error.help) : null,
    error.actions.length
      ? h(
          doc,
          "div",
          { class: "actions" },
          error.actions.map((name) => {
            const a = ACTIONS[name];
            return button(doc, { id: a.id, action: name, label: a.label, kind: a.kind });
          }),
        )
      : null,
  );
}
