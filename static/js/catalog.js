/* The catalog's pages. Progressive: without this script the filing form's existing rows still
   save and the search filters stay unfolded. */
(function () {
  "use strict";

  /* Search filters: folded on small screens (the first result is then on the first screen),
     always unfolded on wide screens, where the summary that folds them is hidden. */
  var facets = document.querySelector("details.facets-toggle");
  if (facets && window.matchMedia) {
    var small = window.matchMedia("(max-width: 800px)");
    var fit = function () { facets.open = !small.matches; };
    fit();
    if (small.addEventListener) small.addEventListener("change", fit);
  }

  /* The filing form: add and remove data-item rows without reloading. */
  var body = document.getElementById("items-body");
  var template = document.getElementById("item-row-template");
  var add = document.getElementById("add-item");
  var total = document.getElementById("id_items-TOTAL_FORMS");
  if (!body || !template || !add || !total) return;
  add.hidden = false;
  add.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var row = body.lastElementChild;
    var first = row && row.querySelector("input[type=text]");
    if (first) first.focus();
  });
  body.addEventListener("change", function (event) {
    var box = event.target;
    if (box.name && /-DELETE$/.test(box.name)) {
      box.closest("tr").classList.toggle("removed", box.checked);
    }
  });
})();
