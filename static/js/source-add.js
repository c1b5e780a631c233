// Connect a source: pre-select the vendor from the pasted key's prefix (the server still checks
// the key's shape and the vendor's answer decides). Runs in the browser only; nothing is sent.
(function () {
  "use strict";
  var key = document.querySelector('input[name="api_key"]');
  if (!key) return;
  var PREFIXES = [
    ["sk-ant-", "anthropic"],
    ["sk-admin-", "openai"],
    ["sk-proj-", "openai"],
    ["sk-", "openai"],
    ["crsr_", "cursor"],
    ["key_", "cursor"],
  ];
  function preselect() {
    var value = key.value.trim();
    for (var i = 0; i < PREFIXES.length; i++) {
      if (value.indexOf(PREFIXES[i][0]) === 0) {
        var radio = document.querySelector('input[name="vendor"][value="' + PREFIXES[i][1] + '"]');
        if (radio) radio.checked = true;
        return;
      }
    }
  }
  key.addEventListener("input", preselect);
  key.addEventListener("paste", function () { setTimeout(preselect, 0); });
})();
