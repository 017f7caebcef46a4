// The decision-model editor of the authoring pages: GoRules' JDM editor (from the npm registry),
// mounted on <div data-jdm-editor data-field="ID">, reading and writing the model JSON through the
// form field ID, so the page keeps working (as a plain JSON textarea) where scripts do not run.
import * as monaco from "monaco-editor/esm/vs/editor/editor.api";
import "monaco-editor/esm/vs/language/typescript/monaco.contribution";
import { loader } from "@monaco-editor/react";
import React, { useState } from "react";
import { createRoot } from "react-dom/client";
import { DecisionGraph, JdmConfigProvider } from "@gorules/jdm-editor";
import { ConfigProvider } from "antd";
import "@gorules/jdm-editor/dist/style.css";

// Monaco (the function node's code editor) is served from our own origin, never from a CDN, and its
// workers are separate files beside this bundle (the CSP allows scripts and workers from 'self' only).
const here = new URL(".", import.meta.url);
self.MonacoEnvironment = {
  getWorkerUrl(_id, label) {
    const name = label === "typescript" || label === "javascript" ? "ts.worker.js" : "editor.worker.js";
    return new URL(name, here).href;
  },
};
loader.config({ monaco });

// The page's CSP admits inline <style> elements only with this response's nonce (never 'unsafe-inline').
// The editor's libraries write styles from script (antd's CSS-in-JS, React-rendered theme variables, the
// code editor): every <style> this bundle creates carries the nonce. That gives script-made styles nothing
// a script from our origin could not do anyway, and markup injected into the page still gets no style.
function nonceStyles(nonce) {
  if (!nonce || document.createElement.nonced) return;
  const create = document.createElement.bind(document);
  const patched = (tag, options) => {
    const element = create(tag, options);
    if (String(tag).toLowerCase() === "style") element.nonce = nonce;
    return element;
  };
  patched.nonced = true;
  document.createElement = patched;
}

function Editor({ field, model, disabled, nonce }) {
  const [graph, setGraph] = useState({ nodes: model.nodes || [], edges: model.edges || [] });
  const onChange = (value) => {
    setGraph(value);
    // The editor knows the graph only: the model's other keys (its contentType) stay as they were.
    field.value = JSON.stringify({ ...model, nodes: value.nodes, edges: value.edges }, null, 2);
    // The test cases re-run on the server as the designer edits (htmx listens for this event).
    field.dispatchEvent(new Event("change", { bubbles: true }));
  };
  // The page's CSP allows inline <style> elements only with this response's nonce: antd's CSS-in-JS
  // puts it on the styles it writes.
  return (
    <ConfigProvider csp={{ nonce }}>
      <JdmConfigProvider>
        <DecisionGraph value={graph} onChange={onChange} disabled={disabled} />
      </JdmConfigProvider>
    </ConfigProvider>
  );
}

function mount(node) {
  const field = document.getElementById(node.dataset.field);
  if (!field || node.dataset.mounted) return;
  let model;
  try {
    model = JSON.parse(field.value || "{}");
  } catch {
    return; // a malformed model stays in the textarea, where the server's validation explains it
  }
  node.dataset.mounted = "1";
  nonceStyles(node.dataset.styleNonce);
  node.hidden = false;
  field.closest("[data-jdm-fallback]")?.setAttribute("hidden", "");
  createRoot(node).render(
    <Editor field={field} model={model}
            disabled={node.dataset.disabled === "true"} nonce={node.dataset.styleNonce || undefined} />,
  );
}

function mountAll() {
  document.querySelectorAll("[data-jdm-editor]").forEach(mount);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
else mountAll();
document.addEventListener("htmx:afterSettle", mountAll);
