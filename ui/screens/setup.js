// The setup screen: no config was found anywhere (the app has no built-in default). It names the
// files the app looked for and lets the user choose the config.json their organisation gave them;
// the shell checks it like a config at start and saves it only if it is valid.
import { h, heading, screen } from "../dom.js";

export function setupScreen(model, { doc }) {
  const setup = model.setup;
  const searched = setup.searched.length ? setup.searched : ["(no location is known on this system)"];
  return screen(
    doc,
    "setup",
    "screen-title",
    heading(doc, "Choose a configuration", { id: "screen-title" }),
    h(
      doc,
      "p",
      { class: "lead" },
      "This app needs a configuration file (config.json) from your organisation before it can connect to your identity server.",
    ),
    h(doc, "p", { id: "setup-searched-title" }, "It looked in these places and found none:"),
    h(
      doc,
      "ul",
      { id: "setup-searched", class: "paths", "aria-labelledby": "setup-searched-title" },
      searched.map((path) => h(doc, "li", { class: "mono" }, path)),
    ),
    h(doc, "p", { class: "muted small" }, "No --config option or DCR_CONFIG variable was given either."),
    setup.error
      ? h(
          doc,
          "div",
          { class: "callout callout-error", role: "alert", id: "setup-error" },
          h(doc, "p", { class: "callout-title" }, "This file cannot be used"),
          h(doc, "p", { id: "setup-error-message", class: "callout-message" }, setup.error.message),
          h(doc, "p", {}, "Nothing was saved. Fix the file, or choose another one."),
        )
      : null,
    h(
      doc,
      "div",
      { class: "file-picker" },
      h(doc, "label", { for: "config-file", class: "file-label" }, "Configuration file"),
      h(doc, "input", {
        type: "file",
        id: "config-file",
        class: "file-input",
        accept: ".json,application/json",
        "data-change": "chooseConfig",
        "aria-describedby": "config-file-help",
      }),
      h(
        doc,
        "p",
        { id: "config-file-help", class: "muted" },
        setup.saveTo
          ? ["The app checks the file, saves a copy to ", h(doc, "span", { class: "mono" }, setup.saveTo), " and uses it from now on."]
          : "The app checks the file and uses it.",
      ),
    ),
  );
}
