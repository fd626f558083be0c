// Screenshots of every preview scenario with Debian's headless Chromium, at 900×700 and 400×600,
// light and dark: `node tests/ui/screenshots.mjs [outdir]` (default /tmp/ui-shots).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPreview } from "./preview.mjs";

const SCENARIOS = ["setup", "setup-error", "register", "register-revoked", "progress-waiting", "progress-registering", "progress-signing-in", "sign-in", "sign-in-cancelled", "home", "home-device-key", "home-forget", "home-about", "error-unreachable", "error-keychain", "error-keychain-unavailable", "error-config", "error-server", "error-generic"];
const SIZES = ["900,700", "400,600"];
const out = process.argv[2] || "/tmp/ui-shots";
const only = process.argv[3] ? new RegExp(process.argv[3]) : null;
mkdirSync(out, { recursive: true });

const server = await startPreview(0);
const port = server.address().port;
try {
  for (const scenario of SCENARIOS.filter((s) => !only || only.test(s))) {
    for (const size of SIZES) {
      for (const scheme of ["light", "dark"]) {
        const profile = mkdtempSync(join(tmpdir(), "ui-shot-"));
        const file = join(out, `${scenario}-${size.replace(",", "x")}-${scheme}.png`);
        // Async: the preview server runs in this same process and must keep answering.
        await promisify(execFile)("chromium", [
          "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", "--no-first-run", "--hide-scrollbars", `--user-data-dir=${profile}`, `--window-size=${size}`,
          ...(scheme === "dark" ? ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] : ["--blink-settings=preferredColorScheme=1"]),
          "--virtual-time-budget=3000", `--screenshot=${file}`, `http://127.0.0.1:${port}/?s=${scenario}`,
        ], { timeout: 60000 });
        rmSync(profile, { recursive: true, force: true });
        console.log(file);
      }
    }
  }
} finally {
  server.close();
}
