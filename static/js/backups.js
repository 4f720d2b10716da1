/* The backups page, progressive enhancement only (the page works without it): while a backup
   or a restore drill is queued or running, poll their state and progress, and reload the page
   when none is left, so that the new backup or drill result shows. */
(function () {
  "use strict";
  var card = document.querySelector("[data-status-url]");
  if (!card) return;
  var url = card.getAttribute("data-status-url");
  var delay = 2000;
  var retry = function () { delay = Math.min(delay * 2, 30000); window.setTimeout(poll, delay); };
  var poll = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { retry(); return; }
        if (data.active === 0) { window.location.reload(); return; }
        data.jobs.forEach(function (job) {
          var row = card.querySelector('[data-job-id="' + job.id + '"]');
          if (!row) return;
          row.querySelector(".job-state").textContent = job.label;
          row.querySelector(".job-progress").textContent = job.progress;
        });
        window.setTimeout(poll, delay);
      })
      .catch(retry);
  };
  window.setTimeout(poll, delay);
})();
