// Added to a copy of the report by tests/audit/browser.py, after the report's own script: it
// opens every <details>, then writes on <body> (data-layout-problems, as JSON) every place where
// the page is wider than the window, a box's content is wider than the box, a text runs out of
// the window, an SVG label falls outside its chart's viewBox, or two labels of a chart overlap.
(function () {
  var problems = [];
  var slack = 0.5;
  var page = document.documentElement;
  var width = page.clientWidth;

  function name(el) {
    var text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
    var chart = el.closest("svg[data-chart]");
    var where = chart ? "chart " + chart.getAttribute("data-chart") + " " : "";
    return where + "<" + el.tagName.toLowerCase() + "> '" + text + "'";
  }

  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  if (page.scrollWidth > width) {
    problems.push("the page is " + page.scrollWidth + " px wide in a " + width + " px window");
  }
  document.querySelectorAll("body *").forEach(function (el) {
    if ((el.closest("svg") && el.tagName.toLowerCase() !== "svg") ||
        el.tagName === "SCRIPT" || el.tagName === "STYLE") { return; }
    var style = getComputedStyle(el);
    if (style.display === "none") { return; }
    if (style.display !== "inline" && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      problems.push(name(el) + " holds " + el.scrollWidth + " px in " + el.clientWidth + " px");
    }
    var box = el.getBoundingClientRect();
    if (box.width > 0 && (box.left < -slack || box.right > width + slack)) {
      problems.push(name(el) + " runs from " + Math.round(box.left) + " to " +
                    Math.round(box.right) + " px in a " + width + " px window");
    }
  });
  document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
    var view = svg.viewBox.baseVal;
    var boxes = [];
    svg.querySelectorAll("text").forEach(function (text) {
      var b = text.getBBox();
      if (b.x < view.x - slack || b.y < view.y - slack ||
          b.x + b.width > view.x + view.width + slack ||
          b.y + b.height > view.y + view.height + slack) {
        problems.push(name(text) + " (" + [b.x, b.y, b.width, b.height].map(Math.round) +
                      ") is outside its chart (" + [view.width, view.height] + ")");
      }
      boxes.push([text, b]);
    });
    for (var i = 0; i < boxes.length; i += 1) {
      for (var j = i + 1; j < boxes.length; j += 1) {
        var a = boxes[i][1], b = boxes[j][1];
        var across = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
        var down = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
        if (across > 1 && down > 1) {
          problems.push(name(boxes[i][0]) + " overlaps " + name(boxes[j][0]));
        }
      }
    }
  });
  var facts = document.querySelector(".facts");
  document.body.setAttribute("data-facts-bottom",
                             String(facts ? Math.ceil(facts.getBoundingClientRect().bottom) : -1));
  document.body.setAttribute("data-layout-width", String(width));
  document.body.setAttribute("data-layout-problems", JSON.stringify(problems));
})();
