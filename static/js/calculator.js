// The footprint calculator: asks POST /api/v1/footprint and shows the answer; optionally counts a
// prompt's tokens with Anthropic's count_tokens, straight from this browser with the visitor's
// own key (this page's Content-Security-Policy allows exactly that origin). The key is never
// sent to our server and never stored.
(function () {
  "use strict";
  var form = document.getElementById("calculator");
  if (!form) return;
  var TYPES = ["output", "uncached_input", "cache_write", "cache_read"];
  document.querySelectorAll("[data-needs-js]").forEach(function (el) { el.hidden = false; });

  function field(name) { return document.querySelector('[data-field="' + name + '"]'); }
  function number(value, digits) {
    return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits });
  }
  function wholeTokens(text) {
    var cleaned = String(text).replace(/[,_\s]/g, "");
    if (cleaned === "") return 0;
    if (!/^\d+$/.test(cleaned)) return NaN;
    return Number(cleaned);
  }
  function showError(message) {
    var error = document.getElementById("calc-error");
    error.textContent = message;
    error.hidden = false;
    document.getElementById("calc-figures").hidden = true;
  }
  function show(quote) {
    document.getElementById("calc-error").hidden = true;
    field("price_usd").textContent = "$" + quote.price_usd;
    field("model_class").textContent = quote.model_class;
    field("vendor").textContent = quote.vendor;
    field("energy_kwh").textContent = number(quote.energy_kwh, 3) + " kWh";
    field("co2e_kg").textContent = number(quote.co2e_kg, 3) + " kg";
    field("water_l").textContent = number(quote.water_l, 2) + " L";
    field("coefficient_set").textContent = quote.coefficient_set;
    field("unclassified").hidden = quote.classified;
    document.querySelector('[data-link="class"]').href =
      document.querySelector('[data-link="class"]').href.split("#")[0] + "#class_energy-" + quote.model_class;
    document.getElementById("calc-figures").hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var tokens = {};
    for (var i = 0; i < TYPES.length; i++) {
      var value = wholeTokens(document.getElementById(TYPES[i]).value);
      if (isNaN(value)) { showError("Token counts are whole numbers."); return; }
      tokens[TYPES[i]] = value;
    }
    var body = { model: document.getElementById("model").value, tokens: tokens };
    var vendor = document.getElementById("vendor").value;
    if (vendor) body.vendor = vendor;
    fetch(form.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "The calculator could not answer.");
        show(data);
      });
    }).catch(function (error) { showError(error.message); });
  });

  document.getElementById("apply-mix").addEventListener("click", function () {
    var volume = wholeTokens(document.getElementById("volume").value);
    if (isNaN(volume)) { showError("The monthly volume is a whole number of tokens."); return; }
    var shares = TYPES.map(function (t) { return Number(document.getElementById("mix-" + t).value) || 0; });
    var total = shares.reduce(function (a, b) { return a + b; }, 0);
    if (total <= 0) { showError("The mix adds up to nothing."); return; }
    TYPES.forEach(function (t, i) {
      document.getElementById(t).value = String(Math.round(volume * shares[i] / total));
    });
  });

  var countButton = document.getElementById("count-button");
  countButton.addEventListener("click", function () {
    var key = document.getElementById("anthropic-key");
    var result = document.getElementById("count-result");
    var model = document.getElementById("model").value;
    result.textContent = "Counting…";
    fetch("https://api.anthropic.com/v1/messages/count_tokens", {
      method: "POST",
      headers: {
        "x-api-key": key.value.trim(),
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
        "anthropic-dangerous-direct-browser-access": "true",
      },
      body: JSON.stringify({
        model: /^claude/.test(model) ? model : "claude-sonnet-4-5",
        messages: [{ role: "user", content: document.getElementById("prompt").value }],
      }),
      credentials: "omit",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error((data.error && data.error.message) || "Anthropic refused.");
        result.textContent = number(data.input_tokens, 0) + " input tokens — set as uncached input.";
        document.getElementById("uncached_input").value = String(data.input_tokens);
      });
    }).catch(function (error) {
      result.textContent = "Could not count: " + error.message;
    });
  });
})();
