// Parse Mermaid diagrams with the real Mermaid parser, for the tests.
//
// Usage: node parse.mjs FILE...   (or the text on stdin when no FILE is given)
// Prints one JSON line a diagram: {"file", "ok", "type"} or {"file", "ok": false, "error"}.
// Exit status: 0 when every diagram parses, 1 otherwise, 2 on a usage error.
//
// mermaid.parse needs a DOM (DOMPurify sanitizes labels while parsing), so jsdom provides one.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
globalThis.HTMLElement = dom.window.HTMLElement;

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

const files = process.argv.slice(2);
const inputs = files.length
  ? files.map((file) => [file, readFileSync(file, "utf8")])
  : [["-", readFileSync(0, "utf8")]];

let failed = false;
for (const [file, text] of inputs) {
  try {
    const result = await mermaid.parse(text);
    console.log(JSON.stringify({ file, ok: true, type: result.diagramType }));
  } catch (error) {
    failed = true;
    const message = String(error?.message ?? error);
    console.log(JSON.stringify({ file, ok: false, error: message }));
  }
}
process.exit(failed ? 1 : 0);
