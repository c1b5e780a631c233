// "Claude Code and Codex on this computer": pick a folder, parse it in a Web Worker, show the
// per-day totals and the exact JSON body, and post that body only on "Send daily totals".
// No inline script or style (strict CSP): everything hangs off ids and data-* attributes.
/* global LocalLogsParser */
(function () {
  "use strict";

  var root = document.getElementById("local-logs");
  if (!root) return;
  var $ = function (id) { return document.getElementById(id); };
  var workerUrl = root.getAttribute("data-worker");
  var uploadUrl = root.getAttribute("data-upload");
  var demoUrl = root.getAttribute("data-demo");
  var result = null;
  var body = null;
  var worker = null;

  function fmt(n) {
    if (n === null || n === undefined) return "–";
    return Number(n).toLocaleString("en-US");
  }

  function mb(bytes) {
    return (bytes / 1e6).toFixed(1) + " MB";
  }

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function setStatus(text, isError) {
    var node = $("ll-status");
    node.textContent = text;
    node.classList.toggle("field-error", !!isError);
  }

  // ---- Getting the files: input, drag and drop, showDirectoryPicker ------------------------

  function fromInput(fileList) {
    var items = [];
    for (var i = 0; i < fileList.length; i++) {
      var f = fileList[i];
      items.push({ path: f.webkitRelativePath || f.name, file: f });
    }
    return items;
  }

  function readEntry(entry, prefix, items) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (file) {
          items.push({ path: prefix + entry.name, file: file });
          resolve();
        }, function () { resolve(); });
        return;
      }
      var reader = entry.createReader();
      var children = [];
      (function more() {
        reader.readEntries(function (batch) {
          if (!batch.length) {
            Promise.all(children.map(function (child) {
              return readEntry(child, prefix + entry.name + "/", items);
            })).then(resolve);
            return;
          }
          children = children.concat(Array.prototype.slice.call(batch));
          more();
        }, function () { resolve(); });
      })();
    });
  }

  async function fromHandle(handle, prefix, items) {
    for await (var child of handle.values()) {
      if (child.kind === "file") {
        items.push({ path: prefix + child.name, file: await child.getFile() });
      } else {
        await fromHandle(child, prefix + child.name + "/", items);
      }
    }
  }

  // ---- Parsing -------------------------------------------------------------------------------

  function parse(items) {
    var wanted = items.filter(function (item) { return LocalLogsParser.classify(item.path); });
    if (!wanted.length) {
      setStatus("No Claude Code or Codex transcripts in that folder. Pick ~/.claude, " +
        "~/.claude/projects, ~/.config/claude, ~/.codex or ~/.codex/sessions.", true);
      return;
    }
    if (worker) worker.terminate();
    show("ll-review", false);
    show("ll-progress", true);
    setStatus("Reading " + wanted.length + " files on this computer…");
    worker = new Worker(workerUrl);
    worker.onmessage = function (event) {
      var msg = event.data;
      if (msg.type === "progress") renderProgress(msg.progress);
      if (msg.type === "error") setStatus("Could not read the folder: " + msg.message, true);
      if (msg.type === "done") {
        renderProgress(msg.result.progress);
        result = msg.result;
        worker.terminate();
        worker = null;
        review();
      }
    };
    worker.postMessage({ items: wanted });
  }

  function renderProgress(p) {
    $("ll-files").textContent = fmt(p.files) + " / " + fmt(p.totalFiles);
    $("ll-lines").textContent = fmt(p.lines);
    $("ll-mb").textContent = mb(p.bytes) + " / " + mb(p.totalBytes);
    var bar = $("ll-bar");
    bar.max = p.totalBytes || 1;
    bar.value = Math.min(p.bytes, p.totalBytes);
  }

  // ---- Review: per-day table, billing question, the exact JSON --------------------------------

  function billingAnswers() {
    var answers = {};
    root.querySelectorAll("select[data-billing]").forEach(function (select) {
      answers[select.getAttribute("data-billing")] = select.value;
    });
    return answers;
  }

  function rebuild() {
    var built = LocalLogsParser.buildBody(result, {
      now: new Date(),
      billing: billingAnswers(),
      computer: $("ll-computer").value.trim() || "this computer"
    });
    body = built.body;
    $("ll-json").textContent = JSON.stringify(body, null, 2);
    var notes = [];
    if (built.dropped.today) notes.push("Today's partial day is not sent.");
    if (built.dropped.old) notes.push("Days older than 400 days are not sent.");
    $("ll-dropped").textContent = notes.join(" ");
    $("ll-send").disabled = !body.rows.length;
    var excluded = body.sources.filter(function (s) {
      return s.billing === "api_key" && root.getAttribute("data-admin-" + s.vendor) === "1";
    });
    show("ll-double", excluded.length > 0);
  }

  var WARNINGS = {
    retention_window_30d: "Claude Code deletes transcripts after 30 days by default: only what " +
      "is still on this computer is covered (see the cleanupPeriodDays tip below).",
    subagent_partial_output: "Some subagent responses never got their final output count: " +
      "output is a lower bound.",
    malformed_lines: "Some lines had missing ids or counts and were left out.",
    unreadable_lines: "Some lines could not be read and were left out.",
    fork_parent_missing: "Some forked Codex sessions had no parent on this computer: their " +
      "replayed history was recognised by timing.",
    implausible_day_over_10b: "One day has more than 10 billion tokens: check before sending."
  };

  function renderWarnings() {
    var list = $("ll-warnings");
    list.textContent = "";
    body.sources.forEach(function (s) {
      s.warnings.forEach(function (code) {
        var li = document.createElement("li");
        li.textContent = LocalLogsParser.SURFACES[s.surface].name + ": " + (WARNINGS[code] || code);
        list.appendChild(li);
      });
    });
  }

  function review() {
    rebuild();
    var tools = {};
    body.sources.forEach(function (s) { tools[s.surface] = s; });
    root.querySelectorAll("[data-tool]").forEach(function (row) {
      row.hidden = !tools[row.getAttribute("data-tool")];
    });
    if (tools.codex && result.codex.planHint) {
      var select = root.querySelector('select[data-billing="codex"]');
      if (select.value === "unknown") select.value = "subscription";
      rebuild();
    }
    var tbody = $("ll-days");
    tbody.textContent = "";
    body.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var cw = (r.tokens.cache_write_5m || 0) + (r.tokens.cache_write_1h || 0) +
        r.tokens.cache_write_unsplit;
      [r.date, LocalLogsParser.SURFACES[r.surface].name, r.model + (r.speed === "fast" ? " (fast)" : ""),
       fmt(r.requests), fmt(r.tokens.input_uncached), fmt(r.tokens.cache_read), fmt(cw),
       fmt(r.tokens.output)].forEach(function (text, i) {
        var td = document.createElement("td");
        td.textContent = text;
        if (i >= 3) td.className = "num";
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    var summary = [];
    if (result.claude.files) {
      summary.push("Claude Code: " + fmt(result.claude.files) + " transcripts, earliest day " +
        result.claude.earliest + (result.claude.partial ? "; " + fmt(result.claude.partial) +
        " subagent responses never got their final output count (a lower bound)" : ""));
    }
    if (result.codex.files) {
      summary.push("Codex: " + fmt(result.codex.files) + " rollouts, " + fmt(result.codex.forks) +
        " forks or subagents de-duplicated" + (result.codex.missingParents ? ", " +
        fmt(result.codex.missingParents) + " whose parent is missing" : ""));
    }
    $("ll-summary").textContent = summary.join(". ") + (summary.length ? "." : "");
    renderWarnings();
    setStatus(body.rows.length ? "Ready. Nothing has been sent." :
      "No finished day of usage found in that folder.", !body.rows.length);
    show("ll-review", true);
  }

  function download() {
    var blob = new Blob([JSON.stringify(body, null, 2) + "\n"], { type: "application/json" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "token-offset-daily-totals.json";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  function send() {
    rebuild(); // exactly what is on screen
    var button = $("ll-send");
    button.disabled = true;
    setStatus("Sending daily totals…");
    fetch(uploadUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": root.querySelector("input[name=csrfmiddlewaretoken]").value
      },
      body: JSON.stringify(body)
    })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; },
          function () { return { ok: false, data: { error: "The server answered " + response.status + "." } }; });
      })
      .then(function (answer) {
        button.disabled = false;
        if (!answer.ok) { setStatus(answer.data.error || "Not sent.", true); return; }
        setStatus(answer.data.message);
        var link = $("ll-done");
        link.hidden = false;
      })
      .catch(function () {
        button.disabled = false;
        setStatus("Could not reach the server; nothing was stored. Try again.", true);
      });
  }

  // ---- Wiring ----------------------------------------------------------------------------------

  var input = $("ll-input");
  if (input) {
    input.addEventListener("change", function () { parse(fromInput(input.files)); });
  }
  var picker = $("ll-pick");
  if (picker && window.showDirectoryPicker) {
    picker.hidden = false;
    picker.addEventListener("click", function () {
      window.showDirectoryPicker({ id: "token-offset-logs", mode: "read" }).then(function (handle) {
        var items = [];
        return fromHandle(handle, handle.name + "/", items).then(function () { parse(items); });
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        setStatus("This browser would not open that folder (Chrome refuses ~/.config). " +
          "Use “Choose a folder” instead.", true);
      });
    });
  }
  var zone = $("ll-drop");
  if (zone) {
    zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      zone.classList.remove("over");
      var items = [];
      var entries = Array.prototype.map.call(e.dataTransfer.items, function (item) {
        return item.webkitGetAsEntry && item.webkitGetAsEntry();
      }).filter(Boolean);
      Promise.all(entries.map(function (entry) { return readEntry(entry, "", items); }))
        .then(function () { parse(items); });
    });
  }
  var demo = $("ll-demo");
  if (demo && demoUrl) {
    demo.addEventListener("click", function () {
      fetch(demoUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) {
          parse(data.files.map(function (f) {
            return { path: f.path, file: new File([f.text], f.path.split("/").pop()) };
          }));
        });
    });
  }
  root.querySelectorAll("select[data-billing]").forEach(function (select) {
    select.addEventListener("change", function () { if (result) rebuild(); });
  });
  var computer = $("ll-computer");
  if (computer) computer.addEventListener("input", function () { if (result) rebuild(); });
  var dl = $("ll-download");
  if (dl) dl.addEventListener("click", download);
  var sendButton = $("ll-send");
  if (sendButton) sendButton.addEventListener("click", send);
})();
