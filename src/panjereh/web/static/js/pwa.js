/* Register the service worker and tell it whose page this is and which page it is (see sw.js: a citizen's
   documents are kept for that citizen alone; the wallet's page has the worker keep every listed document). */
"use strict";
(function () {
  if (!("serviceWorker" in navigator)) return;
  const marker = document.querySelector('meta[name="pj-owner"]');
  if (!marker) return; // the offline page names nobody: it must not clear anyone's documents
  // A page that came through the worker without a query is already kept by it (sw.js, documentPage); any
  // other (the first visit, a reload that bypassed the worker, the wallet after a pull) asks to be kept.
  const throughWorker = Boolean(navigator.serviceWorker.controller) && !location.search;
  navigator.serviceWorker.register("/sw.js", { scope: "/" });
  navigator.serviceWorker.ready.then(function (registration) {
    registration.active.postMessage({
      type: "owner",
      user: marker.content,
      page: location.pathname,
      kept: throughWorker,
    });
  });
})();
