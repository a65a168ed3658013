import { PAGE_SECURITY_HEADERS, PAGE_STYLE } from './reset-page.ts';
import type { FixedRoute } from './router.ts';

// Minimal pages behind the default links of the account lifecycle, like the reset page: each reads
// the token from its link, takes it out of the address bar, and calls one public mutation. The
// token is sent only when the user clicks (not on load), so a mail scanner that opens links spends
// nothing. Each page's script and style are files of its own: the CSP allows no inline code.

interface LifecyclePage {
  path: string;
  title: string;
  /** The mutation, taking $t (and $p with a password). */
  mutation: string;
  field: string;
  withPassword: boolean;
  button: string;
  done: string;
}

const PAGES: LifecyclePage[] = [
  {
    path: '/verify-email',
    title: 'Confirm your email address',
    mutation: 'mutation($t: String!) { verifyEmail(token: $t) }',
    field: 'verifyEmail',
    withPassword: false,
    button: 'Confirm',
    done: 'Your address is confirmed. You can sign in now.',
  },
  {
    path: '/confirm-email',
    title: 'Confirm your new email address',
    mutation: 'mutation($t: String!) { confirmEmailChange(token: $t) }',
    field: 'confirmEmailChange',
    withPassword: false,
    button: 'Confirm',
    done: 'Your account now uses this address. Sign in with it from now on.',
  },
  {
    path: '/accept-invite',
    title: 'Accept your invitation',
    mutation: 'mutation($t: String!, $p: String!) { acceptInvite(token: $t, password: $p) }',
    field: 'acceptInvite',
    withPassword: true,
    button: 'Set password',
    done: 'Your account is ready. You can sign in with your new password.',
  },
];

const PASSWORD_FIELDS = `<label for="password">Choose a password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required>
<label for="confirm">Repeat it</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>`;

function html(page: LifecyclePage): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<link rel="stylesheet" href="${page.path}/page.css">
</head>
<body>
<main>
<h1>${page.title}</h1>
<form id="action">
${page.withPassword ? PASSWORD_FIELDS : ''}
<button type="submit">${page.button}</button>
</form>
<p id="status" role="status"></p>
</main>
<script src="${page.path}/page.js"></script>
</body>
</html>`;
}

function script(page: LifecyclePage): string {
  return `(() => {
  const token = new URLSearchParams(location.search).get('token');
  history.replaceState(null, '', location.pathname);
  const form = document.getElementById('action');
  const status = document.getElementById('status');
  if (!token) { form.hidden = true; status.textContent = 'This link has no token. Ask for a new one.'; return; }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const variables = { t: token };
    ${page.withPassword ? "if (form.password.value !== form.confirm.value) { status.textContent = 'The two passwords differ.'; return; } variables.p = form.password.value;" : ''}
    status.textContent = 'Saving…';
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: ${JSON.stringify(page.mutation)}, variables }),
    });
    const body = await response.json().catch(() => ({}));
    if (body.data && body.data.${page.field}) { form.hidden = true; status.textContent = ${JSON.stringify(page.done)}; return; }
    const error = body.errors && body.errors[0];
    status.textContent = error ? error.message : 'Something went wrong. Try again.';
  });
})();`;
}

export function lifecyclePageRoutes(): [string, FixedRoute][] {
  const asset =
    (type: string, body: string): FixedRoute =>
    () =>
      new Response(body, { status: 200, headers: { 'content-type': type, ...PAGE_SECURITY_HEADERS } });
  return PAGES.flatMap((page): [string, FixedRoute][] => [
    [page.path, asset('text/html; charset=utf-8', html(page))],
    [`${page.path}/page.js`, asset('text/javascript; charset=utf-8', script(page))],
    [`${page.path}/page.css`, asset('text/css; charset=utf-8', PAGE_STYLE)],
  ]);
}
