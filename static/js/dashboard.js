/* 分析看板: draw each panel's chart from its JSON (vendored Chart.js 4) and toggle chart ↔ table.
   Without JavaScript the table stays visible; with it the chart shows and the table is one click away. */
(function () {
  "use strict";
  var COLORS = ["#0d6efd", "#198754", "#fd7e14", "#dc3545", "#6f42c1", "#20c997"];

  function draw(panel) {
    var source = document.getElementById(panel.dataset.chart);
    var box = panel.querySelector(".qd-dash-chart");
    if (!source || !box || typeof Chart === "undefined") return false;
    var spec = JSON.parse(source.textContent);
    var horizontal = !!spec.horizontal;
    var datasets = spec.datasets.map(function (d, i) {
      var color = COLORS[i % COLORS.length];
      var line = d.type === "line";
      return {
        label: d.label, data: d.data, type: d.type || spec.type,
        backgroundColor: line ? color : color + "cc", borderColor: color,
        borderWidth: line ? 2 : 0, pointRadius: line ? 3 : 0, order: line ? 0 : 1
      };
    });
    var valueAxis = { beginAtZero: true, ticks: {} };
    if (spec.max) valueAxis.max = spec.max;
    if (spec.integer) valueAxis.ticks.precision = 0;
    var labelAxis = { ticks: { autoSkip: !horizontal } };
    var scales = horizontal ? { x: valueAxis, y: labelAxis } : { y: valueAxis, x: labelAxis };
    new Chart(box.querySelector("canvas"), {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } }
      }
    });
    return true;
  }

  function show(panel, view) {
    var always = panel.dataset.tableAlways === "1";  // the comparison keeps its wider table below the chart
    panel.querySelector(".qd-dash-chart").classList.toggle("d-none", view !== "chart");
    panel.querySelector(".qd-dash-table").classList.toggle("d-none", view !== "table" && !always);
    panel.querySelectorAll("[data-view]").forEach(function (b) {
      var on = b.dataset.view === view;
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  document.querySelectorAll(".qd-dash-panel").forEach(function (panel) {
    var buttons = panel.querySelectorAll("[data-view]");
    if (!panel.querySelector(".qd-dash-chart")) {
      buttons.forEach(function (b) { b.disabled = true; });
      return;
    }
    if (!draw(panel)) {
      show(panel, "table");
      return;
    }
    show(panel, "chart");
    buttons.forEach(function (b) {
      b.addEventListener("click", function () { show(panel, b.dataset.view); });
    });
  });
})();
