// A window tablet: a form half filled and left by one citizen must not greet the next one.
// After data-idle-seconds without a touch or a key, load a fresh form (the page itself works
// without this script; only the reset needs it).
(function () {
  "use strict";
  var form = document.querySelector("form[data-idle-seconds]");
  if (!form) { return; }
  var seconds = parseInt(form.getAttribute("data-idle-seconds"), 10) || 90;
  var resetUrl = form.getAttribute("data-reset-url");
  var timer = null;
  function restart() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(function () { window.location.replace(resetUrl); }, seconds * 1000);
  }
  ["pointerdown", "keydown", "input", "touchstart", "scroll"].forEach(function (name) {
    document.addEventListener(name, restart, { passive: true });
  });
  restart();
}());
