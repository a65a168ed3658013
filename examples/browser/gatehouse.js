// A browser client for Gatehouse in COOKIE mode: the access token lives in memory (never in
// localStorage), the refresh token in an HttpOnly cookie that script cannot read. The page must be
// on the same site as Gatehouse (see README, "Clients"), or the browser drops that cookie.

const AUTH_CODES = new Set(['TOKEN_EXPIRED', 'INVALID_TOKEN']);
const codeOf = (body) => body.errors?.[0]?.extensions?.code;

export function createGatehouse(endpoint) {
  let accessToken = null;
  let refreshing = null;

  async function post(query, variables = {}, { bearer = true } = {}) {
    const headers = { 'content-type': 'application/json' };
    if (bearer && accessToken) headers.authorization = `Bearer ${accessToken}`;
    // credentials: 'include' sends and accepts the cookie on a cross-origin (same-site) endpoint.
    const response = await fetch(endpoint, { method: 'POST', credentials: 'include', headers, body: JSON.stringify({ query, variables }) });
    return response.json();
  }

  /** The refresh cookie buys a new access token (and a new cookie); false: log in again. */
  function refresh() {
    // One at a time: each refresh cookie works once.
    refreshing ??= post('mutation { refresh(mode: COOKIE) { accessToken expiresIn } }', {}, { bearer: false })
      .then((body) => {
        accessToken = body.data?.refresh.accessToken ?? null;
        return accessToken !== null;
      })
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  return {
    register: (email, password) =>
      post('mutation($email: String!, $password: String!) { createUser(input: { email: $email, password: $password }) { id } }', {
        email,
        password,
      }),

    async login(email, password) {
      accessToken = null;
      const body = await post(
        'mutation($email: String!, $password: String!) { login(email: $email, password: $password, mode: COOKIE) { accessToken expiresIn } }',
        { email, password },
        { bearer: false },
      );
      accessToken = body.data?.login.accessToken ?? null;
      return body;
    },

    /** On page load: a refresh cookie from an earlier visit signs the user back in. */
    restore: refresh,

    /** Any operation; on TOKEN_EXPIRED (or INVALID_TOKEN) one refresh, then one retry. */
    async request(query, variables) {
      let body = await post(query, variables);
      if (accessToken && AUTH_CODES.has(codeOf(body)) && (await refresh())) body = await post(query, variables);
      return body;
    },

    /** Ends the session of the cookie; the response clears it. */
    async logout() {
      accessToken = null;
      return post('mutation { logout(mode: COOKIE) }', {}, { bearer: false });
    },
  };
}
