/* Panjereh's service worker: the shell (styles, scripts, fonts, the offline page) from a cache, and the
   signed-in citizen's own document pages (with their QR codes, which are inline images) so they can be read
   offline: each page he opens, and, whenever his wallet (/documents) is shown, every document it lists (the
   newest 50, from /offline/documents.json), fetched again only when its version changes. Pages of documents
   no longer listed are dropped. Served at /sw.js so that its scope is the whole site.

   Only the citizen who saw them keeps them: every page tells the worker whose it is (a keyed hash, never
   the national code; empty when signed out), and the documents are dropped when that changes. Logging out
   also sends Clear-Site-Data, which drops every cache and this worker with it. */
"use strict";

// The digest of the shell's files, written in as /sw.js is served (web/pwa.py, shell_version): any change
// to them is a new shell, so its old cache is dropped (the shell is served from the cache first).
const VERSION = "%SHELL_VERSION%";
const SHELL = "pj-shell-" + VERSION;
const DOCUMENTS = "pj-documents";
const OWNER_KEY = "/__pj-owner";
const WALLET = "/documents";
const WALLET_LIST = "/offline/documents.json";
const SAVED_VERSION = "X-Pj-Offline-Version"; // stamped on a page the wallet's list had kept, with its version
const FETCHING_AT_ONCE = 3; // the wallet's pages are fetched a few at a time, not all at once
// Written so in the page (templates/_macros.html, offline_copy): a kept page served with no connection
// shows its note, which says it is an offline copy and when it was saved.
const OFFLINE_NOTE = 'id="offline-copy" hidden';
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

// Whether the owner changed (then the page just served was dropped with the last one's documents).
async function setOwner(user) {
  if (user === (await owner())) return false;
  await caches.delete(DOCUMENTS); // another person (or nobody) now: the last one's documents go
  const cache = await caches.open(SHELL);
  await cache.put(OWNER_KEY, new Response(user));
  return true;
}

// A page names its owner and itself. One the worker did not serve (it was loaded before the worker could
// see it) is fetched again to be kept, and the wallet's page has the worker keep every listed document.
async function shown(path, kept) {
  if (!DOCUMENT_PAGE.test(path) || !(await owner())) return;
  if (!kept) await documentPage(new Request(path, { credentials: "same-origin" }));
  if (path === WALLET) await keepWallet();
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "owner" && typeof data.user === "string") {
    event.waitUntil(
      setOwner(data.user).then((changed) => (data.user ? shown(String(data.page), Boolean(data.kept) && !changed) : undefined)),
    );
  }
});

// Passes over the wallet run one after another, each reading the list (and whose it is) as it starts; the
// showings of the wallet while one runs share a single pass queued after it.
let running = Promise.resolve();
let queued = null;
function keepWallet() {
  if (!queued) {
    queued = running.then(() => {
      queued = null;
      return keepListed();
    });
    running = queued.catch(() => undefined);
  }
  return queued;
}

async function keepListed() {
  const user = await owner();
  let listed;
  try {
    const response = await fetch(WALLET_LIST, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok || response.redirected) return;
    listed = await response.json();
  } catch (error) {
    return; // no connection: what is kept stays
  }
  if (!user || listed.owner !== user) return; // someone else signed in since: not his list to keep
  const versions = new Map(listed.pages.map((page) => [page.url, page.version]));
  const cache = await caches.open(DOCUMENTS);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path !== WALLET && !versions.has(path)) await cache.delete(request); // replaced, or past the newest
  }
  const due = [];
  for (const [url, version] of versions) {
    const kept = await cache.match(url);
    if (!kept || kept.headers.get(SAVED_VERSION) !== version) due.push([url, version]);
  }
  const fetching = [];
  for (let i = 0; i < FETCHING_AT_ONCE; i += 1) {
    fetching.push((async () => {
      while (due.length) {
        const [url, version] = due.shift();
        await keepListedPage(url, version, user);
      }
    })());
  }
  await Promise.all(fetching);
}

async function keepListedPage(url, version, user) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch (error) {
    return; // the connection went: the next showing of the wallet tries again
  }
  if (!response.ok || response.redirected) return;
  const headers = new Headers(response.headers);
  headers.set(SAVED_VERSION, version);
  const stamped = new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
  if ((await owner()) !== user) return; // signed out or someone else since the list was read
  await (await caches.open(DOCUMENTS)).put(url, stamped);
}

// A kept page served with no connection says so (its note, hidden when served online, is shown).
async function offlineCopy(kept) {
  const page = (await kept.text()).replace(OFFLINE_NOTE, 'id="offline-copy"');
  const headers = new Headers(kept.headers);
  headers.delete("content-length"); // the page is shorter by the attribute
  return new Response(page, { status: kept.status, statusText: kept.statusText, headers });
}

async function documentPage(request) {
  try {
    const response = await fetch(request);
    // A redirect (to the login page) or an error is never kept: only the owner's own page. A page that is
    // no longer his (404: a document of a child he no longer acts for) goes.
    if (response.ok && !response.redirected && (await owner())) {
      const cache = await caches.open(DOCUMENTS);
      await cache.put(request, response.clone());
    } else if (response.status === 404) {
      await caches.open(DOCUMENTS).then((cache) => cache.delete(request));
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request, { cacheName: DOCUMENTS });
    return kept ? offlineCopy(kept) : await caches.match("/offline", { cacheName: SHELL });
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
