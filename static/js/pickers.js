// Reference pickers (itsm/core/widgets.py): a plain <select> or text box marked
// data-picker becomes a search-as-you-type box. Suggestions come from the lookup URL in
// data-picker (the rows the person may see); up/down move, Enter picks, Escape closes.
// The plain control stays in the form, hidden, and is what is posted; it gets a change
// event when the choice changes (dependent pickers and htmx filters listen to it).
(function () {
  "use strict";

  // Texts in the page's language from the JavaScript catalogue (/jsi18n/, loaded first);
  // English as written here when it is missing.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };

  var DELAY_MS = 200;
  var counter = 0;

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function changed(native) {
    native.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // The row a plain control holds now: {value, label, detail, badge, data}.
  function itemOfOption(option) {
    var data = {};
    Object.keys(option.dataset).forEach(function (key) {
      if (["label", "detail", "badge", "shortcut"].indexOf(key) < 0) data[key] = option.dataset[key];
    });
    return {
      value: option.value, label: option.dataset.label || option.textContent.trim(), detail: option.dataset.detail || "",
      badge: option.dataset.badge || "", data: data, shortcut: "shortcut" in option.dataset
    };
  }

  function chosenItems(native) {
    if (native.tagName === "SELECT") {
      return Array.prototype.filter.call(native.options, function (o) { return o.selected && o.value; }).map(itemOfOption);
    }
    if (!native.value) return [];
    return [{ value: native.value, label: native.dataset.label || native.value, detail: native.dataset.detail || "", badge: native.dataset.badge || "", data: {} }];
  }

  function optionFor(native, item) {
    var found = Array.prototype.find.call(native.options, function (o) { return o.value === item.value; });
    if (found) return found;
    var option = new Option(item.label, item.value);
    option.dataset.label = item.label;
    if (item.detail) option.dataset.detail = item.detail;
    if (item.badge) option.dataset.badge = item.badge;
    Object.keys(item.data || {}).forEach(function (key) { option.dataset[key] = item.data[key]; });
    native.add(option);
    return option;
  }

  function build(native) {
    native.setAttribute("data-picker-ready", "");
    var multiple = native.multiple;
    var base = native.id || "picker-" + (++counter);
    var wrap = make("div", "picker" + (multiple ? " picker-multi" : ""));
    var chips = multiple ? make("ul", "picker-chips") : null;
    var row = make("div", "picker-row");
    var input = make("input", "picker-input");
    var list = make("ul", "picker-list");
    var flag = make("span", "badge vip-badge picker-flag");
    var state = { items: [], active: -1, timer: null, seq: 0, open: false, pending: false, pickFirst: false };

    input.type = "text";
    input.id = base + "-picker";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", base + "-options");
    input.placeholder = native.getAttribute("data-placeholder") || (multiple ? gettext("Type to add…") : gettext("Type to search…"));
    // The hidden control cannot take the browser's "required" check: the box takes it.
    if (native.required) { input.required = true; native.required = false; }
    list.id = base + "-options";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    flag.hidden = true;

    var label = native.id && document.querySelector("label[for='" + native.id + "']");
    var name = label ? label.textContent.replace(/\s*\*$/, "").trim() : native.getAttribute("aria-label") || "";
    if (label) label.htmlFor = input.id;
    else if (name) input.setAttribute("aria-label", name);
    if (name) list.setAttribute("aria-label", interpolate(gettext("%(field)s: suggestions"), { field: name }, true));
    var described = native.getAttribute("aria-describedby");
    if (described) input.setAttribute("aria-describedby", described);

    native.hidden = true;
    native.tabIndex = -1;
    native.setAttribute("aria-hidden", "true");
    native.parentNode.insertBefore(wrap, native.nextSibling);
    if (chips) wrap.appendChild(chips);
    row.appendChild(input);
    row.appendChild(flag);
    var cardButton = null;
    if (native.dataset.card) {
      cardButton = make("button", "picker-card-btn", "i");
      cardButton.type = "button";
      cardButton.setAttribute("aria-label", gettext("Contact card"));
      cardButton.title = gettext("Contact card");
      row.appendChild(cardButton);
      bindCard(cardButton, function () {
        return native.value ? native.dataset.card.replace("__value__", encodeURIComponent(native.value)) : "";
      });
    }
    wrap.appendChild(row);
    wrap.appendChild(list);
    // The box's own change events are not the field's (htmx filters listen to the form).
    input.addEventListener("change", function (event) { event.stopPropagation(); });

    function shown() {
      var items = chosenItems(native);
      if (multiple) {
        chips.textContent = "";
        items.forEach(function (item) {
          var chip = make("li", "chip");
          chip.appendChild(make("span", "", item.label));
          if (item.badge) chip.appendChild(make("span", "badge vip-badge", item.badge));
          var remove = make("button", "chip-remove", "×");
          remove.type = "button";
          remove.setAttribute("aria-label", interpolate(gettext("Remove %(name)s"), { name: item.label }, true));
          remove.addEventListener("click", function () { unpick(item.value); input.focus(); });
          chip.appendChild(remove);
          chips.appendChild(chip);
        });
      } else {
        var item = items[0];
        input.value = item ? item.label : "";
        flag.textContent = item ? item.badge : "";
        flag.hidden = !(item && item.badge);
        if (cardButton) cardButton.hidden = !item;
        input.title = item && item.detail ? item.detail : "";
      }
    }

    function close() {
      state.open = false;
      state.active = -1;
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function mark(index) {
      var options = list.querySelectorAll("[role=option]:not([aria-disabled])");
      if (!options.length) return;
      state.active = (index + options.length) % options.length;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === state.active ? "true" : "false");
        option.classList.toggle("active", i === state.active);
      });
      input.setAttribute("aria-activedescendant", options[state.active].id);
      options[state.active].scrollIntoView({ block: "nearest" });
    }

    function render(items, more) {
      list.textContent = "";
      state.items = items;
      items.forEach(function (item, i) {
        var option = make("li", "picker-option");
        option.id = base + "-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.index = String(i);
        var line = make("span", "picker-label", item.label);
        option.appendChild(line);
        if (item.badge) option.appendChild(make("span", "badge vip-badge", item.badge));
        if (item.detail) option.appendChild(make("small", "picker-detail", item.detail));
        option.addEventListener("mousedown", function (event) { event.preventDefault(); pick(item); });
        list.appendChild(option);
      });
      if (!items.length) {
        var none = make("li", "picker-empty muted", gettext("No matches."));
        none.setAttribute("role", "option");
        none.setAttribute("aria-disabled", "true");
        list.appendChild(none);
      } else if (more) {
        var hint = make("li", "picker-more muted", gettext("More match: type more to narrow."));
        hint.setAttribute("role", "option");
        hint.setAttribute("aria-disabled", "true");
        list.appendChild(hint);
      }
      state.open = true;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      state.active = -1;
    }

    function shortcuts(term) {
      if (native.tagName !== "SELECT") return [];
      var lower = term.toLowerCase();
      return Array.prototype.filter.call(native.options, function (o) {
        return "shortcut" in o.dataset && o.textContent.toLowerCase().indexOf(lower) >= 0;
      }).map(itemOfOption);
    }

    function search(term) {
      var url = new URL(native.getAttribute("data-picker"), window.location.href);
      url.searchParams.set("q", term);
      var depends = native.dataset.dependsOn && document.getElementById(native.dataset.dependsOn);
      if (depends && depends.value) url.searchParams.set(native.dataset.dependsParam, depends.value);
      var seq = ++state.seq;
      state.pending = true;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [], more: false }; })
        .then(function (answer) {
          if (seq !== state.seq) return;
          state.pending = false;
          if (document.activeElement !== input) return;
          var chosen = multiple ? chosenItems(native).map(function (i) { return i.value; }) : [];
          var found = answer.results.filter(function (item) { return chosen.indexOf(item.value) < 0; });
          render(shortcuts(term).concat(found), answer.more);
          if (state.items.length) mark(0);
          if (state.pickFirst && state.items.length) pick(state.items[0]);
          state.pickFirst = false;
        })
        .catch(function () { state.pending = false; close(); });
    }

    function later(term) {
      clearTimeout(state.timer);
      state.pending = true;
      state.pickFirst = false;
      state.timer = setTimeout(function () { search(term); }, DELAY_MS);
    }

    function currentTerm() {
      var items = chosenItems(native);
      return !multiple && items[0] && input.value === items[0].label ? "" : input.value.trim();
    }

    function pick(item) {
      if (multiple) {
        optionFor(native, item).selected = true;
        input.value = "";
      } else if (native.tagName === "SELECT") {
        optionFor(native, item).selected = true;
      } else {
        native.value = item.value;
        native.dataset.label = item.label;
        native.dataset.detail = item.detail || "";
        native.dataset.badge = item.badge || "";
      }
      close();
      shown();
      changed(native);
      fillDependency(item);
    }

    // An assignee picked before their group: the group is theirs when they have one team.
    function fillDependency(item) {
      var depends = native.dataset.dependsOn && document.getElementById(native.dataset.dependsOn);
      if (!depends || depends.value || depends.tagName !== "SELECT") return;
      var values = ((item.data || {})[native.dataset.dependsParam] || "").split(" ").filter(Boolean);
      if (values.length !== 1) return;
      var option = Array.prototype.find.call(depends.options, function (o) { return o.value === values[0]; });
      if (!option) return;
      option.selected = true;
      changed(depends);
    }

    function unpick(value) {
      Array.prototype.forEach.call(native.options, function (o) { if (o.value === value) o.selected = false; });
      shown();
      changed(native);
    }

    function clear() {
      if (native.tagName === "SELECT") {
        Array.prototype.forEach.call(native.options, function (o) { o.selected = false; });
        if (!multiple) native.value = "";
      } else {
        native.value = "";
      }
      shown();
      changed(native);
    }
    native.pickerClear = clear;

    input.addEventListener("input", function () {
      if (!multiple && !input.value.trim() && chosenItems(native).length) clear();
      later(input.value.trim());
    });
    input.addEventListener("click", function () { if (!state.open) search(currentTerm()); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!state.open) { search(currentTerm()); return; }
        mark(state.active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        if (!state.open) {
          // Typed but not yet answered: the first suggestion is taken when it comes (the
          // form is not sent with a half-typed name).
          var items = chosenItems(native);
          var typed = input.value.trim() && !(items[0] && input.value === items[0].label);
          if (!state.pending && !typed) return;
          event.preventDefault();
          state.pickFirst = true;
          if (!state.pending) search(currentTerm());
          return;
        }
        event.preventDefault();
        if (state.active >= 0 && state.items[state.active]) pick(state.items[state.active]);
      } else if (event.key === "Escape") {
        if (!state.open) return;
        event.preventDefault();
        event.stopPropagation();
        close();
        shown();
      } else if (event.key === "Backspace" && multiple && !input.value) {
        var items = chosenItems(native);
        if (items.length) unpick(items[items.length - 1].value);
      }
    });
    input.addEventListener("blur", function () {
      setTimeout(function () { if (document.activeElement !== input) { close(); if (!multiple) shown(); } }, 100);
    });
    native.addEventListener("change", function () { if (!state.open) shown(); });
    shown();
  }

  // Dependent choices: when the field a picker follows changes, a choice that does not
  // belong to the new value (a subcategory of another category, an assignee outside the
  // group) is cleared.
  document.addEventListener("change", function (event) {
    var source = event.target;
    if (!source.id) return;
    document.querySelectorAll("[data-picker][data-depends-on='" + source.id + "']").forEach(function (native) {
      var param = native.dataset.dependsParam;
      var keep = chosenItems(native).every(function (item) {
        var values = (item.data[param] || "").split(" ");
        return source.value && values.indexOf(source.value) >= 0;
      });
      if (!keep && native.pickerClear) native.pickerClear();
    });
  });

  // Contact cards: on hover or focus of a button (or any element with data-contact-card,
  // the card's URL), the person's card is fetched and shown beside it.
  var card = null;
  var cache = {};
  function hideCard() { if (card) { card.hidden = true; } }
  function showCard(anchor, url) {
    if (!url) return;
    if (!card) {
      card = make("div", "contact-card");
      card.id = "contact-card";
      card.setAttribute("role", "tooltip");
      card.hidden = true;
      document.body.appendChild(card);
      card.addEventListener("mouseleave", hideCard);
    }
    var place = function (html) {
      card.innerHTML = html;  // the server's escaped template
      var box = anchor.getBoundingClientRect();
      card.style.top = window.scrollY + box.bottom + 4 + "px";
      card.style.left = Math.max(8, Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - 320)) + "px";
      card.hidden = false;
      anchor.setAttribute("aria-describedby", card.id);
    };
    if (cache[url]) { place(cache[url]); return; }
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (html) { cache[url] = html; place(html); } });
  }
  function bindCard(anchor, url) {
    var open = function () { showCard(anchor, url()); };
    anchor.addEventListener("mouseenter", open);
    anchor.addEventListener("focus", open);
    anchor.addEventListener("click", open);
    anchor.addEventListener("mouseleave", function (event) { if (!card || !card.contains(event.relatedTarget)) hideCard(); });
    anchor.addEventListener("blur", hideCard);
    anchor.addEventListener("keydown", function (event) { if (event.key === "Escape") hideCard(); });
  }

  // Within root, and root itself (htmx announces each element a swap brings in).
  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  function init(root) {
    root = root || document;
    within(root, "[data-picker]:not([data-picker-ready])").forEach(build);
    within(root, "[data-contact-card]:not([data-card-ready])").forEach(function (anchor) {
      anchor.setAttribute("data-card-ready", "");
      bindCard(anchor, function () { return anchor.getAttribute("data-contact-card"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
