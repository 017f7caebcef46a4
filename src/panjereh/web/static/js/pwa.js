/* Register the service worker and tell it whose page this is (see sw.js: a citizen's documents are kept
   for that citizen alone). */
"use strict";
(function () {
  if (!("serviceWorker" in navigator)) return;
  const marker = document.querySelector('meta[name="pj-owner"]');
  function tell(worker) {
    if (worker && marker) worker.postMessage({ type: "owner", user: marker.content, keep: location.pathname });
  }
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
    tell(registration.active || registration.waiting || registration.installing);
  });
  navigator.serviceWorker.ready.then(function (registration) { tell(registration.active); });
})();
