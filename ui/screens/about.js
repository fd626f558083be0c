// About this device: a modal <dialog> (showModal traps focus, Escape closes it) with
// what a help desk asks for, "Copy diagnostics" and "Open log folder". Everything shown comes
// from the `about` command, which holds no secret: the report it carries is redacted in Rust.
import { h, button, facts } from "../dom.js";
import { formatSecretExpiry, formatTimestamp } from "../format.js";

/** Which source chose the config file (`configOrigin`). */
export const ORIGIN_TEXT = Object.freeze({
  argument: "Chosen by the --config option",
  environment: "Chosen by the DCR_CONFIG variable",
  userFile: "Found in your config folder",
  systemFile: "Set by your administrator (system-wide file)",
  setupScreen: "Chosen on the setup screen",
});

/** Where sign-in pages open (`userAgent`). */
export const USER_AGENT_TEXT = Object.freeze({
  embedded: "The app's own sign-in window (embedded)",
  system: "Your web browser, back through the system (system)",
  loopback: "Your web browser, back through 127.0.0.1 (loopback)",
});

/**
 * A file path that wraps after its separators rather than inside a folder name: each part
 * keeps together (unless it alone is wider than the line), with a break opportunity after
 * every "/" or "\\". The text is unchanged, so selecting and copying it gives the path.
 */
export function pathText(doc, path, attrs) {
  const parts = String(path).split(/(?<=[/\\])/);
  return h(
    doc,
    "span",
    { class: "mono path", ...attrs },
    parts.map((part, i) => [h(doc, "span", { class: part.length > 32 ? null : "path-part" }, part), i < parts.length - 1 ? h(doc, "wbr", {}) : null]),
  );
}

/** The button that opens the dialog, on the screens where a registration can exist. */
export function aboutButton(doc) {
  return button(doc, {
    id: "about-open",
    action: "openAbout",
    kind: "link",
    label: "About this device",
    "aria-haspopup": "dialog",
  });
}

/** The dialog's contents; the view keeps the <dialog> itself (index.html) across screens. */
export function aboutContent(doc, about, { locale } = {}) {
  const registration = about.registration;
  const deviceKey = about.credential === "deviceKey";
  const value = (text, attrs) => h(doc, "span", attrs || {}, text);
  const rows = [
    ["App version", `${about.appVersion} (${about.platform})`, "about-version"],
    [
      "Configuration file",
      [
        about.configFile ? pathText(doc, about.configFile, { id: "about-config-file" }) : value("None", { id: "about-config-file" }),
        about.configOrigin ? h(doc, "span", { class: "fact-note", id: "about-config-origin" }, ORIGIN_TEXT[about.configOrigin] || "") : null,
      ],
      "about-config",
    ],
    ["Identity server", about.issuer || "Unknown", "about-issuer", { class: "mono" }],
    ["Sign-in opens in", USER_AGENT_TEXT[about.userAgent] || "Unknown", "about-user-agent"],
    registration ? ["Client ID", registration.clientId, "about-client-id", { class: "mono" }] : null,
    registration ? ["Registered", formatTimestamp(registration.registeredAt, locale), "about-registered-at"] : null,
    registration
      ? [
          "Secret expires",
          deviceKey ? "No shared secret (device key)" : formatSecretExpiry(registration.clientSecretExpiresAt, locale),
          "about-secret-expires",
        ]
      : null,
    registration ? null : ["Registration", "This device is not registered", "about-registration"],
    about.deviceKeyThumbprint ? ["Key thumbprint", about.deviceKeyThumbprint, "about-thumbprint", { class: "mono" }] : null,
    // The engine's sentence (KeyHolder::describe), the one Home and `dcr status` show.
    typeof about.deviceKeyText === "string" && about.deviceKeyText ? ["Key storage", about.deviceKeyText, "about-key-holder"] : null,
    ["Log file", about.logFile ? pathText(doc, about.logFile) : "None (logs go to the terminal)", "about-log-file"],
  ].filter(Boolean);
  return [
    h(doc, "h2", { id: "about-title", tabindex: "-1" }, "About this device"),
    h(doc, "p", { class: "muted", id: "about-text" }, "Give these details to your help desk. They hold no passwords, secrets or tokens."),
    facts(doc, rows, { id: "about-facts", class: "facts facts-about" }),
    h(doc, "p", { id: "about-status", class: "about-status", role: "status", "aria-live": "polite" }),
    h(
      doc,
      "div",
      { class: "actions" },
      button(doc, { id: "copy-diagnostics", action: "copyDiagnostics", kind: "primary", label: "Copy diagnostics" }),
      about.logFolder
        ? button(doc, { id: "open-log-folder", action: "openLogFolder", label: "Open log folder", "aria-describedby": "about-log-file" })
        : null,
      button(doc, { id: "about-close", action: "closeAbout", label: "Close" }),
    ),
  ];
}
