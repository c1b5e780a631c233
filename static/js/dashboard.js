// Dashboard: the next weekly sample in the browser's time zone, and live sample progress.
// No inline script or style (strict CSP): everything hangs off data-* attributes.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var MAX_FAILURES = 10;
  var ACTIVE = { pending: true, sampling: true };

  function showLocalTimes() {
    var nodes = document.querySelectorAll("[data-local-time]");
    if (!window.Intl || !Intl.DateTimeFormat) return;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone === "UTC" || zone === "Etc/UTC") return;
    nodes.forEach(function (node) {
      var when = new Date(node.getAttribute("data-local-time"));
      if (isNaN(when.getTime())) return;
      var text = new Intl.DateTimeFormat(undefined, {
        weekday: "long", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      }).format(when);
      node.textContent = "(" + text + " your time)";
      node.hidden = false;
    });
  }

  function pages(progress) {
    var done = 0, total = 0, known = true, any = false;
    var reports = (progress && progress.reports) || {};
    Object.keys(reports).forEach(function (name) {
      var r = reports[name] || {};
      any = true;
      done += r.pages_done || 0;
      if (r.pages_total === null || r.pages_total === undefined) known = false;
      else total += r.pages_total;
    });
    return { done: done, total: any && known ? total : null };
  }

  function updateRow(row, source) {
    var bar = row.querySelector("[data-progress]");
    var label = row.querySelector("[data-progress-text]");
    var p = pages(source.progress);
    if (bar) {
      if (p.total) {
        bar.max = p.total;
        bar.value = Math.min(p.done, p.total);
      } else {
        bar.removeAttribute("value");  // indeterminate
      }
    }
    if (label && source.progress) {
      label.textContent = p.total
        ? p.done + " of " + p.total + " pages"
        : p.done + (p.done === 1 ? " page" : " pages") + " fetched";
    }
  }

  function poll(container) {
    var url = container.getAttribute("data-poll-url");
    var failures = 0;
    var etag = null;

    function tick() {
      var headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;  // 304 while nothing changed
      fetch(url, { credentials: "same-origin", headers: headers })
        .then(function (response) {
          if (response.status === 304) return null;
          if (!response.ok) throw new Error("HTTP " + response.status);
          etag = response.headers.get("ETag");
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          if (data === null) {  // unchanged: still busy, ask again
            window.setTimeout(tick, POLL_MS);
            return;
          }
          var finished = false, busy = false;
          (data.sources || []).forEach(function (source) {
            var row = container.querySelector('[data-source-id="' + source.id + '"]');
            if (!row) return;
            var was = row.getAttribute("data-status");
            if (ACTIVE[source.status]) {
              busy = true;
              updateRow(row, source);
            } else if (ACTIVE[was]) {
              finished = true;  // a sample ended: the estimate and chart changed
            }
          });
          if (finished) {
            window.location.reload();
          } else if (busy) {
            window.setTimeout(tick, POLL_MS);
          }
        })
        .catch(function () {
          failures += 1;
          if (failures < MAX_FAILURES) window.setTimeout(tick, POLL_MS * failures);
        });
    }

    window.setTimeout(tick, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    showLocalTimes();
    var container = document.querySelector("[data-poll-url][data-polling]");
    if (container && window.fetch) poll(container);
  });
})();
