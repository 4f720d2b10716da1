/* Data-standard pages, progressive enhancement only (every page works without it):
   a change request whose stored data is being counted polls the count's state and
   reloads the page when the count is done. */
(function () {
  "use strict";

  var box = document.querySelector("[data-impact-status-url]");
  if (!box) return;
  var url = box.getAttribute("data-impact-status-url");
  var delay = 1500;
  var poll = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.done) { window.location.reload(); return; }
        delay = Math.min(delay * (data ? 1.3 : 2), 15000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 15000); window.setTimeout(poll, delay); });
  };
  window.setTimeout(poll, delay);
})();
