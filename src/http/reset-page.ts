import type { FixedRoute } from './router.ts';

// A minimal page behind the default reset link (PUBLIC_URL/reset-password), so the quick start
// works end to end without an app of one's own. It only calls the public resetPassword mutation.

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Choose a new password</title>
<link rel="stylesheet" href="/reset-password/page.css">
</head>
<body>
<main>
<h1>Choose a new password</h1>
<form id="reset">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required>
<label for="confirm">Repeat it</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">Set password</button>
</form>
<p id="status" role="status"></p>
</main>
<script src="/reset-password/page.js"></script>
</body>
</html>`;

const SCRIPT = `(() => {
  const token = new URLSearchParams(location.search).get('token');
  // Keep the token out of history, bookmarks and screenshots once it is read.
  history.replaceState(null, '', location.pathname);
  const form = document.getElementById('reset');
  const status = document.getElementById('status');
  if (!token) { form.hidden = true; status.textContent = 'This link has no reset token. Ask for a new one.'; return; }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = form.password.value;
    if (password !== form.confirm.value) { status.textContent = 'The two passwords differ.'; return; }
    status.textContent = 'Saving…';
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation($t: String!, $p: String!) { resetPassword(token: $t, password: $p) }', variables: { t: token, p: password } }),
    });
    const body = await response.json().catch(() => ({}));
    if (body.data && body.data.resetPassword) { form.hidden = true; status.textContent = 'Your password is changed. You can sign in with it now.'; return; }
    const error = body.errors && body.errors[0];
    status.textContent = error ? error.message : 'Something went wrong. Try again.';
  });
})();`;

export const PAGE_STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f5f5f4}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:min(22rem,90vw)}
label,input,button{display:block;width:100%;box-sizing:border-box}input{margin:.25rem 0 1rem;padding:.5rem}
button{padding:.6rem;background:#1c1917;color:#fff;border:0;border-radius:4px;cursor:pointer}`;

export const PAGE_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

const ASSETS: Record<string, { type: string; body: string }> = {
  '/reset-password': { type: 'text/html; charset=utf-8', body: PAGE },
  '/reset-password/page.js': { type: 'text/javascript; charset=utf-8', body: SCRIPT },
  '/reset-password/page.css': { type: 'text/css; charset=utf-8', body: PAGE_STYLE },
};

export function resetPageRoutes(): [string, FixedRoute][] {
  return Object.entries(ASSETS).map(([path, asset]) => [
    path,
    () => new Response(asset.body, { status: 200, headers: { 'content-type': asset.type, ...PAGE_SECURITY_HEADERS } }),
  ]);
}
