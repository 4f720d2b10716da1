/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  // Copy buttons: <button hidden data-copy="element-id" data-copied="Copied">; shown only
  // when the clipboard can be used.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-copied") || label;
        window.setTimeout(function () { button.textContent = label; }, 2500);
      });
    });
  });

  // Close the narrow-screen menu with Escape and give focus back to its toggle.
  document.querySelectorAll("details.nav-narrow").forEach(function (menu) {
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
})();
