// Source-level guarantees for ui/: the CSP holds (no inline script or style, no remote assets),
// nothing parses data as HTML, only api.js touches Tauri, and the names match the shell's contract.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ui = fileURLToPath(new URL("../../ui/", import.meta.url));
const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
const sources = Object.fromEntries(files(ui).map((f) => [relative(ui, f), readFileSync(f, "utf8")]));
const js = Object.entries(sources).filter(([name]) => name.endsWith(".js"));

test("ui/ has the expected modules", () => {
  for (const name of ["index.html", "styles.css", "screens.css", "main.js", "api.js", "state.js", "copy.js", "format.js", "errors.js", "refresher.js", "view.js",
    "screens/register.js", "screens/sign-in.js", "screens/home.js", "screens/error.js", "screens/progress.js", "screens/setup.js", "screens/cleanup.js", "screens/onboarding.js", "screens/about.js", "clipboard.js"]) {
    assert.ok(name in sources, name);
  }
});

test("the state machine, the copy tables and the formatters are pure: no DOM, clock, timer or Tauri", () => {
  for (const name of ["state.js", "copy.js", "format.js", "errors.js"]) {
    assert.doesNotMatch(sources[name], /\b(document|window|globalThis)\.\w|Date\.now|new Date\(\)|setTimeout|setInterval|__TAURI__/, name);
    const imports = [...sources[name].matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    for (const from of imports) assert.ok(["./state.js", "./copy.js", "./format.js", "./errors.js"].includes(from), `${name} imports ${from}`);
  }
});

test("no session policy in ui/: the engine's state is shown, never made up", () => {
  for (const [name, src] of js) {
    // No StateView built by hand (the engine's revoked → unregistered rule, say).
    assert.doesNotMatch(src, /\bstate:\s*"(unregistered|registered|signedIn)"|\breason:\s*"/, name);
  }
  // When to refresh is the engine's `refreshAt`: the timer never looks at the expiry.
  assert.doesNotMatch(sources["refresher.js"], /accessTokenExpiresAt|lifetime|lead/i);
});

test("no HTML parsing of strings, no eval", () => {
  for (const [name, src] of js) {
    assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|createContextualFragment|DOMParser/, name);
  }
});

test("only api.js touches window.__TAURI__, and it calls exactly the contract's commands and events", () => {
  for (const [name, src] of js) {
    if (name !== "api.js") assert.doesNotMatch(src, /__TAURI__|invoke\(/, name);
  }
  const api = sources["api.js"];
  const commands = [...api.matchAll(/:\s*"([a-z_]+)",?\n/g)].map((m) => m[1]).sort();
  assert.deepEqual(commands, ["finish_server_cleanup", "forget_device", "get_state", "install_config", "refresh", "register", "rotate_device_key", "sign_in", "sign_out"]);
  // Every command the UI calls, mapped or direct, is one the shell registers (src-tauri/build.rs).
  const direct = [...api.matchAll(/invoke\("([a-z_]+)"/g)].map((m) => m[1]);
  const build = readFileSync(fileURLToPath(new URL("../../src-tauri/build.rs", import.meta.url)), "utf8");
  const registered = [...build.matchAll(/^\s*"([a-z_]+)",$/gm)].map((m) => m[1]).sort();
  assert.deepEqual([...commands, ...direct].sort(), registered);
  const events = [...api.matchAll(/listen\("([a-z-]+)"/g)].map((m) => m[1]).sort();
  assert.deepEqual(events, ["progress", "sign-in-refused", "state-changed"]);
});

test("the CSP holds: no inline scripts, styles or handlers, no remote assets", () => {
  const html = sources["index.html"];
  for (const tag of html.match(/<script\b[^>]*>/g)) assert.match(tag, /\bsrc="[^"/:]+\.js"/);
  assert.doesNotMatch(html, /<script\b[^>]*>\s*[^<\s]/, "inline script");
  assert.doesNotMatch(html, /<style\b|\sstyle=/i, "inline style");
  assert.doesNotMatch(html, /\son[a-z]+=/i, "inline handler");
  for (const [name, src] of Object.entries(sources)) {
    assert.doesNotMatch(src, /https?:\/\/|@import|\/\/fonts\./, `${name} loads nothing remote`);
    if (name.endsWith(".js")) assert.doesNotMatch(src, /\.style\b|"style"/, `${name} sets no inline style`);
  }
});

test("view.js exposes exactly bind and render", async () => {
  const view = await import("../../ui/view.js");
  assert.deepEqual(Object.keys(view).sort(), ["bind", "render"]);
});

test("the static page has the live regions and the mount point the view expects", () => {
  const html = sources["index.html"];
  assert.match(html, /id="notice" role="status" aria-live="polite"/);
  assert.match(html, /<main id="app"/);
  assert.match(html, /id="issuer-host"/);
  assert.match(html, /<html lang="en">/);
  assert.match(html, /<script type="module" src="main.js"><\/script>/);
});
