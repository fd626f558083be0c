// Dev preview: serves ui/ on 127.0.0.1 with a fake `window.__TAURI__` (fake-tauri.js) injected
// into index.html here only, under the app's CSP. `node tests/ui/preview.mjs [port]`, then open
// http://127.0.0.1:<port>/?s=home (scenarios are listed in fake-tauri.js; no ?s= is a clickable flow).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const uiRoot = join(here, "../../ui");
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

export function startPreview(port = 0) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    try {
      let file = path === "/__preview/fake-tauri.js" ? join(here, "fake-tauri.js") : join(uiRoot, normalize(path === "/" ? "/index.html" : path));
      if (!file.startsWith(uiRoot) && !file.endsWith("fake-tauri.js")) throw new Error("outside ui/");
      let body = await readFile(file);
      if (file.endsWith("index.html")) {
        body = String(body).replace('<script type="module"', '<script src="/__preview/fake-tauri.js"></script>\n  <script type="module"');
      }
      res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream", "content-security-policy": CSP, "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startPreview(Number(process.argv[2] || 4173));
  console.log(`preview: http://127.0.0.1:${server.address().port}/`);
}
