/** scheme://host:port/path, the port always explicit so 443 and "" compare equal. */
function originAndPath(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return `${url.protocol}//${url.hostname}:${port}${url.pathname}`;
}

/**
 * The allow-list entry a requested redirect names, or null. As for reset links: equal in scheme,
 * host, port, path and query, compared as parsed URLs; no prefix matching, no credentials, no
 * fragment, so nothing can be smuggled into where Gatehouse sends a login code. Unset means the
 * first entry.
 */
export function allowedRedirect(requested: string | null, allowList: readonly string[]): string | null {
  if (requested === null) return allowList[0] ?? null;
  let url: URL;
  try {
    if (requested.length > 2048) return null;
    url = new URL(requested);
  } catch {
    return null;
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.hash) return null;
  const entry = allowList.map((e) => new URL(e)).find((e) => originAndPath(e) === originAndPath(url) && e.search === url.search);
  return entry ? entry.href : null;
}

/** The redirect with the outcome's parameters added (replacing any of the same name). */
export function withParams(redirect: string, params: Record<string, string>): string {
  const url = new URL(redirect);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}
