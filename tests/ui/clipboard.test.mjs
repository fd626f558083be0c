// "Copy diagnostics": the Clipboard API first, execCommand("copy") when the webview
// refuses it, and an honest false when both fail (the dialog then says to copy by hand).
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyText } from "../../ui/clipboard.js";

function fakePage({ execResult = true } = {}) {
  const log = [];
  const container = { children: [], appendChild: (el) => { container.children.push(el); el.parent = container; } };
  const focused = { focus: () => log.push("refocused") };
  const doc = {
    activeElement: focused,
    body: container,
    createElement: (tag) => {
      const attrs = {};
      const el = {
        tag,
        value: "",
        className: "",
        setAttribute: (name, value) => (attrs[name] = value),
        attrs,
        select: () => log.push(`selected ${el.value}`),
        remove: () => {
          container.children = container.children.filter((c) => c !== el);
          log.push("removed");
        },
      };
      return el;
    },
    execCommand: (command) => {
      log.push(`exec ${command}`);
      if (execResult instanceof Error) throw execResult;
      return execResult;
    },
  };
  return { doc, log, container };
}

test("the Clipboard API is used when the webview offers it", async () => {
  const { doc, log } = fakePage();
  const written = [];
  const nav = { clipboard: { writeText: async (text) => written.push(text) } };
  assert.equal(await copyText("report", { doc, nav }), true);
  assert.deepEqual(written, ["report"]);
  assert.deepEqual(log, [], "no fallback");
});

test("a refused Clipboard API falls back to a selected, read-only textarea in the dialog", async () => {
  const { doc, log, container } = fakePage();
  const nav = { clipboard: { writeText: async () => { throw new Error("NotAllowedError"); } } };
  assert.equal(await copyText("report", { doc, nav, container }), true);
  assert.deepEqual(log, ["selected report", "exec copy", "removed", "refocused"]);
  assert.equal(container.children.length, 0, "the buffer is gone again");
});

test("without any clipboard the copy reports failure instead of pretending", async () => {
  for (const execResult of [false, new Error("SecurityError")]) {
    const { doc, container } = fakePage({ execResult });
    assert.equal(await copyText("report", { doc, nav: {}, container }), false);
    assert.equal(container.children.length, 0);
  }
});
