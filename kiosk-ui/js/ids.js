// User IDs as CONTRACTS.md fixes them: 10 Crockford base32 symbols, the last a Luhn mod 32
// check, shown ABCDE-FGHJK; forgiving input (case, spaces, hyphens, I/L -> 1, O -> 0).
// A mistyped gateway ID is caught here, at the kiosk, before any lookup.

export const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN = 10;

function value(c) {
  let u = c.toUpperCase();
  if (u === "I" || u === "L") u = "1";
  if (u === "O") u = "0";
  const v = ALPHABET.indexOf(u);
  return v < 0 ? null : v;
}

export function luhn32(payload) {
  let factor = 2;
  let sum = 0;
  for (let i = payload.length - 1; i >= 0; i--) {
    const addend = factor * payload[i];
    factor = factor === 2 ? 1 : 2;
    sum += Math.floor(addend / 32) + (addend % 32);
  }
  return (32 - (sum % 32)) % 32;
}

/**
 * Check a typed ID. Returns {ok: true, id} with the canonical form to send, or
 * {ok: false, code: "required" | "id_typo" | "invalid_id"}.
 */
export function parseUserId(input) {
  const trimmed = String(input || "").trim();
  if (!trimmed) return { ok: false, code: "required" };
  const compact = trimmed.replace(/[\s-]/g, "");
  if (compact.length === LEN) {
    const values = [...compact].map(value);
    if (values.every((v) => v !== null)) {
      const canonical = values.map((v) => ALPHABET[v]).join("");
      if (luhn32(values.slice(0, LEN - 1)) === values[LEN - 1]) return { ok: true, id: canonical };
      if (/^[A-Za-z0-9]+$/.test(compact)) return { ok: false, code: "id_typo" };
    }
  }
  // An ID from the central system: kept verbatim.
  if (/^[A-Za-z0-9._-]{1,64}$/.test(trimmed)) return { ok: true, id: trimmed };
  return { ok: false, code: "invalid_id" };
}

/** Show a gateway ID grouped (ABCDE-FGHJK); anything else as it is. */
export function formatUserId(id) {
  const s = String(id || "");
  if (s.length === LEN && [...s].every((c) => ALPHABET.includes(c))) return `${s.slice(0, 5)}-${s.slice(5)}`;
  return s;
}

/** What the ID field shows while someone types: upper case, grouped after five symbols. */
export function typingForm(text) {
  const compact = String(text || "").toUpperCase().replace(/[\s-]/g, "");
  if (compact.length > 5 && compact.length <= LEN && /^[0-9A-Z]+$/.test(compact)) {
    return `${compact.slice(0, 5)}-${compact.slice(5)}`;
  }
  return compact;
}
