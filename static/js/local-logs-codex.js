// Codex rollouts (~/.codex/sessions and archived_sessions) for local-logs-parser.js.
//
// token_count events carry a thread-cumulative total and the last turn; forked and subagent
// rollouts replay their parent's events, so counting is by cumulative deltas with the parent's
// history subtracted, and a safety net drops a (root thread, total) counted twice.
(function (api) {
  "use strict";

  var Parser = api.internal.Parser;
  var int = api.internal.int;
  var utcDay = api.internal.utcDay;
  var eachLine = api.internal.eachLine;
  var rowFor = api.internal.rowFor;

  var BURST_MS = 50; // a forked rollout writes its replayed history within milliseconds
  var CODEX_MARKS = ['"token_count"', '"session_meta"', '"turn_context"', '"user_message"'];

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

})(typeof self !== "undefined" ? self.LocalLogsParser : this.LocalLogsParser);
