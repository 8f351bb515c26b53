/* The employee portal's small behaviours (no build step):
 * - "My tickets" on the home page: the open and the closed lists become two tabs;
 * - the report form keeps a draft of what was typed in the tab's session storage, so
 *   following a suggestion and coming back (by the back button or "continue my report")
 *   loses nothing; sending the form, or saying a suggestion solved it, forgets it. */
(function () {
  "use strict";

  // Tabs -------------------------------------------------------------------------------
  function setUpTabs(box) {
    var list = box.querySelector("[role=tablist]");
    if (!list) return;
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    var panels = tabs.map(function (tab) {
      return document.getElementById(tab.getAttribute("aria-controls"));
    });
    function select(index, focus) {
      tabs.forEach(function (tab, i) {
        var on = i === index;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        panels[i].hidden = !on;
      });
      if (focus) tabs[index].focus();
    }
    panels.forEach(function (panel) {
      panel.setAttribute("role", "tabpanel");
      panel.tabIndex = 0;
    });
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { select(i, false); });
      tab.addEventListener("keydown", function (event) {
        var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        select((next + tabs.length) % tabs.length, true);
      });
    });
    list.hidden = false;
    box.classList.add("tabbed");
    var wanted = panels.findIndex(function (panel) { return "#" + panel.id === location.hash; });
    select(wanted >= 0 ? wanted : 0, false);
  }

  // Drafts -----------------------------------------------------------------------------
  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "file" && el.type !== "hidden" && el.type !== "submit" &&
        el.type !== "button" && el.name !== "csrfmiddlewaretoken";
    });
  }

  function read(key) {
    try { return JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function forget(key) {
    try { sessionStorage.removeItem(key); } catch (e) { /* storage may be off */ }
  }

  function setUpDraft(form) {
    var key = "portal-draft:" + form.getAttribute("data-draft");
    var fields = draftFields(form);
    var note = form.querySelector("[data-draft-note]");
    function save() {
      var values = {};
      var typed = false;
      fields.forEach(function (el) {
        values[el.name] = el.value;
        if (el.tagName !== "SELECT" && el.value.trim()) typed = true;
      });
      try {
        if (typed) sessionStorage.setItem(key, JSON.stringify(values));
        else sessionStorage.removeItem(key);
      } catch (e) { /* storage may be off or full: the form still works */ }
    }
    // A form the server drew from a post (errors shown) already holds what was typed.
    var saved = form.hasAttribute("data-draft-restore") ? read(key) : null;
    if (saved) {
      var restored = false;
      fields.forEach(function (el) {
        if (!Object.prototype.hasOwnProperty.call(saved, el.name)) return;
        if (el.value !== saved[el.name]) {
          el.value = saved[el.name];
          restored = true;
        }
      });
      if (restored && note) note.hidden = false;
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function () { forget(key); });
    if (note) {
      var reset = note.querySelector("button");
      if (reset) reset.addEventListener("click", function () {
        forget(key);
        form.reset(); // back to the page as drawn
        note.hidden = true;
        var first = fields[0];
        if (first) { first.focus(); first.dispatchEvent(new Event("input", { bubbles: true })); }
      });
    }
  }

  // The account menu closes on Escape and on a click elsewhere ------------------------
  function setUpMenu(menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }

  // The navigation's row shows the current page's link (it may scroll on a phone).
  function showCurrent(list) {
    var current = list.querySelector("[aria-current=page]");
    if (!current || list.scrollWidth <= list.clientWidth) return;
    var link = current.getBoundingClientRect();
    var row = list.getBoundingClientRect();
    if (link.left < row.left || link.right > row.right) {
      list.scrollLeft += link.left - row.left - (row.width - link.width) / 2;
    }
  }

  function run() {
    Array.prototype.forEach.call(document.querySelectorAll(".portal-nav ul"), showCurrent);
    Array.prototype.forEach.call(document.querySelectorAll("details.account-menu"), setUpMenu);
    Array.prototype.forEach.call(document.querySelectorAll("[data-tabs]"), setUpTabs);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-draft]"), setUpDraft);
    // Saying a suggestion solved it (or leaving the report otherwise) forgets the draft.
    Array.prototype.forEach.call(document.querySelectorAll("[data-forget-draft]"), function (el) {
      el.addEventListener(el.tagName === "FORM" ? "submit" : "click", function () {
        forget("portal-draft:" + el.getAttribute("data-forget-draft"));
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
