// Small helpers for the routes we serve ourselves (interactions and the admin API).
import { PAGE_HEADERS } from './views.mjs';

export function sendHtml(res, status, html) {
  res.writeHead(status, PAGE_HEADERS);
  res.end(html);
}

export function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

export function redirect(res, location) {
  res.writeHead(303, { location, 'cache-control': 'no-store' });
  res.end();
}

// Reads an application/x-www-form-urlencoded body (bounded, the login form is tiny).
export async function readForm(req, limit = 16 * 1024) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
