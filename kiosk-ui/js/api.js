// The public JSON API, as the kiosk uses it. Every answer becomes {ok, status, data} or
// {ok: false, status, code, field}: problem+json `code`s pick the translated message, and a
// gateway that cannot be reached is code "network".

const TIMEOUT_MS = 15000;

export async function api(method, path, body) {
  const init = {
    method,
    headers: { Accept: "application/json, application/problem+json" },
    credentials: "same-origin",
    cache: "no-store",
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  init.signal = abort.signal;
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, code: "network" };
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    const text = await res.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (res.ok) return { ok: true, status: res.status, data };
  return {
    ok: false,
    status: res.status,
    code: (data && typeof data.code === "string" && data.code) || "unknown",
    field: data && typeof data.field === "string" ? data.field : null,
  };
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);
