// The Web Worker that reads the picked folder: the page posts {path, file} pairs, this posts
// back progress counts and, at the end, the per-day rows. Nothing here touches the network.
/* global LocalLogsParser */
importScripts("local-logs-parser.js", "local-logs-claude.js", "local-logs-codex.js");

self.onmessage = function (event) {
  var items = event.data.items || [];
  var parser = LocalLogsParser.create();
  parser
    .run(items, function (progress) {
      self.postMessage({ type: "progress", progress: progress });
    })
    .then(function (result) {
      self.postMessage({ type: "done", result: result });
    })
    .catch(function (error) {
      self.postMessage({ type: "error", message: String((error && error.message) || error) });
    });
};
