// The decision-model editor of the authoring pages: GoRules' JDM editor (from the npm registry),
// mounted on <div data-jdm-editor data-field="ID">, reading and writing the model JSON through the
// form field ID, so the page keeps working (as a plain JSON textarea) where scripts do not run.
import * as monaco from "monaco-editor/esm/vs/editor/editor.api";
import "monaco-editor/esm/vs/language/typescript/monaco.contribution";
import { loader } from "@monaco-editor/react";
import React, { useState } from "react";
import { createRoot } from "react-dom/client";
import { DecisionGraph, JdmConfigProvider } from "@gorules/jdm-editor";
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

function Editor({ field, initial, disabled }) {
  const [graph, setGraph] = useState(initial);
  const onChange = (value) => {
    setGraph(value);
    field.value = JSON.stringify(value, null, 2);
    // The test cases re-run on the server as the designer edits (htmx listens for this event).
    field.dispatchEvent(new Event("change", { bubbles: true }));
  };
  return (
    <JdmConfigProvider>
      <DecisionGraph value={graph} onChange={onChange} disabled={disabled} />
    </JdmConfigProvider>
  );
}

function mount(node) {
  const field = document.getElementById(node.dataset.field);
  if (!field || node.dataset.mounted) return;
  let initial;
  try {
    initial = JSON.parse(field.value || "{}");
  } catch {
    return; // a malformed model stays in the textarea, where the server's validation explains it
  }
  node.dataset.mounted = "1";
  node.hidden = false;
  field.closest("[data-jdm-fallback]")?.setAttribute("hidden", "");
  createRoot(node).render(
    <Editor field={field} initial={{ nodes: initial.nodes || [], edges: initial.edges || [] }}
            disabled={node.dataset.disabled === "true"} />,
  );
}

function mountAll() {
  document.querySelectorAll("[data-jdm-editor]").forEach(mount);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
else mountAll();
document.addEventListener("htmx:afterSettle", mountAll);
