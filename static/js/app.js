// Keyboard-friendly workspace: small, dependency-free helpers (htmx does the rest).
(function () {
  "use strict";

  // Texts in the page's language from the JavaScript catalogue (/jsi18n/, loaded first);
  // English as written here when it is missing.
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // Dialogs that ask for the fields a state change requires.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog) { dialog.showModal(); var first = dialog.querySelector("select, textarea, input:not([type=hidden])"); if (first) first.focus(); }
    }
    if (event.target.closest("[data-close-dialog]")) {
      event.target.closest("dialog").close();
    }
    var all = event.target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll("#bulk-form input[name=numbers]").forEach(function (box) { box.checked = all.checked; });
    }
    var row = event.target.closest("tr[data-href]");
    if (row && !event.target.closest("a, button, input, label, td.pick")) {
      window.location = row.getAttribute("data-href");
    }
  });

  // The composer's hint follows what is being written: a public reply or a work note.
  document.addEventListener("change", function (event) {
    if (event.target.name !== "internal" || event.target.type !== "radio") return;
    var body = event.target.form && event.target.form.querySelector("textarea[data-note-placeholder]");
    if (!body) return;
    if (!body.hasAttribute("data-reply-placeholder")) body.setAttribute("data-reply-placeholder", body.placeholder);
    body.placeholder = event.target.value ? body.getAttribute("data-note-placeholder") : body.getAttribute("data-reply-placeholder");
  });

  // The columns an agent hides in a list stay hidden there (in this browser).
  function columnsKey(list) { return "itsm:columns:" + list; }
  function hiddenColumns(list) {
    try { return JSON.parse(window.localStorage.getItem(columnsKey(list)) || "[]"); } catch (e) { return []; }
  }
  function applyColumns(menu) {
    var list = menu.getAttribute("data-columns-for");
    var hidden = hiddenColumns(list);
    menu.querySelectorAll("input[data-column]").forEach(function (box) {
      box.checked = hidden.indexOf(Number(box.getAttribute("data-column"))) < 0;
    });
    var table = 'table[data-columns-table="' + list.replace(/"/g, "") + '"]';
    columnsSheet(list).replaceSync(hidden.map(function (n) {
      return table + " thead > tr > :nth-child(" + n + "), " + table + " tbody > tr:not(.more) > :nth-child(" + n + ")";
    }).join(", ") + (hidden.length ? " { display: none; }" : ""));
  }
  // One constructed style sheet per list: the Content-Security-Policy refuses a <style>
  // element made by a script, not a sheet built through the CSSOM.
  var columnSheets = {};
  function columnsSheet(list) {
    if (!columnSheets[list]) {
      columnSheets[list] = new CSSStyleSheet();
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([columnSheets[list]]);
    }
    return columnSheets[list];
  }
  document.addEventListener("change", function (event) {
    var box = event.target.closest("input[data-column]");
    if (!box) return;
    var menu = box.closest("[data-columns-for]");
    var list = menu.getAttribute("data-columns-for");
    var hidden = [];
    menu.querySelectorAll("input[data-column]").forEach(function (b) { if (!b.checked) hidden.push(Number(b.getAttribute("data-column"))); });
    try { window.localStorage.setItem(columnsKey(list), JSON.stringify(hidden)); } catch (e) { /* private mode: this page only */ }
    applyColumns(menu);
  });
  function applyAllColumns(root) { (root || document).querySelectorAll("[data-columns-for]").forEach(applyColumns); }
  document.addEventListener("DOMContentLoaded", function () { applyAllColumns(); });
  document.addEventListener("htmx:afterSwap", function (event) { applyAllColumns(event.target); });

  // A filter menu's summary counts what is ticked in it (the page is not reloaded).
  document.addEventListener("change", function (event) {
    var menu = event.target.closest("details.dropdown");
    if (!menu || menu.hasAttribute("data-columns-for") || event.target.type !== "checkbox") return;
    var summary = menu.querySelector("summary");
    var label = summary.textContent.replace(/ \(\d+\)$/, "");
    var count = menu.querySelectorAll("input[type=checkbox]:checked").length;
    summary.textContent = count ? label + " (" + count + ")" : label;
  });

  // The bulk bar says how many rows are selected.
  function countSelected() {
    var count = document.querySelectorAll("#bulk-form input[name=numbers]:checked").length;
    document.querySelectorAll("[data-selected-count]").forEach(function (label) {
      label.textContent = interpolate(ngettext("%(count)s selected", "%(count)s selected", count), { count: count }, true);
    });
  }

  // Fragments htmx brings in (the bulk bar) get the same treatment as the page.
  document.addEventListener("htmx:afterSwap", function (event) {
    countSelected();
  });

  document.addEventListener("change", function (event) {
    if (event.target.name === "numbers" || event.target.hasAttribute("data-select-all")) countSelected();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var pending = document.querySelector("dialog[data-open-on-load]");
    if (pending) pending.showModal();
  });

  // The header's search: arrow keys move through the results, Enter opens the one
  // chosen (or, with none chosen, every result), Escape closes them.
  function quickOptions() { return Array.prototype.slice.call(document.querySelectorAll("#quick-results [role=option]")); }
  function quickChoose(input, options, index) {
    options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
    if (options[index]) { input.setAttribute("aria-activedescendant", options[index].id); options[index].scrollIntoView({ block: "nearest" }); }
    else input.removeAttribute("aria-activedescendant");
  }
  function quickClose() {
    var results = document.getElementById("quick-results");
    var input = document.getElementById("global-search");
    if (results) results.innerHTML = "";
    if (input) { input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); }
  }
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (input.id !== "global-search") return;
    var options = quickOptions();
    var index = options.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    if (event.key === "ArrowDown" && options.length) { quickChoose(input, options, Math.min(index + 1, options.length - 1)); event.preventDefault(); }
    else if (event.key === "ArrowUp" && options.length) { quickChoose(input, options, Math.max(index - 1, 0)); event.preventDefault(); }
    else if (event.key === "Enter" && options[index]) { event.preventDefault(); window.location = options[index].href; }
    else if (event.key === "Escape" && options.length) { event.preventDefault(); quickClose(); }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id !== "quick-results") return;
    var input = document.getElementById("global-search");
    var options = quickOptions();
    input.setAttribute("aria-expanded", options.length ? "true" : "false");
    quickChoose(input, options, options[0] && options[0].id === "quick-exact" ? 0 : -1);
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".quick-search")) quickClose();
  });

  // j/k move through the queue, Enter opens, / searches, n new incident, r reply.
  var cursor = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table[data-keyboard-list] tbody tr[data-href]")); }
  function mark(list) {
    list.forEach(function (r, i) { r.classList.toggle("cursor", i === cursor); });
    if (list[cursor]) list[cursor].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey && event.key === "Enter" && event.target.form) {
      event.preventDefault();
      event.target.form.requestSubmit();
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      var save = document.getElementById("save-fields");
      if (save) { event.preventDefault(); save.form.requestSubmit(); }
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return;  // a dialog keeps the keys to itself
    var list = rows();
    if (event.key === "j" && list.length) { cursor = Math.min(cursor + 1, list.length - 1); mark(list); event.preventDefault(); }
    else if (event.key === "k" && list.length) { cursor = Math.max(cursor - 1, 0); mark(list); event.preventDefault(); }
    else if (event.key === "Enter" && list[cursor]) { window.location = list[cursor].getAttribute("data-href"); }
    else if (event.key === "x" && list[cursor]) { var box = list[cursor].querySelector("input[name=numbers]"); if (box) box.click(); }
    else if (event.key === "/") { var s = document.getElementById("global-search") || document.getElementById("id_search"); if (s) { s.focus(); event.preventDefault(); } }
    else if (event.key === "n") { var n = document.querySelector("a[href$='/incidents/new/']"); if (n) window.location = n.href; }
    else if (event.key === "r") { var r = document.getElementById("reply-body"); if (r) { r.focus(); event.preventDefault(); } }
  });
  // Positions and widths computed by the server (timeline bars, meters) come as data
  // attributes: the Content-Security-Policy allows no style="…" attributes, but setting a
  // property through the CSSOM is allowed. Run on the page and on every fragment htmx adds.
  function applyBars(root) {
    if (!root || !root.querySelectorAll) return;
    var bars = Array.prototype.slice.call(root.querySelectorAll("[data-bar-left], [data-bar-width]"));
    if (root.matches && root.matches("[data-bar-left], [data-bar-width]")) bars.push(root);
    bars.forEach(function (bar) {
      var left = bar.getAttribute("data-bar-left"), width = bar.getAttribute("data-bar-width");
      if (left !== null && isFinite(parseFloat(left))) bar.style.left = parseFloat(left) + "%";
      if (width !== null && isFinite(parseFloat(width))) bar.style.width = parseFloat(width) + "%";
    });
  }
  applyBars(document);
  document.addEventListener("htmx:load", function (event) { applyBars(event.detail && event.detail.elt); });

  // A read-only field whose whole value is selected on focus (a feed URL to copy).
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
