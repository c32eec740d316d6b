// Conditional questions (一事一评): without this script every question is on the page with its
// condition in words and the server ignores answers that do not apply; with it, a question is
// shown only while its condition holds, and a hidden one is disabled so nothing of it is sent.
(function () {
  "use strict";
  var dependants = Array.prototype.slice.call(
    document.querySelectorAll("fieldset[data-show-if]"));
  if (!dependants.length) { return; }
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  dependants[0].form.appendChild(status);

  function chosen(name) {
    var inputs = document.getElementsByName(name), values = [];
    for (var i = 0; i < inputs.length; i++) {
      // a disabled input belongs to a hidden question: its answer does not count
      if (inputs[i].checked && !inputs[i].matches(":disabled")) { values.push(inputs[i].value); }
    }
    return values;
  }

  function holds(fieldset) {
    var wanted = fieldset.getAttribute("data-show-values").split(" ");
    return chosen(fieldset.getAttribute("data-show-if")).some(function (value) {
      return wanted.indexOf(value) >= 0;
    });
  }

  function number(fieldset) {
    var num = fieldset.querySelector(".num");
    return num ? num.textContent.replace(".", "") : "";
  }

  // In page order, so a question resting on another conditional question sees it settled.
  function update(announce) {
    var appeared = [];
    dependants.forEach(function (fieldset) {
      var show = holds(fieldset);
      if (show && fieldset.hidden) { appeared.push(number(fieldset)); }
      fieldset.hidden = !show;
      fieldset.disabled = !show;
    });
    if (announce && appeared.length) {
      status.textContent = "已显示第" + appeared.join("、") + "题，请继续作答。";
    }
  }

  dependants.forEach(function (fieldset) {
    var gate = document.getElementsByName(fieldset.getAttribute("data-show-if"));
    for (var i = 0; i < gate.length; i++) {
      var controls = gate[i].getAttribute("aria-controls");
      gate[i].setAttribute("aria-controls", (controls ? controls + " " : "") + fieldset.id);
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.name && event.target.name.charAt(0) === "q") { update(true); }
  });
  update(false);
})();
