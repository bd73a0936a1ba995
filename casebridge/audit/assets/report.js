// Marks the page with how many charts drew (a chart drew if its SVG has a size and shapes).
(function () {
  var charts = document.querySelectorAll("svg[data-chart]");
  var drawn = 0;
  charts.forEach(function (svg) {
    var box = svg.getBBox();
    var shapes = svg.querySelectorAll("rect, circle, line, polyline, path").length;
    if (box.width > 0 && box.height > 0 && shapes > 0) { drawn += 1; }
  });
  document.body.setAttribute("data-charts-expected", String(charts.length));
  document.body.setAttribute("data-charts-drawn", String(drawn));
})();
