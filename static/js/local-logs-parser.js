// Claude Code and Codex transcripts → daily totals, entirely in the browser.
//
// Loaded by the Web Worker (local-logs-worker.js) through importScripts; no DOM, no network, no
// third-party code. The worker hands it {path, file} pairs and gets back per-day rows of
// (UTC day, tool, model, speed) token totals. Paths, ids and text are only used here, as
// deduplication keys, and never leave this object: buildBody() emits numbers, model ids and
// dates only.
//
// This file is the core: picking files, streaming lines, rows and the body. Each tool's rules
// live in its own file (local-logs-claude.js, local-logs-codex.js), loaded after this one.
(function (root) {
  "use strict";

  var PARSER = { name: "tokenoffset-local-parser", version: "1.0.0" };
  var SCHEMA = "tokenoffset.local-usage/v1";
  var MAX_PAST_DAYS = 400; // the server accepts today−400 … yesterday
  var PLAUSIBLE_DAY_TOKENS = 10e9;

  function utcDay(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  function int(value) {
    return typeof value === "number" && isFinite(value) && value > 0 ? Math.floor(value) : 0;
  }

  function baseName(path) {
    var parts = path.split("/");
    return parts[parts.length - 1];
  }

  // Which tool wrote a file, from its name alone (contents are checked line by line later).
  function classify(path) {
    var name = baseName(path);
    if (!/\.jsonl$/i.test(name)) return null;
    if (/^rollout-.*\.jsonl$/i.test(name)) return "codex";
    // ~/.claude/history.jsonl holds the user's prompts: never opened.
    if (name === "history.jsonl") return null;
    return "claude";
  }

  function Parser() {
    this.claude = { entries: new Map(), files: 0, malformed: 0, skipped: 0, firstMs: null };
    this.codex = { files: [], byName: new Map(), planHint: false, skipped: 0 };
    this.progress = { files: 0, lines: 0, bytes: 0, totalFiles: 0, totalBytes: 0 };
  }

  // Codex keeps finished rollouts in archived_sessions/ with the same names: a rollout found in
  // both folders counts once (the sessions/ copy wins, as ccusage does).
  Parser.prototype.select = function (items) {
    var chosen = [];
    var codexByName = new Map();
    items.forEach(function (item) {
      var tool = classify(item.path);
      if (tool === "claude") chosen.push({ tool: tool, path: item.path, file: item.file });
      if (tool === "codex") {
        var name = baseName(item.path);
        var seen = codexByName.get(name);
        var archived = /(^|\/)archived_sessions\//.test(item.path);
        if (!seen || (seen.archived && !archived)) {
          codexByName.set(name, { tool: tool, path: item.path, file: item.file, archived: archived });
        }
      }
    });
    codexByName.forEach(function (item) { chosen.push(item); });
    return chosen;
  };

  // Streams one file line by line; `onLine(line)` sees only lines that pass `keep`.
  async function eachLine(file, keep, onLine, onBytes) {
    var reader = file.stream().pipeThrough(new TextDecoderStream()).getReader();
    var rest = "";
    for (;;) {
      var step = await reader.read();
      if (step.done) break;
      onBytes(step.value.length);
      var chunk = rest ? rest + step.value : step.value;
      var start = 0;
      var nl;
      while ((nl = chunk.indexOf("\n", start)) !== -1) {
        var line = chunk.slice(start, nl);
        start = nl + 1;
        if (keep(line)) onLine(line);
        else onLine(null);
      }
      rest = chunk.slice(start);
    }
    if (rest) onLine(keep(rest) ? rest : null);
  }

  Parser.prototype.run = async function (items, onProgress) {
    var chosen = this.select(items);
    var progress = this.progress;
    progress.totalFiles = chosen.length;
    progress.totalBytes = chosen.reduce(function (n, c) { return n + c.file.size; }, 0);
    var last = 0;
    function tick(force) {
      var now = Date.now();
      if (onProgress && (force || now - last > 100)) { last = now; onProgress(progress); }
    }
    for (var i = 0; i < chosen.length; i++) {
      var item = chosen[i];
      var before = progress.bytes;
      if (item.tool === "claude") await this.readClaude(item, tick);
      else await this.readCodex(item, tick);
      progress.bytes = before + item.file.size; // decoded characters ≠ bytes: settle per file
      progress.files += 1;
      tick(false);
    }
    tick(true);
    return this.result();
  };

  // ---- Rows and the body ---------------------------------------------------------------------

  var SURFACES = {
    claude_code: { vendor: "anthropic", name: "Claude Code" },
    codex: { vendor: "openai", name: "Codex" }
  };

  function rowFor(rows, surface, date, model, speed) {
    var key = [date, surface, model, speed || ""].join("\u0000");
    var row = rows.get(key);
    if (!row) {
      row = {
        date: date, surface: surface, model: model, speed: speed, requests: 0,
        t: { input_uncached: 0, cache_read: 0, cache_write_5m: 0, cache_write_1h: 0,
             cache_write_unsplit: 0, output: 0, reasoning: 0 },
        q: { partial_output_requests: 0, fork_parent_missing: 0, errored_rows: 0, estimated: false }
      };
      rows.set(key, row);
    }
    return row;
  }

  Parser.prototype.result = function () {
    var rows = new Map();
    var partial = this.claudeRows(rows);
    var forks = this.codexRows(rows);
    var claudeFirst = this.claude.firstMs;
    return {
      rows: Array.from(rows.values()),
      claude: {
        files: this.claude.files,
        malformed: this.claude.malformed,
        skipped: this.claude.skipped,
        partial: partial,
        earliest: claudeFirst === null ? null : utcDay(claudeFirst)
      },
      codex: {
        files: this.codex.files.length,
        skipped: this.codex.skipped,
        forks: forks.forks,
        missingParents: forks.missingParents,
        planHint: this.codex.planHint
      },
      progress: this.progress
    };
  };

  function addDays(day, n) {
    var d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  // The exact body the page shows and posts. `now` is a Date; `billing` maps surface → answer.
  function buildBody(result, options) {
    var now = options.now || new Date();
    var today = utcDay(now.getTime());
    var yesterday = addDays(today, -1);
    var oldest = addDays(today, -MAX_PAST_DAYS);
    var dropped = { today: 0, old: 0 };
    var kept = result.rows.filter(function (r) {
      // Today is not over: its partial total would be replaced tomorrow anyway.
      if (r.date > yesterday) { dropped.today += 1; return false; }
      if (r.date < oldest) { dropped.old += 1; return false; }
      return true;
    });
    kept.sort(function (a, b) {
      return a.date < b.date ? -1 : a.date > b.date ? 1 :
        a.surface < b.surface ? -1 : a.surface > b.surface ? 1 :
        a.model < b.model ? -1 : a.model > b.model ? 1 :
        (a.speed || "") < (b.speed || "") ? -1 : (a.speed || "") > (b.speed || "") ? 1 : 0;
    });
    var sources = [];
    Object.keys(SURFACES).forEach(function (surface) {
      var mine = kept.filter(function (r) { return r.surface === surface; });
      if (!mine.length) return;
      var stats = surface === "claude_code" ? result.claude : result.codex;
      var warnings = [];
      if (surface === "claude_code") {
        warnings.push("retention_window_30d");
        if (stats.partial) warnings.push("subagent_partial_output");
        if (stats.malformed) warnings.push("malformed_lines");
      } else if (stats.missingParents) {
        warnings.push("fork_parent_missing");
      }
      if (stats.skipped) warnings.push("unreadable_lines");
      var plausible = true;
      var perDay = {};
      mine.forEach(function (r) {
        var sum = r.t.input_uncached + r.t.cache_read + r.t.cache_write_5m + r.t.cache_write_1h +
          r.t.cache_write_unsplit + r.t.output;
        perDay[r.date] = (perDay[r.date] || 0) + sum;
        if (perDay[r.date] > PLAUSIBLE_DAY_TOKENS) plausible = false;
      });
      if (!plausible) warnings.push("implausible_day_over_10b");
      sources.push({
        vendor: SURFACES[surface].vendor,
        surface: surface,
        billing: (options.billing && options.billing[surface]) || "unknown",
        files_scanned: stats.files,
        first_day: mine[0].date,
        // The folder was read up to now: the days after the last usage are real zeros.
        last_day: yesterday,
        warnings: warnings
      });
    });
    var body = {
      schema: SCHEMA,
      parser: PARSER,
      generated_at: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      day_boundary: "UTC",
      // Added to the published schema: the name the user gives this computer, so that two
      // machines are two sources and one never replaces the other's days.
      computer: options.computer || "this computer",
      sources: sources,
      rows: kept.map(function (r) {
        var claude = r.surface === "claude_code";
        return {
          date: r.date,
          vendor: SURFACES[r.surface].vendor,
          surface: r.surface,
          model: r.model,
          speed: r.speed,
          requests: r.requests,
          tokens: {
            input_uncached: r.t.input_uncached,
            cache_read: r.t.cache_read,
            cache_write_5m: claude ? r.t.cache_write_5m : null,
            cache_write_1h: claude ? r.t.cache_write_1h : null,
            cache_write_unsplit: r.t.cache_write_unsplit,
            output: r.t.output,
            reasoning: claude ? null : r.t.reasoning
          },
          quality: r.q
        };
      })
    };
    return { body: body, dropped: dropped };
  }

  root.LocalLogsParser = {
    PARSER: PARSER,
    SCHEMA: SCHEMA,
    SURFACES: SURFACES,
    classify: classify,
    create: function () { return new Parser(); },
    buildBody: buildBody,
    utcDay: utcDay,
    // For local-logs-claude.js and local-logs-codex.js, which add the two tools' readers.
    internal: { Parser: Parser, int: int, utcDay: utcDay, eachLine: eachLine, rowFor: rowFor }
  };
})(typeof self !== "undefined" ? self : this);
