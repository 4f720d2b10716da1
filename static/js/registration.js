/* Registration pages, progressive enhancement only: the certificate's Print button (the
   browser's own print command works as well). */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
/* Buttons that refuse, withdraw or cancel ask once more before the form is sent. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
})();
