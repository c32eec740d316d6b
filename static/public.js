// The error summary takes focus after a failed submission: `autofocus` on the summary does it
// without JS in current browsers; this repeats it for in-app browsers that ignore autofocus on
// non-form elements.
(function () {
  var summary = document.getElementById("errors");
  if (summary && document.activeElement === document.body) {
    summary.focus();
  }
})();
