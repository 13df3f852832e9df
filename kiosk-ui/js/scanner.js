// A badge scanner is a keyboard that types very fast: this tells its bursts (a badge payload, then
// Enter) from a person typing, whichever field has the focus, puts that field back as it was and
// hands the payload to the screen, so a scan never lands in the ID or PIN field by mistake.

const MODIFIERS = new Set(["Shift", "CapsLock", "Control", "Alt", "AltGraph", "Meta"]);
/** A scanner's keys come closer together than any hand's. */
const MAX_GAP_MS = 60;
/** CONTRACTS.md "Badge QR": SG1 and the rest; half or extra characters are the gateway's to refuse. */
const PAYLOAD = /^SG1[0-9A-Za-z]{6,61}$/;

/**
 * Watch the whole page for scanner bursts until the returned function is called.
 * `onScan(payload)` gets the payload; `skip(el)` says which field handles its own scans.
 */
export function watchScanner(onScan, { skip = () => false } = {}) {
  let burst = "";
  let last = 0;
  let target = null;
  let before = "";

  function keydown(e) {
    const now = performance.now();
    if (e.key === "Enter") {
      const text = burst;
      const el = target;
      const prior = before;
      burst = "";
      if (!PAYLOAD.test(text) || !el || skip(el) || now - last > MAX_GAP_MS) return;
      e.preventDefault();
      e.stopPropagation();
      if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") {
        el.value = prior;
        el.dispatchEvent(new Event("input", { bubbles: true }));
      }
      onScan(text);
      return;
    }
    // A scanner holds Shift for each capital letter: modifiers are part of the burst, not a break.
    if (MODIFIERS.has(e.key)) return;
    if (e.key.length !== 1) {
      burst = "";
      return;
    }
    if (!burst || now - last > MAX_GAP_MS || e.target !== target) {
      burst = "";
      target = e.target;
      before = "value" in e.target ? e.target.value : "";
    }
    burst += e.key;
    last = now;
  }

  document.addEventListener("keydown", keydown, true);
  return () => document.removeEventListener("keydown", keydown, true);
}
