// Claude Code and Codex transcripts → daily totals, entirely in the browser.
//
// Loaded by the Web Worker (local-logs-worker.js) through importScripts; no DOM, no network, no
// third-party code. The worker hands it {path, file} pairs and gets back per-day rows of
// (UTC day, tool, model, speed) token totals. Paths, ids and text are only used here, as
// deduplication keys, and never leave this object: buildBody() emits numbers, model ids and
// dates only.
//
// The rules follow the tools' own log formats:
// - Claude Code writes one line per content block of a response, each with a copy of `usage`
//   whose output_tokens grows; subagent files may never get a final copy. Dedupe by
//   message.id + requestId and keep the field-wise maximum.
// - Codex's token_count events carry a thread-cumulative total and the last turn; forked and
//   subagent rollouts replay their parent's events, so counting is by cumulative deltas with
//   the parent's history subtracted.
(function (root) {
  "use strict";

  var PARSER = { name: "tokenoffset-local-parser", version: "1.0.0" };
  var SCHEMA = "tokenoffset.local-usage/v1";
  var MAX_PAST_DAYS = 400; // the server accepts today−400 … yesterday
  var BURST_MS = 50; // a forked rollout writes its replayed history within milliseconds
  var PLAUSIBLE_DAY_TOKENS = 10e9;

  var CLAUDE_MARK = '"usage":{';
  var CODEX_MARKS = ['"token_count"', '"session_meta"', '"turn_context"', '"user_message"'];

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
    var self = this;
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
    void self;
    return this.result();
  };

  // ---- Claude Code ---------------------------------------------------------------------------

  Parser.prototype.readClaude = async function (item, tick) {
    var self = this;
    var state = this.claude;
    var subagent = /(^|\/)subagents\//.test(item.path);
    var counted = false;
    await eachLine(
      item.file,
      function (line) { return line.indexOf(CLAUDE_MARK) !== -1; },
      function (line) {
        self.progress.lines += 1;
        if (line === null) return;
        var entry;
        try {
          entry = JSON.parse(line);
        } catch (e) {
          state.skipped += 1;
          return;
        }
        if (self.claudeEntry(entry, item.path, subagent)) counted = true;
        tick(false);
      },
      function (n) { self.progress.bytes += n; tick(false); }
    );
    if (counted) state.files += 1;
  };

  function explicitNull(obj, name) {
    return obj && Object.prototype.hasOwnProperty.call(obj, name) && obj[name] === null;
  }

  Parser.prototype.claudeEntry = function (line, path, subagent) {
    var state = this.claude;
    if (!line || typeof line !== "object") return false;
    // The older "agent progress" shape embeds a subagent turn in the parent file.
    var outer = line;
    var message = line.message;
    if (line.data && line.data.message && line.data.message.message) {
      outer = line.data.message;
      message = line.data.message.message;
      subagent = true;
    }
    if (!message || typeof message !== "object" || !message.usage || typeof message.usage !== "object") {
      return false;
    }
    var usage = message.usage;
    var sessionId = outer.sessionId || line.sessionId;
    if (
      explicitNull(message, "id") || explicitNull(message, "model") ||
      explicitNull(outer, "sessionId") || explicitNull(outer, "requestId") ||
      explicitNull(usage, "speed") || explicitNull(usage, "cache_read_input_tokens") ||
      explicitNull(usage, "cache_creation_input_tokens")
    ) {
      state.malformed += 1;
      return false;
    }
    var ms = Date.parse(outer.timestamp || line.timestamp);
    if (!isFinite(ms)) { state.skipped += 1; return false; }
    var model = message.model;
    // Local API-error lines and <synthetic> messages carry no real tokens; rows without a model
    // are never sent.
    if (line.isApiErrorMessage || outer.isApiErrorMessage) return false;
    if (typeof model !== "string" || !model || model === "<synthetic>") return false;

    var msgId = typeof message.id === "string" ? message.id : "";
    var requestId = typeof outer.requestId === "string" ? outer.requestId : "";
    var key;
    // A gateway may repeat one message.id for every response and drop requestId: then the
    // session and file join the key, or a whole day would collapse into one entry.
    if (msgId && requestId) key = msgId + "|" + requestId;
    else if (msgId) key = msgId + "|" + sessionId + "|" + path;
    else key = "|" + sessionId + "|" + ms;

    var split = usage.cache_creation && typeof usage.cache_creation === "object";
    var copy = {
      msgId: msgId,
      hasRequestId: !!requestId,
      sidechain: !!(outer.isSidechain || line.isSidechain),
      subagent: subagent,
      ms: ms,
      model: model,
      speed: usage.speed === "fast" || usage.speed === "standard" ? usage.speed : null,
      input: int(usage.input_tokens),
      cacheRead: int(usage.cache_read_input_tokens),
      split: !!split,
      cw5m: split ? int(usage.cache_creation.ephemeral_5m_input_tokens) : 0,
      cw1h: split ? int(usage.cache_creation.ephemeral_1h_input_tokens) : 0,
      cwFlat: int(usage.cache_creation_input_tokens),
      output: int(usage.output_tokens),
      final: (message.stop_reason !== null && message.stop_reason !== undefined) ||
        Array.isArray(usage.iterations)
    };
    if (state.firstMs === null || ms < state.firstMs) state.firstMs = ms;
    var kept = state.entries.get(key);
    if (!kept) {
      state.entries.set(key, copy);
      return true;
    }
    // Copies of one response: input and cache fields are equal, output only grows, so the
    // field-wise maximum is the response; a final marker on any copy makes it complete.
    kept.input = Math.max(kept.input, copy.input);
    kept.cacheRead = Math.max(kept.cacheRead, copy.cacheRead);
    kept.cw5m = Math.max(kept.cw5m, copy.cw5m);
    kept.cw1h = Math.max(kept.cw1h, copy.cw1h);
    kept.cwFlat = Math.max(kept.cwFlat, copy.cwFlat);
    kept.split = kept.split || copy.split;
    kept.output = Math.max(kept.output, copy.output);
    kept.final = kept.final || copy.final;
    kept.sidechain = kept.sidechain && copy.sidechain;
    kept.subagent = kept.subagent && copy.subagent;
    if (copy.ms < kept.ms) kept.ms = copy.ms;
    if (!kept.speed) kept.speed = copy.speed;
    return true;
  };

  Parser.prototype.claudeRows = function (rows) {
    var entries = this.claude.entries;
    // /btw side questions replay a parent response under the same message.id with a new
    // requestId and isSidechain: the sidechain copy goes, whichever was read first.
    var mainIds = new Set();
    entries.forEach(function (e) { if (!e.sidechain && e.msgId && e.hasRequestId) mainIds.add(e.msgId); });
    var partial = 0;
    entries.forEach(function (e) {
      if (e.sidechain && e.hasRequestId && e.msgId && mainIds.has(e.msgId)) return;
      var row = rowFor(rows, "claude_code", utcDay(e.ms), e.model, e.speed);
      row.requests += 1;
      row.t.input_uncached += e.input;
      row.t.cache_read += e.cacheRead;
      // The 5m/1h split when the log has it, else the flat field: never both.
      if (e.split) {
        row.t.cache_write_5m += e.cw5m;
        row.t.cache_write_1h += e.cw1h;
      } else {
        row.t.cache_write_unsplit += e.cwFlat;
      }
      row.t.output += e.output;
      if (e.subagent && !e.final) {
        row.q.partial_output_requests += 1;
        partial += 1;
      }
    });
    return partial;
  };

  // ---- Codex ---------------------------------------------------------------------------------

  function tokenVector(u) {
    if (!u || typeof u !== "object") return null;
    var cw = u.cache_write_input_tokens;
    if (cw === undefined || cw === null) cw = u.cache_creation_input_tokens;
    return {
      input: int(u.input_tokens),
      cached: int(u.cached_input_tokens),
      cacheWrite: int(cw),
      output: int(u.output_tokens),
      reasoning: int(u.reasoning_output_tokens)
    };
  }

  function vectorKey(v) {
    return [v.input, v.cached, v.cacheWrite, v.output, v.reasoning].join(",");
  }

  var FIELDS = ["input", "cached", "cacheWrite", "output", "reasoning"];

  Parser.prototype.readCodex = async function (item, tick) {
    var self = this;
    var state = this.codex;
    var events = []; // compact: {k: "meta"|"turn"|"user"|"tc", ms, ...}
    var meta = null;
    await eachLine(
      item.file,
      function (line) {
        for (var i = 0; i < CODEX_MARKS.length; i++) if (line.indexOf(CODEX_MARKS[i]) !== -1) return true;
        return false;
      },
      function (line) {
        self.progress.lines += 1;
        if (line === null) return;
        var ms;
        // A user turn only marks "the child's own activity has begun": its timestamp is all
        // that is needed, so the (possibly long) prompt is never parsed.
        if (line.indexOf('"user_message"') !== -1 && line.indexOf('"token_count"') === -1 &&
            line.indexOf('"session_meta"') === -1 && line.indexOf('"turn_context"') === -1) {
          var m = /"timestamp"\s*:\s*"([^"]+)"/.exec(line.slice(0, 200));
          ms = m ? Date.parse(m[1]) : NaN;
          if (isFinite(ms)) events.push({ k: "user", ms: ms });
          return;
        }
        var obj;
        try {
          obj = JSON.parse(line);
        } catch (e) {
          state.skipped += 1;
          return;
        }
        ms = Date.parse(obj && obj.timestamp);
        if (!isFinite(ms)) { state.skipped += 1; return; }
        var payload = obj.payload || {};
        if (obj.type === "session_meta") {
          var source = payload.source;
          var spawned = source && typeof source === "object" && source.subagent &&
            source.subagent.thread_spawn ? source.subagent.thread_spawn.parent_thread_id : null;
          var info = {
            k: "meta", ms: ms,
            id: payload.id || null,
            parent: payload.forked_from_id || payload.parent_thread_id || spawned || null,
            forkMs: Date.parse(payload.timestamp)
          };
          if (!isFinite(info.forkMs)) info.forkMs = ms;
          if (!meta) meta = info;
          events.push(info);
        } else if (obj.type === "turn_context") {
          events.push({ k: "turn", ms: ms, model: typeof payload.model === "string" ? payload.model : null });
        } else if (obj.type === "event_msg" && payload.type === "token_count") {
          if (payload.rate_limits && payload.rate_limits.plan_type) state.planHint = true;
          var inf = payload.info;
          if (!inf) return; // the first events carry rate limits only
          events.push({
            k: "tc", ms: ms,
            total: tokenVector(inf.total_token_usage),
            last: tokenVector(inf.last_token_usage),
            model: (typeof inf.model === "string" && inf.model) ||
              (typeof payload.model === "string" && payload.model) || null
          });
        } else if (obj.type === "event_msg" && payload.type === "user_message") {
          events.push({ k: "user", ms: ms });
        }
        tick(false);
      },
      function (n) { self.progress.bytes += n; tick(false); }
    );
    var uuid = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i.exec(item.path);
    var record = {
      id: (meta && meta.id) || (uuid ? uuid[1] : item.path),
      fileUuid: uuid ? uuid[1] : null,
      parent: meta ? meta.parent : null,
      forkMs: meta ? meta.forkMs : null,
      events: events
    };
    state.files.push(record);
    state.byName.set(record.id, record);
    if (record.fileUuid) state.byName.set(record.fileUuid, record);
  };

  Parser.prototype.codexRows = function (rows) {
    var state = this.codex;
    var counted = new Set(); // safety net: (root thread, cumulative vector) counted once
    var missingParents = 0;
    var forks = 0;
    function rootOf(rec) {
      var seen = new Set();
      var cur = rec;
      while (cur.parent && !seen.has(cur.id)) {
        seen.add(cur.id);
        var up = state.byName.get(cur.parent);
        if (!up) return cur.parent;
        cur = up;
      }
      return cur.id;
    }
    state.files.forEach(function (rec) {
      var root = rootOf(rec);
      var parent = rec.parent ? state.byName.get(rec.parent) : null;
      var prev = null;
      var parentSnapshots = null;
      var skipLeading = false;
      var missing = false;
      if (rec.parent) forks += 1;
      if (parent && parent !== rec) {
        // The parent is here: its cumulative snapshots up to the fork are history the child
        // replays; only growth beyond the last of them is the child's own.
        parentSnapshots = new Set();
        parent.events.forEach(function (ev) {
          if (ev.k === "tc" && ev.total && ev.ms <= rec.forkMs) {
            parentSnapshots.add(vectorKey(ev.total));
            prev = ev.total;
          }
        });
      } else if (rec.parent) {
        // The parent is gone: skip the replay burst written right after session_meta (lines
        // within ~50 ms of each other), and anything stamped before the fork itself when the
        // replay kept the original timestamps. The last skipped total is the baseline.
        skipLeading = true;
        missing = true;
        missingParents += 1;
      }
      var model = null;
      var lastMs = null;
      var inBurst = skipLeading;
      var sawMeta = false;
      var firstDayRow = null;
      rec.events.forEach(function (ev) {
        if (inBurst && sawMeta && lastMs !== null && ev.ms - lastMs > BURST_MS && ev.ms >= rec.forkMs) {
          inBurst = false;
        }
        if (ev.k === "meta") { sawMeta = true; lastMs = ev.ms; return; }
        lastMs = ev.ms;
        if (ev.k === "turn") { if (ev.model) model = ev.model; return; }
        if (ev.k !== "tc") return;
        var total = ev.total;
        if (inBurst || (skipLeading && ev.ms < rec.forkMs)) {
          if (total) prev = total;
          return;
        }
        if (parentSnapshots && total && parentSnapshots.has(vectorKey(total))) return;
        var delta = null;
        if (total) {
          var key = root + "|" + vectorKey(total);
          if (counted.has(key)) { prev = total; return; }
          if (prev && vectorKey(prev) === vectorKey(total)) return; // a repeated snapshot
          var base = prev || { input: 0, cached: 0, cacheWrite: 0, output: 0, reasoning: 0 };
          var reset = total.input + total.output < base.input + base.output;
          if (reset) {
            // Compaction or a new thread restarted the counter lower: the turn is in `last`.
            delta = ev.last || total;
          } else {
            delta = {};
            FIELDS.forEach(function (f) { delta[f] = Math.max(0, total[f] - base[f]); });
          }
          counted.add(key);
          prev = total;
        } else {
          delta = ev.last;
        }
        if (!delta) return;
        if (!delta.input && !delta.cached && !delta.cacheWrite && !delta.output) return;
        var useModel = model || ev.model || "unknown";
        var row = rowFor(rows, "codex", utcDay(ev.ms), useModel, null);
        // OpenAI counts cached and cache-write tokens inside input, reasoning inside output.
        var cached = Math.min(delta.cached, delta.input);
        var cacheWrite = Math.min(delta.cacheWrite, delta.input - cached);
        row.requests += 1;
        row.t.input_uncached += delta.input - cached - cacheWrite;
        row.t.cache_read += cached;
        row.t.cache_write_unsplit += cacheWrite;
        row.t.output += delta.output;
        row.t.reasoning += Math.min(delta.reasoning, delta.output);
        if (!firstDayRow) firstDayRow = row;
      });
      if (missing && firstDayRow) firstDayRow.q.fork_parent_missing += 1;
    });
    return { forks: forks, missingParents: missingParents };
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
    utcDay: utcDay
  };
})(typeof self !== "undefined" ? self : this);
