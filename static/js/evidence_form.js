/* The new-deposit form, progressive enhancement only: the resource field shows for the
   resource kinds, the product fields (name, description, file, sources) for a product. */
(function () {
  "use strict";
  var kinds = document.querySelectorAll("input[name=kind]");
  if (!kinds.length) return;
  var resourceOnly = ["id_resource"];
  var productOnly = ["id_title", "id_description", "id_upload", "id_sources"];
  function box(id) {
    var el = document.getElementById(id);
    return el ? el.closest(".field") : null;
  }
  function show() {
    var chosen = "";
    kinds.forEach(function (k) { if (k.checked) chosen = k.value; });
    if (!chosen) return;
    var product = chosen === "product";
    resourceOnly.forEach(function (id) { var b = box(id); if (b) b.hidden = product; });
    productOnly.forEach(function (id) { var b = box(id); if (b) b.hidden = !product; });
  }
  kinds.forEach(function (k) { k.addEventListener("change", show); });
  show();
})();
