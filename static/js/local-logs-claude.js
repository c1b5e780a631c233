// Claude Code transcripts (~/.claude/projects/**.jsonl, subagents/ and subagents/workflows/
// included) for local-logs-parser.js.
//
// Claude Code writes one line per content block of a response, each with a copy of `usage`
// whose output_tokens grows; subagent files may never get a final copy. Dedupe by
// message.id + requestId (with fallbacks) and keep the field-wise maximum.
(function (api) {
  "use strict";

  var Parser = api.internal.Parser;
  var int = api.internal.int;
  var utcDay = api.internal.utcDay;
  var eachLine = api.internal.eachLine;
  var rowFor = api.internal.rowFor;

  var CLAUDE_MARK = '"usage":{';

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

})(typeof self !== "undefined" ? self.LocalLogsParser : this.LocalLogsParser);
