/* The filing form: add and remove data-item rows without reloading. Progressive: without
   this script the existing rows still save. */
(function () {
  "use strict";
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
  var facets = document.querySelector(".facets-toggle");
  if (facets && window.matchMedia("(max-width: 800px)").matches) facets.open = false;
})();
