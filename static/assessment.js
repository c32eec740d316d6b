/* Assessment workspace: while an actual is typed, ask the server what the scores would be and
   show them (marked as a preview until saved). The page works the same without this script. */
(function () {
  "use strict";
  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
  var table = document.querySelector("table[data-preview]");
  if (!table || !window.fetch || !window.FormData) { return; }
  var url = table.getAttribute("data-preview");
  var note = document.querySelector(".as-preview-note");
  var timer = null;

  function setAll(selector, text) {
    var nodes = document.querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = text; }
  }

  function show(data) {
    Object.keys(data.scores).forEach(function (id) {
      var score = data.scores[id];
      setAll('[data-score-for="' + id + '"]', score === null ? "—" : score);
      setAll('[data-explain-for="' + id + '"]', data.explanations[id] || "");
    });
    Object.keys(data.rates).forEach(function (id) {
      setAll('[data-rate-for="' + id + '"]', data.rates[id]);
    });
    setAll("[data-total]", data.total);
    setAll("[data-grade]", data.grade);
    if (note) { note.hidden = false; }
  }

  function preview(form) {
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () { /* the saved figures stay on the page */ });
  }

  table.addEventListener("input", function (event) {
    var input = event.target;
    if (input.name !== "actual" || !input.form) { return; }
    input.form.classList.add("as-dirty");
    clearTimeout(timer);
    timer = setTimeout(function () { preview(input.form); }, 250);
  });
})();
