// SLA badges count down in the browser from their due time (data-sla-due, ISO 8601); the
// server rendered the same text, so without JavaScript they are right as of page load.
// Colours change at the moments the server computed on the business calendar
// (data-sla-warn: half the target left, data-sla-danger: a quarter), then "overdue".
(function () {
  "use strict";

  // Texts in the page's language from the JavaScript catalogue (/jsi18n/, loaded first);
  // English as written here when it is missing.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };

  var STATES = ["sla-ok", "sla-warn", "sla-danger", "sla-overdue"];

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Same as countdown() in practices/service_level/templatetags/sla.py.
  function countdown(seconds) {
    var total = Math.max(0, Math.floor(seconds));
    var days = Math.floor(total / 86400), hours = Math.floor(total % 86400 / 3600);
    var minutes = Math.floor(total % 3600 / 60), secs = total % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + pad(minutes) + "m";
    return minutes + "m " + pad(secs) + "s";
  }

  function at(badge, name) {
    var value = badge.getAttribute(name);
    return value ? Date.parse(value) : null;
  }

  function tick() {
    document.querySelectorAll("[data-sla-due]").forEach(function (badge) {
      if (badge.slaSkew === undefined) {
        // The server's clock wins: the page says what time it was when it was made.
        var server = at(badge, "data-sla-now");
        badge.slaSkew = server ? server - Date.now() : 0;
      }
      var now = Date.now() + badge.slaSkew;
      var due = at(badge, "data-sla-due"), warn = at(badge, "data-sla-warn"), danger = at(badge, "data-sla-danger");
      var label = badge.getAttribute("data-sla-label");
      var state, text;
      if (now >= due) {
        state = "sla-overdue";
        // Translators: an SLA badge past its due time, e.g. "Resolution overdue 2h 05m".
        text = interpolate(gettext("%(label)s overdue %(time)s"), { label: label, time: countdown((now - due) / 1000) }, true);
      } else {
        // The marks are there only while still ahead: no data-sla-warn means amber already.
        if (danger !== null && now < danger) state = warn !== null && now < warn ? "sla-ok" : "sla-warn";
        else state = "sla-danger";
        text = label + " " + countdown((due - now) / 1000);
      }
      if (badge.textContent !== text) badge.textContent = text;
      if (!badge.classList.contains(state)) {
        STATES.forEach(function (name) { badge.classList.remove(name); });
        badge.classList.add(state);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
  });
  // The report: typing a date means a period of one's own.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-sla-custom]")) return;
    var period = event.target.form && event.target.form.querySelector("[data-sla-period]");
    if (period) period.value = "custom";
  });

  // Rows htmx brings in (filters, "Load more") start counting at once.
  document.addEventListener("htmx:afterSwap", tick);
})();
