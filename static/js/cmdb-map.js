// The service map (cmdb/map.html): draws the CIs around the centre with cytoscape.
(function () {
  "use strict";

  // Texts in the page's language from the JavaScript catalogue (/jsi18n/, loaded first);
  // English as written here when it is missing.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };
  var box = document.getElementById("cy");
  var depthSelect = document.getElementById("map-depth");
  var recentre = document.getElementById("click-recentres");
  var statusLine = document.getElementById("map-status");
  var truncated = document.getElementById("map-truncated");
  var title = document.getElementById("map-title");
  var crumb = document.getElementById("map-crumb");
  var list = document.querySelector("#map-list ul");
  var STATUS_COLOURS = { live: "#17b26a", planned: "#98a2b3", in_build: "#2e90fa", maintenance: "#f79009", retired: "#475467" };
  var current = { dataUrl: box.getAttribute("data-url"), centre: box.getAttribute("data-centre") };

  var cy = cytoscape({
    container: box,
    elements: [],
    minZoom: 0.1,
    maxZoom: 4,
    boxSelectionEnabled: false,
    style: [
      { selector: "node", style: {
        "label": "data(label)", "text-wrap": "wrap", "text-max-width": "140px", "font-size": 12,
        "text-valign": "bottom", "text-halign": "center", "text-margin-y": 5, "color": "#1c2430",
        "text-background-color": "#ffffff", "text-background-opacity": 0.9,
        "text-background-padding": 2, "text-background-shape": "roundrectangle",
        "background-color": "data(colour)", "width": 26, "height": 26,
        "border-width": 1, "border-color": "#ffffff" } },
      { selector: "node.service", style: {
        "shape": "round-rectangle", "background-color": "#7f56d9", "width": 38, "height": 30,
        "border-width": 4, "border-color": "data(colour)", "font-weight": "bold" } },
      { selector: "node.retired", style: { "opacity": 0.55 } },
      { selector: "node.centre", style: {
        "width": 44, "height": 44, "border-width": 6, "border-color": "#2457c5",
        "font-size": 14, "font-weight": "bold", "z-index": 10 } },
      { selector: "node:active, node:selected", style: { "overlay-opacity": 0.15, "overlay-color": "#2457c5" } },
      { selector: "edge", style: {
        "width": 1.5, "curve-style": "bezier", "line-color": "#b9c0c9",
        "target-arrow-shape": "triangle", "target-arrow-color": "#b9c0c9",
        "label": "data(label)", "font-size": 9, "color": "#475467", "text-rotation": "autorotate",
        "text-background-color": "#f2f4f7", "text-background-opacity": 0.95,
        "text-background-padding": 1, "text-background-shape": "roundrectangle" } },
      { selector: "edge.spreads-none", style: { "line-style": "dashed" } },
      { selector: "edge.spreads-both", style: { "source-arrow-shape": "triangle", "source-arrow-color": "#b9c0c9" } }
    ]
  });
  window.cy = cy;  // the map's graph, for the browser tests and the curious

  function elementsOf(data) {
    var nodes = data.nodes.map(function (n) {
      var classes = ["status-" + n.status, "class-" + n.class_key];
      if (n.is_service) classes.push("service");
      if (n.status === "retired") classes.push("retired");
      if (n.id === data.centre) classes.push("centre");
      return { group: "nodes", classes: classes.join(" "), data: {
        id: n.id, label: n.name + "\n" + n.class, name: n.name, colour: STATUS_COLOURS[n.status] || "#98a2b3",
        depth: n.depth, url: n.url, mapUrl: n.map_url, dataUrl: n.data_url, status: n.status_label } };
    });
    var edges = data.edges.map(function (e) {
      return { group: "edges", classes: "spreads-" + e.spreads,
               data: { id: e.id, source: e.source, target: e.target, label: e.label } };
    });
    return nodes.concat(edges);
  }

  function fillList(data) {
    list.textContent = "";
    data.nodes.forEach(function (n) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = n.url; a.textContent = n.name;
      li.appendChild(a);
      var where = n.depth ? interpolate(ngettext("%(count)s away", "%(count)s away", n.depth), { count: n.depth }, true) : gettext("centre");
      li.appendChild(document.createTextNode(" " + interpolate(gettext("%(class)s, %(status)s, %(where)s"), { "class": n.class, status: n.status_label, where: where }, true)));
      list.appendChild(li);
    });
  }

  function draw(data) {
    cy.elements().remove();
    cy.add(elementsOf(data));
    // The centre on the left, then one column per step away from it: the map uses the
    // width of the screen, and the labels under the nodes stay clear of the edges.
    var w = Math.max(cy.width() - 80, 400), h = Math.max(cy.height() - 80, 300);
    cy.layout({
      name: "breadthfirst", animate: false, directed: false, roots: "[id = \"" + data.centre + "\"]",
      spacingFactor: 1, avoidOverlap: true, nodeDimensionsIncludeLabels: true,
      boundingBox: { x1: 0, y1: 0, w: h, h: w },
      transform: function (node, position) { return { x: position.y, y: position.x }; }
    }).run();
    cy.fit(undefined, 40);
    truncated.hidden = !data.truncated;
    title.textContent = data.name;
    crumb.textContent = data.name;
    var centre = cy.getElementById(data.centre);
    if (centre.nonempty()) crumb.href = centre.data("url");
    statusLine.textContent = interpolate(gettext("%(cis)s, %(relationships)s"), {
      cis: interpolate(ngettext("%(count)s CI", "%(count)s CIs", data.nodes.length), { count: data.nodes.length }, true),
      relationships: interpolate(ngettext("%(count)s relationship", "%(count)s relationships", data.edges.length), { count: data.edges.length }, true)
    }, true);
    fillList(data);
    document.title = interpolate(gettext("Service map: %(name)s · ITSM"), { name: data.name }, true);
    box.setAttribute("data-centre", data.centre);
    box.setAttribute("data-state", "ready");
  }

  function load() {
    box.setAttribute("data-state", "loading");
    statusLine.textContent = gettext("Loading…");
    var url = current.dataUrl + "?depth=" + encodeURIComponent(depthSelect.value);
    return fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(draw)
      .catch(function (error) {
        box.setAttribute("data-state", "error");
        statusLine.textContent = interpolate(gettext("The map could not be loaded (%(error)s)."), { error: error.message }, true);
      });
  }

  function pageUrl(mapUrl) { return mapUrl + "?depth=" + encodeURIComponent(depthSelect.value); }

  cy.on("tap", "node", function (event) {
    var node = event.target;
    if (recentre.checked && node.id() !== current.centre) {
      current = { dataUrl: node.data("dataUrl"), centre: node.id(), mapUrl: node.data("mapUrl") };
      history.pushState(current, "", pageUrl(current.mapUrl));
      load();
    } else {
      window.location.href = node.data("url");
    }
  });
  window.addEventListener("popstate", function (event) {
    if (event.state && event.state.dataUrl) { current = event.state; load(); }
  });
  depthSelect.addEventListener("change", function () {
    history.replaceState(current, "", pageUrl(current.mapUrl || window.location.pathname));
    load();
  });
  function zoomBy(factor) {
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }
  document.getElementById("zoom-in").addEventListener("click", function () { zoomBy(1.25); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomBy(0.8); });
  document.getElementById("zoom-fit").addEventListener("click", function () { cy.fit(undefined, 40); });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) return;
    if (event.key === "+" || event.key === "=") zoomBy(1.25);
    else if (event.key === "-") zoomBy(0.8);
    else if (event.key === "0") cy.fit(undefined, 40);
  });
  current.mapUrl = window.location.pathname;
  history.replaceState(current, "", window.location.href);
  load();
})();
