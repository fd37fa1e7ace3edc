// The API client. The access token lives in this module's memory only; the
// refresh token is an HttpOnly cookie the server sets when a request carries
// the X-Wagate-Console header (see adapters/httpgin/console_auth.go).

const base = "/api/v1";
const consoleHeader = { "X-Wagate-Console": "1" };

let access = "";
let refreshTimer = 0;
let refreshing = null;
const authListeners = new Set();

// ApiError is a problem+json answer (or a network failure, status 0).
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || "request failed");
    this.status = status;
    this.code = problem.code || "";
    this.fields = problem.errors || [];
    this.requestId = problem.requestId || "";
  }
}

export function onAuthChange(fn) { authListeners.add(fn); }
export function token() { return access; }
export function signedIn() { return access !== ""; }

function setTokens(t) {
  access = t ? t.accessToken : "";
  clearTimeout(refreshTimer);
  if (t && t.expiresIn) {
    // Refresh a minute before expiry (at least after 10 s).
    refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, Math.max(10, t.expiresIn - 60) * 1000);
  }
  for (const fn of authListeners) fn(access);
}

async function raw(method, path, body, opts = {}) {
  const headers = { ...consoleHeader, ...(opts.headers || {}) };
  if (access && !opts.noAuth) headers.Authorization = "Bearer " + access;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  let res;
  try {
    res = await fetch(base + path, { method, headers, body: payload, credentials: "same-origin", cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, { detail: "network error: the server cannot be reached" });
  }
  return res;
}

async function parse(res, want) {
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  if (!res.ok) {
    const p = type.includes("json") ? await res.json().catch(() => ({})) : { detail: res.statusText };
    throw new ApiError(res.status, p);
  }
  if (want === "blob") return res.blob();
  return type.includes("json") ? res.json() : res.text();
}

// api calls the API; a 401 refreshes the access token once and retries.
export async function api(method, path, body, opts = {}) {
  let res = await raw(method, path, body, opts);
  if (res.status === 401 && access && !opts.noRetry) {
    try { await refresh(); } catch { return parse(res); }
    res = await raw(method, path, body, opts);
  }
  return parse(res, opts.want);
}

export const get = (p, o) => api("GET", p, undefined, o);
export const post = (p, b, o) => api("POST", p, b, o);
export const patch = (p, b, o) => api("PATCH", p, b, o);
export const del = (p, o) => api("DELETE", p, undefined, o);

// refresh exchanges the cookie for a new access token; concurrent callers
// share one exchange (refresh tokens rotate, a second use would revoke).
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const res = await raw("POST", "/auth/refresh", undefined, { noAuth: true });
      try {
        const out = await parse(res);
        setTokens(out.tokens);
        return out.tokens;
      } catch (e) {
        setTokens(null);
        throw e;
      }
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

export async function login(email, password) {
  const out = await parse(await raw("POST", "/auth/login", { email, password }, { noAuth: true }));
  setTokens(out.tokens);
  return out;
}

export async function register(name, email, password) {
  const out = await parse(await raw("POST", "/auth/register", { name, email, password }, { noAuth: true }));
  setTokens(out.tokens);
  return out;
}

// acceptInvitation joins the inviting subscription and signs in, with the
// same cookie session as login.
export async function acceptInvitation(token, password, name) {
  const out = await parse(await raw("POST", "/auth/accept-invitation", { token, password, name }, { noAuth: true }));
  setTokens(out.tokens);
  return out;
}

export async function logout() {
  try { await raw("POST", "/auth/logout"); } finally { setTokens(null); }
}

// Events is the live event stream: one WebSocket, reopened with the newest
// token and resumed after the last event seen, so nothing is missed.
export class Events {
  constructor() {
    this.handlers = new Set();
    this.last = "";
    this.ws = null;
    this.closed = true;
    this.retry = 0;
    this.state = "closed";
    onAuthChange((t) => { if (!t) this.stop(); else if (!this.closed) this.reopen(); });
  }
  on(fn) { this.handlers.add(fn); return () => this.handlers.delete(fn); }
  start() { this.closed = false; if (!this.ws) this.open(); }
  stop() { this.closed = true; if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); } this.setState("closed"); }
  reopen() { if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); } this.open(); }
  setState(s) { this.state = s; for (const fn of this.handlers) fn({ type: "stream.state", state: s }); }
  open() {
    if (this.closed || !access) return;
    const u = new URL(base + "/events/ws", location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("access_token", access);
    if (this.last) u.searchParams.set("after", this.last);
    const ws = new WebSocket(u);
    this.ws = ws;
    ws.onopen = () => { this.retry = 0; this.setState("live"); };
    ws.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev.id) this.last = ev.id;
      for (const fn of this.handlers) fn(ev);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      this.setState("reconnecting");
      const wait = Math.min(15000, 500 * 2 ** this.retry++);
      setTimeout(async () => {
        if (this.closed) return;
        // The token may have expired while away.
        if (this.retry > 2) { try { await refresh(); } catch { return; } }
        // A cursor past retention is refused: start afresh.
        if (this.retry > 4) this.last = "";
        if (!this.ws) this.open();
      }, wait);
    };
  }
}
