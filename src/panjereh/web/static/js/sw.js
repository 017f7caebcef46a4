/* Panjereh's service worker: the shell (styles, scripts, fonts, the offline page) from a cache, and the
   signed-in citizen's own document pages (with their QR codes, which are inline images) so they can be read
   offline: each page he opens, and, whenever his wallet (/documents) is shown, every document it lists (the
   newest 50, from /offline/documents.json), fetched again only when its version changes. Pages of documents
   no longer listed are dropped. Served at /sw.js so that its scope is the whole site.

   The shell's cache is named by VERSION, a digest of every file this worker may serve from it (all of
   /static and /vendor, and the offline page's templates): a release that changes any of them is a new cache.

   Only the citizen who saw them keeps them: every page tells the worker whose it is (a keyed hash, never
   the national code; empty when signed out), and a document page's response says so too (X-Pj-Owner). The
   current owner is kept in the documents' own cache (pj-documents, never versioned, so a release keeps it)
   and his pages in his own (pj-documents-<owner>): a page is stored only there and only when its response
   names him, he is checked again once it is stored, and offline only his cache is read. When the owner
   changes, every other owner's cache goes. Logging out also sends Clear-Site-Data, which drops every cache
   and this worker with it.

   The server says which version of a page is kept (X-Pj-Offline-Version, the same as the wallet's list
   names, web/pwa.py offline_version); the worker stores what it says. */
"use strict";

// The digest written in as /sw.js is served (web/pwa.py, shell_version): any change to what the worker
// serves from its shell cache is a new shell, so its old cache is dropped (it is served from the cache first).
const VERSION = "%SHELL_VERSION%";
const SHELL = "pj-shell-" + VERSION;
const DOCUMENTS = "pj-documents"; // whose documents are kept (OWNER_KEY), never the pages themselves
const OWNER_KEY = "/__pj-owner";
const OWNER_PAGES = "pj-documents-"; // + the owner: his pages
const OWNER_HEADER = "X-Pj-Owner"; // whose page a response is (web/pwa.py, mark_offline_page)
const OFFLINE_VERSION = "X-Pj-Offline-Version"; // the version of a document page's offline copy
const WALLET = "/documents";
const WALLET_LIST = "/offline/documents.json";
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
      .then(dropUnowned)
      .then(() => self.clients.claim()),
  );
});

// Pages an earlier worker kept in the owner's cache itself (before pages had a cache per owner) go.
async function dropUnowned() {
  const cache = await caches.open(DOCUMENTS);
  for (const request of await cache.keys()) {
    if (new URL(request.url).pathname !== OWNER_KEY) await cache.delete(request);
  }
}

async function owner() {
  const stored = await (await caches.open(DOCUMENTS)).match(OWNER_KEY);
  return stored ? stored.text() : "";
}

// Owner changes run one after another (two tabs may each report one). Whether the owner changed (then the
// page just served was not kept: it named another owner than the worker knew).
let owning = Promise.resolve();
function setOwner(user) {
  const change = owning.then(() => changeOwner(user));
  owning = change.catch(() => undefined);
  return change;
}

async function changeOwner(user) {
  const changed = user !== (await owner());
  if (changed) {
    const cache = await caches.open(DOCUMENTS);
    await (user ? cache.put(OWNER_KEY, new Response(user)) : cache.delete(OWNER_KEY));
  }
  // Every other owner's pages go (also ones a store that raced a change left behind); the owner is set
  // first, so a store that starts now no longer matches the last one.
  const mine = user ? OWNER_PAGES + user : null;
  const others = (await caches.keys()).filter((key) => key.startsWith(OWNER_PAGES) && key !== mine);
  await Promise.all(others.map((key) => caches.delete(key)));
  return changed;
}

// Keep a page in its owner's cache: only when the response names the current owner, and, should the owner
// change (another citizen, a logout's Clear-Site-Data) while it is being stored, the cache it went into goes.
async function keep(request, response) {
  const user = response.headers.get(OWNER_HEADER);
  if (!user || user !== (await owner())) return;
  const pages = OWNER_PAGES + user;
  await (await caches.open(pages)).put(request, response);
  if ((await owner()) !== user) await caches.delete(pages);
}

// The current owner's kept copy of a page, if any.
async function keptPage(request) {
  const user = await owner();
  return user ? caches.match(request, { cacheName: OWNER_PAGES + user }) : undefined;
}

async function dropPage(request) {
  const pages = OWNER_PAGES + (await owner());
  if (await caches.has(pages)) await (await caches.open(pages)).delete(request);
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
  if (!user) return;
  let listed;
  try {
    const response = await fetch(WALLET_LIST, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok || response.redirected) return;
    listed = await response.json();
  } catch (error) {
    return; // no connection: what is kept stays
  }
  if (listed.owner !== user || (await owner()) !== user) return; // someone else signed in since: not his list
  const versions = new Map(listed.pages.map((page) => [page.url, page.version]));
  const cache = await caches.open(OWNER_PAGES + user);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path !== WALLET && !versions.has(path)) await cache.delete(request); // replaced, or past the newest
  }
  const due = [];
  for (const [url, version] of versions) {
    const kept = await cache.match(url);
    if (!kept || kept.headers.get(OFFLINE_VERSION) !== version) due.push(url);
  }
  const fetching = [];
  for (let i = 0; i < FETCHING_AT_ONCE; i += 1) {
    fetching.push((async () => {
      while (due.length) await keepListedPage(due.shift());
    })());
  }
  await Promise.all(fetching);
}

// Stored as the server sent it: its own X-Pj-Offline-Version and X-Pj-Owner decide (keep).
async function keepListedPage(url) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch (error) {
    return; // the connection went: the next showing of the wallet tries again
  }
  if (response.ok && !response.redirected) await keep(new Request(url), response);
}

// A kept page served with no connection says so (its note, hidden when served online, is shown).
async function offlineCopy(kept) {
  const page = (await kept.text()).replace(OFFLINE_NOTE, 'id="offline-copy"');
  const headers = new Headers(kept.headers);
  headers.delete("content-length"); // the page is shorter by the attribute
  return new Response(page, { status: kept.status, statusText: kept.statusText, headers });
}

async function documentPage(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const kept = await keptPage(request);
    return kept ? offlineCopy(kept) : await caches.match("/offline", { cacheName: SHELL });
  }
  // A redirect (to the login page) or an error is never kept: only the owner's own page. A page that is no
  // longer his (404: a document of a child he no longer acts for) goes. A failed store still shows the page.
  if (response.ok && !response.redirected) {
    await keep(request, response.clone()).catch(() => undefined);
  } else if (response.status === 404) {
    await dropPage(request).catch(() => undefined);
  }
  return response;
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
