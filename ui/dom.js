// The one way screens build DOM: createElement, setAttribute and text nodes. Data never passes
// through an HTML parser, so a claim like `<img onerror=…>` stays text.

/**
 * `h(doc, "button", {id: "x", class: "btn", "data-action": "go"}, "Label", childNode, …)`.
 * Strings and numbers become text nodes; null, undefined and false are skipped; arrays flatten.
 */
export function h(doc, tag, attrs, ...children) {
  const el = doc.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  append(doc, el, children);
  return el;
}

function append(doc, el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(doc, el, child);
    else if (typeof child === "string" || typeof child === "number") el.appendChild(doc.createTextNode(String(child)));
    else el.appendChild(child);
  }
}

/** A button that the view's `bind` routes by its `data-action`. */
export function button(doc, { id, action, label, kind = "secondary", ...rest }) {
  return h(doc, "button", { type: "button", id, class: `btn btn-${kind}`, "data-action": action, ...rest }, label);
}

/** The Register device → Sign in → Done indicator; `current` is 0, 1 or 2. */
export function steps(doc, current) {
  const names = ["Register device", "Sign in", "Done"];
  return h(
    doc,
    "ol",
    { class: "steps", "aria-label": "Setup steps" },
    names.map((name, i) => {
      const state = i < current ? "done" : i === current ? "current" : "todo";
      return h(
        doc,
        "li",
        { class: `step step-${state}`, "aria-current": i === current ? "step" : null },
        h(doc, "span", { class: "step-marker", "aria-hidden": "true" }, i < current ? "✓" : String(i + 1)),
        h(doc, "span", { class: "step-label" }, name),
        i < current ? h(doc, "span", { class: "visually-hidden" }, " (completed)") : null,
      );
    }),
  );
}

/** A definition list from `[term, value, id?]` rows. */
export function facts(doc, rows, attrs) {
  return h(
    doc,
    "dl",
    { class: "facts", ...attrs },
    rows.map(([term, value, id, extra]) =>
      h(doc, "div", { class: "fact" }, h(doc, "dt", {}, term), h(doc, "dd", { id, ...extra }, value)),
    ),
  );
}

/**
 * A screen: a `<section class="screen screen-{name}">` that a screen reader names by the
 * element `labelledBy` (its heading, or on Home the user's name).
 */
export function screen(doc, name, labelledBy, ...children) {
  return h(doc, "section", { class: `screen screen-${name}`, "aria-labelledby": labelledBy }, ...children);
}

/** The screen's heading: focusable by script so a screen change moves a screen reader to it. */
export function heading(doc, text, attrs) {
  return h(doc, "h1", { tabindex: "-1", ...attrs }, text);
}
