/* casebridge's pages: a little on top of htmx. Loaded from the service's own origin
   (script-src 'self'); the pages work without it, as plain forms and links. */
(function () {
  "use strict";

  function flash(text) {
    var box = document.getElementById("flash");
    if (box) {
      box.textContent = text;
    }
  }

  // Swap a response in only when it holds the part of the page it is meant to replace: a
  // refusal rendered as the same page (a 422, 403 or 409 with its message) is shown; anything
  // else (a sign-in page after the session ended, an error page) is not swapped into the
  // middle of this one.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var target = detail.target && detail.target.id;
    var text = detail.serverResponse || "";
    if (target && text.indexOf('id="' + target + '"') !== -1) {
      detail.shouldSwap = true;
      detail.isError = false;
      return;
    }
    detail.shouldSwap = false;
    if (detail.xhr.status === 401) {
      // the session ended: sign in again
      window.location.assign("/sign-in");
      return;
    }
    var landed = detail.xhr && detail.xhr.responseURL;
    if (landed && landed.indexOf(window.location.origin + "/sign-in") === 0) {
      window.location.assign(landed);
      return;
    }
    flash("That was not done (the service answered " + detail.xhr.status + "). Reload the page and try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    flash("The service could not be reached. Nothing was changed.");
  });

  // After a part of the page is replaced, a message in it gets the focus, so that keyboard and
  // screen-reader users hear what happened; without one, focus stays where htmx put it back,
  // or moves to the part replaced if it was lost with the old content.
  document.addEventListener("htmx:afterSettle", function (event) {
    var id = event.detail.target && event.detail.target.id;
    var region = id ? document.getElementById(id) : null;
    if (!region) {
      return;
    }
    var message = region.querySelector("[role=alert]");
    if (message) {
      message.setAttribute("tabindex", "-1");
      message.focus();
    } else if (!region.contains(document.activeElement)) {
      region.setAttribute("tabindex", "-1");
      region.focus();
    }
  });
})();
