// Times as the kiosk shows them: HH:MM in the screen's own clock.

/** `HH:MM` of an RFC 3339 time; empty when there is none. */
export function hhmm(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}
