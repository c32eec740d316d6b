// Survey builder: optional comforts; every page works without this script.
(function () {
  "use strict";
  // Ask before destructive buttons (the server protects answered data either way).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  // The poster's print button is hidden until there is a script to make it work.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
