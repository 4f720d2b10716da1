/* Quality pages, progressive enhancement only (every page works without it):
   - the rule builder shows only the section of the chosen rule kind (conditions or range);
   - a resource's page with a run under way polls the run's status and reloads when done. */
(function () {
  "use strict";

  var kinds = document.querySelectorAll(".q-builder input[name=kind]");
  function showKind() {
    var chosen = "";
    kinds.forEach(function (k) { if (k.checked) chosen = k.value; });
    document.querySelectorAll(".q-builder [data-rule-kind]").forEach(function (box) {
      // a disabled kind (editing) still shows its own section
      box.hidden = chosen !== "" && box.getAttribute("data-rule-kind") !== chosen;
    });
  }
  if (kinds.length) {
    kinds.forEach(function (k) { k.addEventListener("change", showKind); });
    showKind();
  }

  var card = document.querySelector("[data-run-status-url]");
  if (card) {
    var url = card.getAttribute("data-run-status-url");
    var label = card.querySelector("[data-run-status]");
    var delay = 1500;
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { delay = Math.min(delay * 2, 15000); window.setTimeout(poll, delay); return; }
          if (data.done) { window.location.reload(); return; }
          if (label && data.status_label) label.textContent = data.status_label;
          delay = Math.min(delay * 1.3, 10000);
          window.setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 15000); window.setTimeout(poll, delay); });
    };
    window.setTimeout(poll, delay);
  }
})();
