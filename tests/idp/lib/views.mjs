// Plain HTML pages: the login form, the logout confirmation and the error page. No scripts, so a
// strict Content-Security-Policy applies. Every interpolated value goes through `esc`.
// Stable element ids (`login`, `password`, `login-submit`, `login-error`, `logout-confirm`) are
// part of the test interface: the end-to-end tests type into these pages in a real WebKit window.

export const esc = (value) => String(value ?? '')
  .replace(/&/g, '&amp;')
  .replace(/</g, '&lt;')
  .replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;')
  .replace(/'/g, '&#39;');

const STYLE = `
body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0;padding:40px 16px;color:#111}
main{max-width:360px;margin:0 auto;background:#fff;border-radius:8px;padding:24px 28px;
box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.4em;margin:0 0 8px}p{margin:0 0 16px}
label{display:block;font-weight:600;margin:12px 0 4px}
input{width:100%;box-sizing:border-box;padding:8px;font-size:1em;border:1px solid #bbb;border-radius:4px}
button{margin-top:18px;width:100%;padding:10px;font-size:1em;border:0;border-radius:4px;
background:#2563eb;color:#fff;cursor:pointer}
.error{color:#b91c1c;background:#fee2e2;padding:8px;border-radius:4px}
.muted{color:#555;font-size:.9em}a{color:#2563eb}#login-cancel{display:inline-block;margin-top:14px}`;

// Applied to every page we render (see server.mjs): nothing but inline styles and same-origin
// form posts.
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export function loginPage({ action, abortUrl, clientName, login = '', error }) {
  return page('Sign in', `<h1>Sign in</h1>
<p class="muted">to continue to <strong id="client-name">${esc(clientName)}</strong></p>
${error ? `<p id="login-error" class="error" role="alert">${esc(error)}</p>` : ''}
<form id="login-form" method="post" action="${esc(action)}" autocomplete="off">
<label for="login">Username</label>
<input id="login" name="login" type="text" value="${esc(login)}" required autofocus autocapitalize="off" spellcheck="false">
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button id="login-submit" type="submit">Sign in</button>
</form>
<p class="muted"><a id="login-cancel" href="${esc(abortUrl)}">Cancel</a></p>`);
}

// RP-Initiated Logout 1.0 §2: the OP asks the End-User whether to log out. A single button, so a
// form submission always means "yes" (`logout=yes` ends the whole session, not just one client).
export function logoutPage({ action, xsrf, clientName }) {
  return page('Sign out', `<h1>Sign out?</h1>
<p>${clientName ? `<strong>${esc(clientName)}</strong> asks to sign you out.` : 'Do you want to sign out?'}</p>
<form id="logout-form" method="post" action="${esc(action)}">
<input type="hidden" name="xsrf" value="${esc(xsrf)}">
<button id="logout-confirm" type="submit" name="logout" value="yes" autofocus>Yes, sign me out</button>
</form>`);
}

export function loggedOutPage() {
  return page('Signed out', '<h1 id="signed-out">Signed out</h1><p>You have been signed out.</p>');
}

export function errorPage(out) {
  const rows = Object.entries(out ?? {})
    .map(([k, v]) => `<p><strong>${esc(k)}</strong>: <span id="${esc(k)}">${esc(v)}</span></p>`)
    .join('\n');
  return page('Error', `<h1>Something went wrong</h1>\n${rows}`);
}
