/* 区市财政运行综合绩效评价: the ranking page's two charts (vendored Chart.js 4), drawn from the
   JSON the page embeds with json_script. Without JavaScript the table below shows the same figures. */
(function () {
  "use strict";
  var COLORS = ["#0d6efd", "#198754", "#fd7e14", "#dc3545", "#6f42c1", "#20c997", "#6c757d"];
  var source = document.getElementById("fiscal-chart-data");
  if (!source || typeof Chart === "undefined") return;
  var spec = JSON.parse(source.textContent);
  var common = { maintainAspectRatio: false, animation: false };

  var total = document.getElementById("fiscal-chart-total");
  if (total) {
    new Chart(total, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: [{ label: "总分", data: spec.totals, backgroundColor: COLORS[0] + "cc", borderColor: COLORS[0] }]
      },
      options: Object.assign({}, common, {
        scales: { y: { beginAtZero: true, max: 100 } },
        plugins: { legend: { display: false } }
      })
    });
  }

  var groups = document.getElementById("fiscal-chart-groups");
  if (groups) {
    new Chart(groups, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.groups.map(function (g, i) {
          var color = COLORS[i % COLORS.length];
          return { label: g.label, data: g.data, backgroundColor: color + "cc", borderColor: color };
        })
      },
      options: Object.assign({}, common, {
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, max: 100 } },
        plugins: { legend: { position: "bottom" } }
      })
    });
  }
  document.documentElement.dataset.fiscalChart = "drawn";
})();
