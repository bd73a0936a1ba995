/* The network page's link chart, drawn with Cytoscape.js from the page's JSON data block
   (<script type="application/json" id="network-data">, which no browser runs). Loaded from
   the service's own origin (script-src 'self'); the page's tables hold the same members and
   ties, so nothing depends on this. */
(function () {
  "use strict";

  // colours as in app.css: suspects dark, victims outlined, others grey
  var INK = "#1b1b1b";
  var LINK = "#1a4e9f";
  var MUTED = "#4a4a4a";
  var PAPER = "#ffffff";

  function chartStyle() {
    return [
      {
        selector: "node",
        style: {
          "background-color": MUTED,
          "label": "data(id)",
          "font-size": 10,
          "color": INK,
          "text-valign": "bottom",
          "text-margin-y": 3,
          "width": "mapData(centrality, 0, 1, 14, 40)",
          "height": "mapData(centrality, 0, 1, 14, 40)"
        }
      },
      { selector: "node[role = 'suspect']", style: { "background-color": INK } },
      {
        selector: "node[role = 'victim']",
        style: { "background-color": PAPER, "border-width": 3, "border-color": LINK }
      },
      { selector: "node[href]", style: { "shape": "ellipse" } },
      { selector: "node[!href]", style: { "shape": "round-rectangle", "opacity": 0.6 } },
      {
        selector: "edge",
        style: {
          "line-color": "#8a8a8a",
          "width": "mapData(events, 0, 10, 1, 6)",
          "curve-style": "bezier"
        }
      },
      { selector: ":selected", style: { "border-width": 3, "border-color": "#b35900" } }
    ];
  }

  function draw() {
    var box = document.getElementById("network-chart");
    var block = box && document.getElementById(box.getAttribute("data-chart-source"));
    if (!box || !block || typeof window.cytoscape !== "function") {
      return;
    }
    var data = JSON.parse(block.textContent);
    // shown only where it can be drawn: without scripts the tables say it all
    box.hidden = false;
    var chart = window.cytoscape({
      container: box,
      elements: data.nodes.concat(data.edges),
      style: chartStyle(),
      layout: { name: "cose", animate: false, randomize: false },
      wheelSensitivity: 0.3
    });
    chart.on("tap", "node[href]", function (event) {
      window.location.assign(event.target.data("href"));
    });
    box.setAttribute("data-drawn", String(chart.nodes().length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
