import { createGatehouse } from './gatehouse.js';

const endpoint = document.querySelector('meta[name="gatehouse-endpoint"]').content;
const gatehouse = createGatehouse(endpoint);
const form = document.getElementById('sign-in');
const status = document.getElementById('status');

async function showViewer() {
  const body = await gatehouse.request('{ viewer { email } }');
  const code = body.errors?.[0]?.extensions?.code;
  if (body.data?.viewer) status.textContent = `Signed in as ${body.data.viewer.email}`;
  else status.textContent = code ? `Signed out (${code}): log in again` : 'Not signed in';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = form.email.value;
  const password = form.password.value;
  // A new address registers first; an existing one just signs in.
  await gatehouse.register(email, password);
  const body = await gatehouse.login(email, password);
  if (body.errors) status.textContent = `Sign-in failed (${body.errors[0].extensions?.code})`;
  else await showViewer();
});
document.getElementById('who-am-i').addEventListener('click', showViewer);
document.getElementById('log-out').addEventListener('click', async () => {
  await gatehouse.logout();
  await showViewer();
});

await gatehouse.restore();
await showViewer();
