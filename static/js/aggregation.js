/* Aggregation pages, progressive enhancement only (every page works without it):
   - the channel form shows only the settings of the chosen channel kind;
   - a batch page that is loading polls its progress and reloads when the load is done. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var kind = document.getElementById("id_kind");
  function showSettings() {
    var chosen = kind.value;
    document.querySelectorAll(".kind-settings[data-kind]").forEach(function (box) {
      var kinds = box.getAttribute("data-kind").split(" ");
      box.hidden = kinds.indexOf(chosen) === -1;
    });
  }
  if (kind) {
    kind.addEventListener("change", showSettings);
    showSettings();
  }

  var card = document.querySelector("[data-progress-url]");
  if (card) {
    var url = card.getAttribute("data-progress-url");
    var bar = card.querySelector(".progress-bar");
    var meter = card.querySelector("[role=progressbar]");
    var text = card.querySelector(".progress-text");
    var delay = 1000;
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { delay = Math.min(delay * 2, 10000); window.setTimeout(poll, delay); return; }
          bar.style.width = data.progress + "%";
          meter.setAttribute("aria-valuenow", data.progress);
          if (text) text.textContent = data.progress + "%";
          if (data.done) { window.location.reload(); return; }
          window.setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 10000); window.setTimeout(poll, delay); });
    };
    window.setTimeout(poll, delay);
  }
})();
