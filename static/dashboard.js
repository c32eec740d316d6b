// Dashboard refresh while a survey is open: poll the cheap data version and, when it has
// changed, swap in the figures, charts and tables from a fresh copy of the page. Without
// JavaScript the page refreshes itself through a <noscript> meta refresh instead.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.dataset.liveUrl || !window.fetch || !window.DOMParser) return;
  var seconds = Math.max(5, parseInt(live.dataset.refreshSeconds, 10) || 60);
  var version = live.dataset.version;

  function swapIn(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
    if (!fresh) return;
    live.replaceWith(document.adoptNode(fresh));
    live = fresh;
  }

  function check() {
    if (!live.dataset.liveUrl) return;  // the survey was closed: nothing more to wait for
    fetch(live.dataset.liveUrl, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || data.version === version) return null;
        version = data.version;
        return fetch(window.location.href, {credentials: "same-origin", cache: "no-store"})
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html) swapIn(html); });
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { window.setTimeout(check, seconds * 1000); });
  }

  window.setTimeout(check, seconds * 1000);
})();
