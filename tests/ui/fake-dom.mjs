// A tiny stand-in for `document`, just enough for the screens (createElement, createTextNode,
// setAttribute, appendChild). It has no HTML parser: `innerHTML` and friends throw, so a screen
// that tried to parse data as HTML fails its test instead of passing by accident.

class FakeText {
  constructor(data) {
    this.nodeType = 3;
    this.data = String(data);
  }
  get textContent() {
    return this.data;
  }
}

class FakeElement {
  constructor(tag) {
    this.nodeType = 1;
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.childNodes = [];
  }
  setAttribute(name, value) {
    if (/^on/i.test(name)) throw new Error(`event-handler attribute ${name} set from a screen`);
    if (name === "style") throw new Error("inline style attribute (blocked by the CSP)");
    this.attributes.set(name, String(value));
  }
  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }
  hasAttribute(name) {
    return this.attributes.has(name);
  }
  get id() {
    return this.getAttribute("id") || "";
  }
  appendChild(child) {
    if (!(child instanceof FakeElement || child instanceof FakeText)) throw new Error(`not a node: ${child}`);
    this.childNodes.push(child);
    return child;
  }
  get children() {
    return this.childNodes.filter((n) => n.nodeType === 1);
  }
  get textContent() {
    return this.childNodes.map((n) => n.textContent).join("");
  }
  set textContent(value) {
    this.childNodes = [new FakeText(value)];
  }
  set innerHTML(_) {
    throw new Error("innerHTML used");
  }
  set outerHTML(_) {
    throw new Error("outerHTML used");
  }
  insertAdjacentHTML() {
    throw new Error("insertAdjacentHTML used");
  }
}

export const fakeDocument = {
  createElement: (tag) => new FakeElement(tag),
  createTextNode: (data) => new FakeText(data),
};

/** Every element under (and including) `root`, depth first. */
export function allElements(root) {
  const out = [];
  const walk = (node) => {
    if (node.nodeType !== 1) return;
    out.push(node);
    node.childNodes.forEach(walk);
  };
  walk(root);
  return out;
}

export const byId = (root, id) => allElements(root).find((el) => el.id === id) || null;
export const byTag = (root, tag) => allElements(root).filter((el) => el.tagName === tag.toUpperCase());
/** Visible-ish text with whitespace collapsed. */
export const text = (node) => (node ? node.textContent.replace(/\s+/g, " ").trim() : null);
