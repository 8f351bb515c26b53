// Builder rows for the admin's JSON fields (itsm/core/builders.py).
//
// Each `.builder` wraps a text area holding the field's JSON, which is what the form posts.
// This script draws rows from that JSON, writes every change back into it, and closes the
// "Advanced (JSON)" box; editing the JSON there redraws the rows. Problems the server found
// (a JSON list of {group, attribute, message}) are shown on their rows. Kinds:
//   conditions          an agreement's conditions (one object, or a list of them: "any")
//   choices             a catalogue question's choices: rows of value and label
//   variable-condition  show/require a question when another one has a value
//   default             a question's default, offered by the question's type and choices
(function () {
  "use strict";

  // Texts in the page's language from the JavaScript catalogue (/jsi18n/, loaded first);
  // English as written here when it is missing.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // A button; `name` (optional) is what it reads as to assistive technology.
  function button(label, onClick, cls, name) {
    var b = el("button", { type: "button", class: "button builder-button " + (cls || ""), text: label });
    if (name) b.setAttribute("aria-label", name);
    b.addEventListener("click", function (event) { event.preventDefault(); onClick(); });
    return b;
  }

  // The JSON of a text area; empty (or null) is the fallback.
  function parse(text, fallback) {
    if (!text || !text.trim()) return { ok: true, value: fallback };
    try {
      var value = JSON.parse(text);
      return { ok: true, value: value === null ? fallback : value };
    } catch (e) { return { ok: false }; }
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  // A value editor: a select, tick boxes or a text box, by what the values are.
  // spec: {values: [[value, label]], complete, optional, empty, kind}; many: a list.
  function valueEditor(spec, many, current, onChange, label) {
    var values = spec && spec.complete !== false ? spec.values || [] : [];
    var wrap = el("span", { class: "builder-value" });
    if (values.length && !many) {
      var select = el("select", { "aria-label": label });
      var options = values.slice();
      if (spec.optional) options.unshift([spec.empty === undefined ? null : spec.empty, gettext("— empty —")]);
      var found = false;
      options.forEach(function (pair, index) {
        var option = el("option", { value: String(index), text: pair[1] });
        if (same(pair[0], current)) { option.selected = true; found = true; }
        select.appendChild(option);
      });
      if (!found && current !== undefined) {
        var notChoice = interpolate(gettext("%(value)s (not a choice)"), { value: JSON.stringify(current) }, true);
        options.push([current, notChoice]);
        select.appendChild(el("option", { value: String(options.length - 1), text: notChoice, selected: "selected" }));
      }
      select.addEventListener("change", function () { onChange(options[Number(select.value)][0]); });
      wrap.appendChild(select);
      if (!found && current === undefined) onChange(options[0][0]);
      return wrap;
    }
    if (values.length && many) {
      var chosen = Array.isArray(current) ? current.slice() : current === undefined ? [] : [current];
      var box = el("span", { class: "builder-ticks", role: "group", "aria-label": label });
      values.forEach(function (pair) {
        var tick = el("input", { type: "checkbox" });
        tick.checked = chosen.some(function (v) { return same(v, pair[0]); });
        tick.addEventListener("change", function () {
          var next = values.filter(function (p, i) {
            return box.querySelectorAll("input")[i].checked;
          }).map(function (p) { return p[0]; });
          onChange(next);
        });
        box.appendChild(el("label", {}, [tick, document.createTextNode(" " + pair[1])]));
      });
      wrap.appendChild(box);
      return wrap;
    }
    var kind = spec ? spec.kind : "text";
    var numeric = kind === "number" || kind === "reference";
    function convert(text) {
      text = text.trim();
      if (numeric && text !== "" && !isNaN(Number(text))) return Number(text);
      if (kind === "boolean" && (text === "true" || text === "false")) return text === "true";
      return text;
    }
    var shown = current === undefined || current === null ? "" : many && Array.isArray(current) ? current.join(", ") : String(current);
    var input = el("input", { type: "text", value: shown, "aria-label": label, placeholder: many ? gettext("values, separated by commas") : numeric ? gettext("an id or number") : "" });
    input.addEventListener("input", function () {
      if (many) onChange(input.value.split(",").map(convert).filter(function (v) { return v !== ""; }));
      else onChange(convert(input.value));
    });
    wrap.appendChild(input);
    return wrap;
  }

  function problemsOf(builder) {
    var scripts = builder.querySelectorAll(".builder-data script");
    return { config: JSON.parse(scripts[0].textContent || "{}"), problems: JSON.parse(scripts[1].textContent || "[]") || [] };
  }

  function errorLine(message) { return el("p", { class: "builder-error", role: "alert", text: message }); }

  // Wire a builder: draw() returns false when the JSON cannot be shown as rows.
  function wire(builder, draw) {
    var textarea = builder.querySelector("textarea");
    var details = builder.querySelector("details.builder-json");
    var rows = el("div", { class: "builder-rows" });
    builder.insertBefore(rows, details);
    var api = {
      textarea: textarea,
      rows: rows,
      write: function (value) { textarea.value = JSON.stringify(value); },
      redraw: function () {
        rows.textContent = "";
        if (draw(rows) === false) {
          details.open = true;
          rows.appendChild(errorLine(gettext("This JSON cannot be shown as rows; correct it under Advanced (JSON).")));
          return false;
        }
        return true;
      },
      // Draw the first time; the JSON box closes when the rows show everything.
      fresh: true,  // the rows are to be read from the JSON again
      start: function () {
        textarea.addEventListener("change", function () { api.fresh = true; api.redraw(); });
        if (api.redraw()) details.open = false;
        return api;
      },
    };
    return api;
  }

  // Conditions ------------------------------------------------------------------------------

  function conditions(builder) {
    var data = problemsOf(builder);
    var config = data.config, problems = data.problems;
    var typeSelect = document.getElementById(builder.getAttribute("data-record-type"));
    var groups = [];
    var api;

    function attributes() {
      return (typeSelect && config.types[typeSelect.value]) || [];
    }

    function load() {
      var parsed = parse(api.textarea.value, config.shape === "one" ? {} : []);
      if (!parsed.ok) return false;
      var list = config.shape === "one" ? [parsed.value] : parsed.value;
      if (!Array.isArray(list) || !list.every(function (c) { return c && typeof c === "object" && !Array.isArray(c); })) return false;
      groups = list.map(function (condition) {
        return Object.keys(condition).map(function (name) {
          var value = condition[name];
          return Array.isArray(value) ? { attribute: name, operator: "in", value: value } : { attribute: name, operator: "is", value: value };
        });
      });
      return true;
    }

    function save() {
      var list = groups.map(function (rows) {
        var condition = {};
        rows.forEach(function (row) { if (row.attribute) condition[row.attribute] = row.value; });
        return condition;
      });
      api.write(config.shape === "one" ? list[0] || {} : list);
    }

    function problemFor(group, attribute) {
      return problems.filter(function (p) {
        return (config.shape === "one" || p.group === group) && p.attribute === attribute;
      });
    }

    function rowNode(rows, row, group) {
      var known = attributes();
      var spec = known.filter(function (a) { return a.name === row.attribute; })[0];
      var line = el("div", { class: "builder-row" });
      var pick = el("select", { class: "builder-attribute", "aria-label": gettext("Attribute") });
      pick.appendChild(el("option", { value: "", text: gettext("— attribute —") }));
      known.forEach(function (a) {
        var used = rows.some(function (r) { return r !== row && r.attribute === a.name; });
        var option = el("option", { value: a.name, text: a.label });
        if (used) option.disabled = true;
        if (a.name === row.attribute) option.selected = true;
        pick.appendChild(option);
      });
      if (row.attribute && !spec) pick.appendChild(el("option", { value: row.attribute, text: interpolate(gettext("%(attribute)s (unknown)"), { attribute: row.attribute }, true), selected: "selected" }));
      pick.addEventListener("change", function () {
        row.attribute = pick.value;
        row.value = row.operator === "in" ? [] : undefined;
        problems = [];
        save(); api.redraw();
      });
      var operator = el("select", { class: "builder-operator", "aria-label": gettext("Operator") });
      Object.keys(config.operators).forEach(function (key) {
        var option = el("option", { value: key, text: config.operators[key] });
        if (key === row.operator) option.selected = true;
        operator.appendChild(option);
      });
      operator.addEventListener("change", function () {
        row.operator = operator.value;
        if (row.operator === "in") row.value = row.value === undefined ? [] : [row.value];
        else row.value = Array.isArray(row.value) ? row.value[0] : row.value;
        save(); api.redraw();
      });
      line.appendChild(pick);
      line.appendChild(operator);
      if (row.attribute) {
        line.appendChild(valueEditor(spec, row.operator === "in", row.value, function (value) { row.value = value; save(); }, gettext("Value")));
      }
      line.appendChild(button(gettext("Remove"), function () {
        rows.splice(rows.indexOf(row), 1);
        save(); api.redraw();
      }, "builder-remove", interpolate(gettext("Remove %(name)s"), { name: spec ? spec.label : row.attribute || gettext("row") }, true)));
      if (row.attribute) {
        problemFor(group, row.attribute).forEach(function (p) { line.appendChild(errorLine(p.message)); });
      }
      return line;
    }

    function groupNode(rows, index) {
      var box = el("fieldset", { class: "builder-group" });
      if (config.shape !== "one") box.appendChild(el("legend", { text: interpolate(gettext("Condition %(number)s: all of"), { number: index + 1 }, true) }));
      rows.forEach(function (row) { box.appendChild(rowNode(rows, row, index)); });
      problems.filter(function (p) { return p.group === index && !p.attribute; }).forEach(function (p) { box.appendChild(errorLine(p.message)); });
      var tools = el("div", { class: "builder-tools" });
      tools.appendChild(button(gettext("Add attribute"), function () {
        rows.push({ attribute: "", operator: "is", value: undefined });
        api.redraw();
      }, "builder-add"));
      if (config.shape !== "one") {
        tools.appendChild(button(gettext("Remove condition"), function () {
          groups.splice(index, 1);
          save(); api.redraw();
        }, "builder-remove", interpolate(gettext("Remove condition %(number)s"), { number: index + 1 }, true)));
      }
      box.appendChild(tools);
      return box;
    }

    function draw(rows) {
      if (api.fresh && !load()) return false;
      api.fresh = false;
      if (typeSelect && !typeSelect.value) {
        rows.appendChild(el("p", { class: "builder-note", text: gettext("Choose the record type first: the attributes are its own.") }));
      }
      if (config.shape === "one") {
        if (!groups.length) groups = [[]];
        rows.appendChild(el("p", { class: "builder-note", text: groups[0].length ? gettext("All of these must match.") : gettext("No conditions: every record of the type.") }));
        rows.appendChild(groupNode(groups[0], 0));
      } else {
        rows.appendChild(el("p", { class: "builder-note", text: groups.length ? gettext("Any one of these conditions.") : gettext("No conditions.") }));
        groups.forEach(function (group, index) {
          if (index) rows.appendChild(el("p", { class: "builder-or", text: gettext("or") }));
          rows.appendChild(groupNode(group, index));
        });
        rows.appendChild(button(gettext("Add condition"), function () {
          groups.push([{ attribute: "", operator: "is", value: undefined }]);
          api.redraw();
        }, "builder-add"));
      }
      problems.filter(function (p) { return p.group === null && !p.attribute; }).forEach(function (p) { rows.appendChild(errorLine(p.message)); });
      return true;
    }

    api = wire(builder, draw);
    api.start();
    if (typeSelect) typeSelect.addEventListener("change", function () { api.redraw(); });
  }

  // Catalogue questions ----------------------------------------------------------------------

  // The sibling field of the same inline form (variables-0-default → variables-0-type).
  function sibling(textarea, name) {
    var prefix = textarea.name.replace(/[^-]+$/, "");
    return textarea.form ? textarea.form.elements[prefix + name] : null;
  }

  function choicesOf(textarea) {
    if (!textarea) return [];
    var parsed = parse(textarea.value, []);
    if (!parsed.ok || !Array.isArray(parsed.value)) return [];
    return parsed.value.filter(function (c) { return c && typeof c.value === "string"; }).map(function (c) {
      return [c.value, c.label || c.value];
    });
  }

  // What a question takes, for a value editor: by its type and choices.
  function questionSpec(type, choices) {
    if (type === "choice" || type === "multichoice") return { values: choices, complete: true, kind: "text" };
    if (type === "boolean") return { values: [[true, gettext("Yes")], [false, gettext("No")]], complete: true, kind: "boolean" };
    if (type === "number" || type === "ci" || type === "attachment") return { values: [], kind: "number" };
    return { values: [], kind: "text" };
  }

  function choicesBuilder(builder) {
    var data = problemsOf(builder);
    var list = [];
    var api;
    function draw(rows) {
      var parsed = parse(api.textarea.value, []);
      if (!parsed.ok || !Array.isArray(parsed.value)) return false;
      list = parsed.value.map(function (c) { return { value: c && c.value, label: c && c.label }; });
      list.forEach(function (choice, index) {
        var line = el("div", { class: "builder-row" });
        var value = el("input", { type: "text", value: choice.value || "", "aria-label": gettext("Value"), placeholder: gettext("value") });
        var label = el("input", { type: "text", value: choice.label || "", "aria-label": gettext("Label"), placeholder: gettext("label (shown)") });
        value.addEventListener("input", function () { choice.value = value.value; save(); });
        label.addEventListener("input", function () { choice.label = label.value; save(); });
        line.appendChild(value);
        line.appendChild(label);
        line.appendChild(button(gettext("Remove"), function () { list.splice(index, 1); save(); api.redraw(); }, "builder-remove", interpolate(gettext("Remove choice %(number)s"), { number: index + 1 }, true)));
        data.problems.filter(function (p) { return p.group === index; }).forEach(function (p) { line.appendChild(errorLine(p.message)); });
        rows.appendChild(line);
      });
      data.problems.filter(function (p) { return p.group === null; }).forEach(function (p) { rows.appendChild(errorLine(p.message)); });
      rows.appendChild(button(gettext("Add choice"), function () { list.push({ value: "", label: "" }); save(); api.redraw(); }, "builder-add"));
      return true;
    }
    function save() {
      api.write(list.map(function (c) { return c.label ? { value: c.value || "", label: c.label } : { value: c.value || "" }; }));
      api.textarea.dispatchEvent(new Event("builder:changed", { bubbles: true }));
    }
    api = wire(builder, draw);
    api.start();
    var type = sibling(api.textarea, "type");
    function toggle() {
      var wanted = type && (type.value === "choice" || type.value === "multichoice");
      builder.classList.toggle("builder-off", !wanted);
    }
    if (type) { type.addEventListener("change", toggle); toggle(); }
  }

  // The other questions of the same item: the name boxes of the inline forms on the page.
  function otherQuestions(textarea) {
    var own = sibling(textarea, "name");
    var group = textarea.closest(".inline-group") || document;
    var found = [];
    group.querySelectorAll('input[name$="-name"]').forEach(function (input) {
      if (input === own || !input.value || input.closest(".empty-form")) return;
      var remove = sibling(input, "DELETE");
      if (remove && remove.checked) return;
      found.push({ name: input.value, input: input });
    });
    return found;
  }

  function variableCondition(builder) {
    var api;
    var data = problemsOf(builder);
    function draw(rows) {
      var parsed = parse(api.textarea.value, {});
      if (!parsed.ok || typeof parsed.value !== "object" || Array.isArray(parsed.value) || parsed.value === null) return false;
      var condition = parsed.value;
      var line = el("div", { class: "builder-row" });
      var pick = el("select", { "aria-label": gettext("Question") });
      pick.appendChild(el("option", { value: "", text: gettext("— always —") }));
      var others = otherQuestions(api.textarea);
      others.forEach(function (q) {
        var option = el("option", { value: q.name, text: q.name });
        if (q.name === condition.variable) option.selected = true;
        pick.appendChild(option);
      });
      if (condition.variable && !others.some(function (q) { return q.name === condition.variable; })) {
        pick.appendChild(el("option", { value: condition.variable, text: interpolate(gettext("%(name)s (no such question)"), { name: condition.variable }, true), selected: "selected" }));
      }
      pick.addEventListener("change", function () {
        api.write(pick.value ? { variable: pick.value } : {});
        api.redraw();
      });
      line.appendChild(pick);
      if (condition.variable) {
        line.appendChild(el("span", { class: "builder-operator", text: gettext("equals") }));
        var other = others.filter(function (q) { return q.name === condition.variable; })[0];
        var type = other ? sibling(other.input, "type") : null;
        var spec = questionSpec(type && type.value, other ? choicesOf(sibling(other.input, "choices")) : []);
        var many = type && type.value === "multichoice";
        if (condition.equals === undefined && (many || !spec.values.length)) {
          condition.equals = many ? [] : "";  // a single choice picks its first itself
          api.write(condition);
        }
        line.appendChild(valueEditor(spec, many, condition.equals, function (value) {
          api.write({ variable: condition.variable, equals: value });
        }, gettext("Value")));
      }
      data.problems.forEach(function (p) { line.appendChild(errorLine(p.message)); });
      rows.appendChild(line);
      return true;
    }
    api = wire(builder, draw);
    api.start();
    // Names, types and choices typed elsewhere on the page change what is offered.
    var group = api.textarea.closest(".inline-group") || document;
    group.addEventListener("change", function (event) {
      if (event.target !== api.textarea && !builder.contains(event.target)) api.redraw();
    });
    group.addEventListener("builder:changed", function (event) {
      if (event.target !== api.textarea) api.redraw();
    });
  }

  function defaultBuilder(builder) {
    var api;
    var data = problemsOf(builder);
    var type = null;
    function draw(rows) {
      var parsed = parse(api.textarea.value, null);
      if (!parsed.ok) return false;
      var kind = type ? type.value : "text";
      var spec = questionSpec(kind, choicesOf(sibling(api.textarea, "choices")));
      var many = kind === "multichoice";
      var current = parsed.value === null ? undefined : parsed.value;
      var line = el("div", { class: "builder-row" });
      if (spec.values.length && !many) {
        spec.optional = true;
        spec.empty = null;
      }
      line.appendChild(valueEditor(spec, many, current, function (value) {
        api.write(value === "" || value === undefined || (Array.isArray(value) && !value.length) ? null : value);
        if (value === null) api.textarea.value = "";
      }, gettext("Default")));
      data.problems.forEach(function (p) { line.appendChild(errorLine(p.message)); });
      rows.appendChild(line);
      return true;
    }
    type = sibling(builder.querySelector("textarea"), "type");
    api = wire(builder, draw);
    api.start();
    if (type) type.addEventListener("change", function () { api.redraw(); });
    var form = api.textarea.closest(".inline-related") || document;
    form.addEventListener("builder:changed", function (event) {
      if (event.target !== api.textarea) api.redraw();
    });
  }

  var KINDS = {
    conditions: conditions,
    choices: choicesBuilder,
    "variable-condition": variableCondition,
    default: defaultBuilder,
  };

  // Approval levels: the manager approves alone, so a manager level takes no team.
  function approvalLevels(root) {
    root.querySelectorAll('select[name^="approval_levels-"][name$="-kind"]').forEach(function (kind) {
      if (kind.getAttribute("data-ready") || kind.closest(".empty-form")) return;
      kind.setAttribute("data-ready", "true");
      var team = sibling(kind, "team");
      if (!team) return;
      function toggle() { team.disabled = kind.value === "manager"; }
      kind.addEventListener("change", toggle);
      toggle();
    });
  }

  function start(root) {
    approvalLevels(root);
    root.querySelectorAll(".builder[data-builder]").forEach(function (builder) {
      if (builder.getAttribute("data-ready") || builder.closest(".empty-form")) return;
      var kind = KINDS[builder.getAttribute("data-builder")];
      if (!kind) return;
      builder.setAttribute("data-ready", "true");
      kind(builder);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { start(document); });
  // An inline form added by the admin ("Add another Variable").
  document.addEventListener("formset:added", function (event) { start(event.target); });
})();
