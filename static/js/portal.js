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

// Menu drop-downs (details elements): opening one closes the others; a click elsewhere or
// Escape closes them. Without script they still open and close on click.
(function () {
  var groups = document.querySelectorAll(".nav-group > details");
  if (!groups.length) return;
  groups.forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open) return;
      groups.forEach(function (other) { if (other !== d) other.open = false; });
    });
  });
  document.addEventListener("click", function (e) {
    groups.forEach(function (d) { if (d.open && !d.contains(e.target)) d.open = false; });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") groups.forEach(function (d) { d.open = false; });
  });
})();

// After a refused save (a form shown again with its errors), bring the first field in error
// into view and give it focus, so that the reader lands where the correction is due.
(function () {
  var form = Array.prototype.find.call(document.querySelectorAll("main form"), function (f) {
    return f.querySelector('[aria-invalid="true"], .has-error, .field-errors, .alert-error');
  });
  if (!form) return;
  var target = form.querySelector(
    '[aria-invalid="true"]:not([type=hidden]), .has-error input:not([type=hidden]), ' +
    ".has-error select, .has-error textarea"
  );
  if (!target) {
    target = form.querySelector(".field-errors, .alert-error");
    if (!target) return;
    target.setAttribute("tabindex", "-1");
  }
  // A field inside a folded section (details) is unfolded first.
  for (var el = target.parentElement; el; el = el.parentElement) {
    if (el.tagName === "DETAILS" && !el.open) el.open = true;
  }
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: "center" });
})();
