// The renewal API (README "The contract in short"; GET /openapi.json). Errors are
// {"error": {"code", "message"}}; the JWT authorizer's 401 is {"message": "Unauthorized"}.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter ? Number(retryAfter) : null;
  }
}

export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// `onUnauthorized` runs when the API refuses the token (expired session): the page signs out.
export function apiClient(config, session, onUnauthorized = () => {}) {
  return async function request(method, path, { body, headers = {}, accept } = {}) {
    const sent = { ...headers };
    const token = session ? await session.idToken() : null;
    if (token) sent.Authorization = `Bearer ${token}`;
    if (body !== undefined) sent['Content-Type'] = 'application/json';
    if (accept) sent.Accept = accept;
    let response;
    try {
      response = await fetch(config.ApiUrl + path, {
        method,
        headers: sent,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, 'network_error', String(error));
    }
    const text = await response.text();
    if (response.ok && accept && accept.startsWith('text/html')) return text;
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const detail = data?.error;
      const code = detail?.code || (response.status === 401 ? 'unauthorized' : `http_${response.status}`);
      const error = new ApiError(response.status, code, detail?.message || data?.message || text,
        response.headers.get('Retry-After'));
      // Only a token that was refused ends the session: a request sent after signing out (a
      // page still loading) has none, and must not pull the person back to the log-in form.
      if (response.status === 401 && token) onUnauthorized(error);
      throw error;
    }
    return data;
  };
}
