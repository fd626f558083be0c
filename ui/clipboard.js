// Puts text on the system clipboard from a click handler. The asynchronous Clipboard API
// (navigator.clipboard.writeText) first; where the webview refuses it, the older
// execCommand("copy") on a selected, read-only textarea inside `container` (a modal dialog
// makes everything outside it inert, and a selection there cannot be copied).

/** Resolves true when the text was copied. */
export async function copyText(text, { doc = document, nav = globalThis.navigator, container } = {}) {
  try {
    if (nav && nav.clipboard && typeof nav.clipboard.writeText === "function") {
      await nav.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, not a secure context): try the fallback.
  }
  const area = doc.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.setAttribute("aria-hidden", "true");
  area.setAttribute("tabindex", "-1");
  area.className = "clipboard-buffer";
  const parent = container || doc.body;
  const focused = doc.activeElement;
  parent.appendChild(area);
  try {
    area.select();
    return doc.execCommand("copy") === true;
  } catch {
    return false;
  } finally {
    area.remove();
    if (focused && typeof focused.focus === "function") focused.focus();
  }
}
