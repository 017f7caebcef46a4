// OAuth 2.0 Form Post Response Mode: post the authorization response to the client at once. Without
// scripts the page shows the same form with a button (a strict CSP allows no inline script).
(function () {
  "use strict";
  var form = document.getElementById("oidc-form-post");
  if (form) form.submit();
})();
