// PREVIEW ONLY (served by preview.mjs, never part of ui/): a fake `window.__TAURI__` that answers
// with canned StateViews. `?s=<scenario>` picks one; without it, the whole flow is clickable.
(() => {
  const now = Math.floor(Date.now() / 1000);
  const host = "127.0.0.1:8443";
  const registration = { clientId: "a3f1c29e-7b44-4e0b-9d51-2c6be1f0d7aa", registeredAt: now - 86400 * 12 - 3700, clientSecretExpiresAt: null, templatized: false };
  const views = {
    unregistered: { state: "unregistered", reason: null, issuerHost: host, registration: null, user: null, accessTokenExpiresAt: null, tokenFingerprint: null },
    revoked: { state: "unregistered", reason: "revoked", issuerHost: host, registration: null, user: null, accessTokenExpiresAt: null, tokenFingerprint: null },
    registered: { state: "registered", reason: null, issuerHost: host, registration, user: null, accessTokenExpiresAt: null, tokenFingerprint: null },
    signedIn: {
      state: "signedIn", reason: null, issuerHost: host, registration: { ...registration, clientSecretExpiresAt: now + 86400 * 30 },
      user: { sub: "demouser", displayName: "Demo User", claims: { sub: "demouser", name: "Demo User", given_name: "Demo", family_name: "User", email: "demo.user@example.com", email_verified: true, nickname: "<img src=x onerror=alert(1)>" } },
      accessTokenExpiresAt: now + 299, refreshAt: now + 239, tokenFingerprint: "9f3a61c2", credential: "clientSecret", tokensBound: false, deviceKeyThumbprint: null,
    },
  };
  // private_key_jwt + DPoP: no secret, tokens bound to the device key.
  views.deviceKey = { ...views.signedIn, registration, credential: "deviceKey", tokensBound: true, deviceKeyThumbprint: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", deviceKeyHolder: "tpm", deviceKeyText: "Device key held by this computer's TPM (cannot be copied)" };
  const errors = {
    unreachable: { kind: "unreachable", message: "Could not connect to http://127.0.0.1:8443/oauth/v2/oauth-anonymous: connection refused." },
    keychain: { kind: "keychainLocked", message: "The Secret Service collection 'login' is locked." },
    "keychain-unavailable": { kind: "keychainUnavailable", message: "No Secret Service provider answered on the session bus." },
    config: { kind: "config", message: "config.json: `redirectUri` must be an absolute URI such as io.curity.dcrclient:/callback." },
    server: { kind: "serverError", message: "invalid_request: The request is missing a required parameter." },
    generic: { kind: "internal", message: "An unexpected response was received." },
    missing: {
      kind: "configMissing",
      message: "No configuration was found.",
      setup: { searched: ["/home/demo/.config/io.curity.dcrclient/config.json", "/etc/io.curity.dcrclient/config.json"], saveTo: "/home/demo/.config/io.curity.dcrclient/config.json" },
    },
  };
  let installed = false;
  // A file "picked" by script (a real picker needs a person): `setup-error` picks a config with a typo.
  const pick = (name, text) => setTimeout(() => {
    const input = document.getElementById("config-file");
    const files = new DataTransfer();
    files.items.add(new File([text], name, { type: "application/json" }));
    input.files = files.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, 150);
  const s = new URLSearchParams(location.search).get("s") || "flow";
  const listeners = {};
  const emit = (name, payload) => (listeners[name] || []).forEach((fn) => fn({ event: name, payload }));
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const never = () => new Promise(() => {});
  let current = { flow: views.unregistered, "register-revoked": views.revoked, home: views.signedIn, "home-forget": views.signedIn, "home-about": views.signedIn, "home-wide-claims": views.signedIn, "home-device-key": views.deviceKey }[s] || (s.startsWith("sign-in") || s.startsWith("error-") ? views.registered : views.unregistered);
  let scripted = false; // scenario clicks happen after the first get_state only (not on resyncs)
  const click = (id) => setTimeout(() => document.getElementById(id).click(), 150);

  async function invoke(cmd, args) {
    if (cmd === "about") {
      const home = "/home/a-rather-long-user-name";
      return {
        appVersion: "0.1.0", platform: "linux x86_64", configFile: `${home}/.config/io.curity.dcrclient/config.json`,
        configOrigin: "userFile", issuer: "https://idsvr.example.com/oauth/v2/oauth-anonymous", userAgent: "embedded",
        tokenEndpointAuthMethod: "client_secret_basic", dpop: false, state: current.state, registration: current.registration,
        credential: current.credential, deviceKeyThumbprint: current.deviceKeyThumbprint, deviceKeyHolder: current.deviceKeyHolder, deviceKeyText: current.deviceKeyText, tokensBound: current.tokensBound,
        logFile: `${home}/.local/share/io.curity.dcrclient/logs/dcr-client.log`, logFolder: `${home}/.local/share/io.curity.dcrclient/logs`,
        report: "DCR Client diagnostics (preview)\n",
      };
    }
    if (cmd === "open_log_folder") return null;
    if (cmd === "install_config") {
      const config = JSON.parse(args.text);
      if ("registrationClientId" in config) throw { kind: "config", message: "config key `registrationClientId` is not recognised; remove it or fix its spelling (keys are case-sensitive; known keys: issuer, registrationClientID, redirectUri, postLogoutRedirectUri, scope, softwareId, dcrScope, tokenEndpointAuthMethod, acrValues, rememberSignIn, userAgent)" };
      installed = true;
      return current;
    }
    if (cmd === "get_state") {
      if (s === "loading") return never();
      if (s.startsWith("setup") && !installed) {
        if (s === "setup-error" && !scripted) pick("config.json", JSON.stringify({ issuer: "https://idsvr.example.com/oauth/v2/oauth-anonymous", registrationClientId: "mobile-dcr-client" }));
        scripted = true;
        throw errors.missing;
      }
      if (["error-keychain", "error-keychain-unavailable", "error-config"].includes(s)) throw errors[s.slice(6)];
      if (scripted) return current;
      scripted = true;
      if (s.startsWith("progress-") || s === "cancelled") click("register");
      if (s === "sign-in-cancelled" || (s.startsWith("error-") && !["error-config", "error-keychain", "error-keychain-unavailable"].includes(s))) click("sign-in");
      if (s === "home-forget") click("forget");
      if (s === "home-about") click("about-open");
      return current;
    }
    if (s.startsWith("progress-")) {
      emit("progress", { step: { "progress-waiting": "waitingForSignIn", "progress-registering": "registering", "progress-signing-in": "signingIn" }[s] });
      return never();
    }
    if (s.endsWith("cancelled")) throw { kind: "cancelled", message: "The sign-in window was closed." };
    if (s.startsWith("error-")) throw errors[s.slice(6)];
    // The clickable flow.
    const steps = { register: ["waitingForSignIn", "registering", "signingIn"], sign_in: ["waitingForSignIn", "signingIn"], refresh: ["refreshing"], sign_out: ["signingOut"], forget_device: ["forgetting"], rotate_device_key: ["rotatingKey"] }[cmd];
    for (const step of steps) { emit("progress", { step }); await wait(900); }
    const t = Math.floor(Date.now() / 1000);
    current = { register: { ...views.signedIn, accessTokenExpiresAt: t + 299, refreshAt: t + 239 }, sign_in: { ...views.signedIn, accessTokenExpiresAt: t + 299, refreshAt: t + 239 }, refresh: { ...views.signedIn, accessTokenExpiresAt: t + 300, refreshAt: t + 240, tokenFingerprint: Math.random().toString(16).slice(2, 10) }, sign_out: { ...views.registered, reason: "signedOut" }, forget_device: { ...views.unregistered, reason: "forgotten" }, rotate_device_key: { ...current, deviceKeyThumbprint: Math.random().toString(36).slice(2).padEnd(43, "x") } }[cmd];
    emit("state-changed", current);
    return current;
  }

  // `&click=register,refresh` clicks those ids one after another (every 3.5 s), for flow checks.
  const clicks = (new URLSearchParams(location.search).get("click") || "").split(",").filter(Boolean);
  clicks.forEach((id, i) => setTimeout(() => { const el = document.getElementById(id); if (el) el.click(); else console.error(`preview: no #${id}`); }, 500 + i * 3500));

  const focusId = new URLSearchParams(location.search).get("focus"); // shows the keyboard focus ring
  if (focusId) setTimeout(() => document.getElementById(focusId).focus(), 400);

  window.__TAURI__ = {
    core: { invoke },
    event: { listen: async (name, fn) => { (listeners[name] ||= []).push(fn); return () => {}; } },
  };
})();
