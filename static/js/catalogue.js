// Portal order form: show and require questions on the answers to others.
// Each question's wrapper carries data-var, data-required, data-show-when and
// data-require-when ({"variable": "kind", "equals": "laptop"}); the server checks the same
// rules again (catalogue.variables.validate), this only spares a round trip.
(function () {
  "use strict";

  function valueOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    if (!inputs.length) return undefined;
    var first = inputs[0];
    if (first.type === "radio") {
      for (var i = 0; i < inputs.length; i++) if (inputs[i].checked && !inputs[i].disabled) return inputs[i].value;
      return undefined;
    }
    if (first.type === "checkbox") {
      var list = [];
      inputs.forEach(function (box) { if (box.checked && !box.disabled) list.push(box.value); });
      return list;
    }
    return first.disabled || first.value === "" ? undefined : first.value;
  }

  function holds(form, condition) {
    if (!condition) return true;
    var value = valueOf(form, condition.variable);
    if (value === undefined) return false;
    if (Array.isArray(value)) return JSON.stringify(value) === JSON.stringify(condition.equals);
    return String(value) === String(condition.equals);
  }

  function parse(text) {
    if (!text) return null;
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  function update(form) {
    // Repeat so that a hidden question also hides the ones depending on it.
    for (var pass = 0; pass < 5; pass++) {
      var changed = false;
      form.querySelectorAll("[data-var]").forEach(function (wrapper) {
        var shown = holds(form, parse(wrapper.getAttribute("data-show-when")));
        var requireWhen = parse(wrapper.getAttribute("data-require-when"));
        var required = shown && (wrapper.getAttribute("data-required") === "true" || (requireWhen && holds(form, requireWhen)));
        if (wrapper.hidden === shown) { wrapper.hidden = !shown; changed = true; }
        wrapper.querySelectorAll("input, select, textarea").forEach(function (input) {
          input.disabled = !shown;
          var group = input.type === "checkbox";
          if (!group) input.required = required;
          input.setAttribute("aria-required", required ? "true" : "false");
        });
        wrapper.querySelectorAll("[data-req-mark]").forEach(function (mark) { mark.hidden = !required; });
        wrapper.querySelectorAll("[data-condition-note]").forEach(function (note) { note.hidden = true; });
      });
      if (!changed) break;
    }
  }

  function init() {
    document.querySelectorAll("form[data-order-form]").forEach(function (form) {
      update(form);
      form.addEventListener("change", function () { update(form); });
      form.addEventListener("input", function () { update(form); });
      var firstError = form.querySelector(".has-error input, .has-error select, .has-error textarea");
      if (firstError) firstError.focus();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
