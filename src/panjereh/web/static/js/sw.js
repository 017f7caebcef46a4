/* Panjereh's service worker: the shell (styles, scripts, fonts, the offline page) from a cache, and the
   signed-in citizen's own document pages (with their QR codes, which are inline images) kept from the last
   visit so they can be read offline. Served at /sw.js so that its scope is the whole site.

   Only the citizen who saw them keeps them: every page tells the worker whose it is (a keyed hash, never
   the national code; empty when signed out), and the documents are dropped when that changes. Logging out
   also sends Clear-Site-Data, which drops every cache and this worker with it. */
"use strict";

const VERSION = "1";
const SHELL = "pj-shell-" + VERSION;
const DOCUMENTS = "pj-documents";
const OWNER_KEY = "/__pj-owner";
const SHELL_URLS = [
  "/offline",
  "/static/css/panjereh.css",
  "/static/favicon.svg",
  "/static/js/pwa.js",
  "/vendor/vazirmatn/Vazirmatn-font-face.css",
  "/vendor/bootstrap/css/bootstrap.rtl.min.css",
  "/vendor/bootstrap/css/bootstrap.min.css",
  "/vendor/bootstrap/js/bootstrap.bundle.min.js",
  "/vendor/htmx/htmx.min.js",
];
// A citizen's document list and one document's page (not the PDF, not anyone else's: the server answers
// those pages to their owner alone).
const DOCUMENT_PAGE = /^\/documents(\/[0-9A-Za-z-]+)?$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_URLS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith("pj-shell-") && key !== SHELL).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

async function owner() {
  const cache = await caches.open(SHELL);
  const stored = await cache.match(OWNER_KEY);
  return stored ? stored.text() : "";
}

async function setOwner(user) {
  if (user === (await owner())) return;
  await caches.delete(DOCUMENTS); // another person (or nobody) now: the last one's documents go
  const cache = await caches.open(SHELL);
  await cache.put(OWNER_KEY, new Response(user));
}

// A page names its owner, and a document page asks to be kept: the page that registered this worker was
// loaded before the worker could see it.
async function keep(path) {
  if (!DOCUMENT_PAGE.test(path) || !(await owner())) return;
  await documentPage(new Request(path, { credentials: "same-origin" }));
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "owner" && typeof data.user === "string") {
    event.waitUntil(setOwner(data.user).then(() => (data.user && data.keep ? keep(data.keep) : undefined)));
  }
});

async function documentPage(request) {
  try {
    const response = await fetch(request);
    // A redirect (to the login page) or an error is never kept: only the owner's own page.
    if (response.ok && !response.redirected && (await owner())) {
      const cache = await caches.open(DOCUMENTS);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request, { cacheName: DOCUMENTS });
    return kept || (await caches.match("/offline", { cacheName: SHELL }));
  }
}

async function shellFile(request) {
  const kept = await caches.match(request, { cacheName: SHELL });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL);
    await cache.put(request, response.clone()); // fonts and icons the pages ask for
  }
  return response;
}

async function page(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return (await caches.match("/offline", { cacheName: SHELL })) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (DOCUMENT_PAGE.test(url.pathname) && !url.search) {
    event.respondWith(documentPage(request));
  } else if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/vendor/")) {
    event.respondWith(shellFile(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request));
  }
});
