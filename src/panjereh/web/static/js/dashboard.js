// Draws the dashboard's charts with Chart.js from the JSON beside each canvas. Without JavaScript (or
// if Chart.js fails to load) the data table under each chart is the figure; with it, the table stays
// available to screen readers and behind a "show the data" toggle.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var font = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.family = font;
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var rtl = !!data.rtl;
    // Chart.js writes a zero tick as a bare "0" whatever the locale: every numeric tick goes through the
    // page's own number format instead (Persian digits and «٬» on a Persian page).
    var number = new Intl.NumberFormat(rtl ? "fa-IR" : "en");
    var ticks = { callback: function (value) { return number.format(value); } };
    var common = {
      responsive: true,
      locale: rtl ? "fa-IR" : "en",
      plugins: { legend: { rtl: rtl, textDirection: rtl ? "rtl" : "ltr" },
                 tooltip: { rtl: rtl, textDirection: rtl ? "rtl" : "ltr" } },
      scales: { x: { reverse: rtl } }
    };
    var config;
    if (canvas.dataset.kind === "overview") {
      config = { type: "bar", data: { labels: data.labels, datasets: [
        { type: "line", label: canvas.dataset.usersLabel, data: data.users, yAxisID: "users", borderColor: "#0b5d4b", backgroundColor: "#0b5d4b" },
        { type: "bar", label: canvas.dataset.visitsLabel, data: data.visits, yAxisID: "visits", backgroundColor: "rgba(242,182,0,.6)" }
      ] }, options: common };
      common.scales.users = { position: rtl ? "right" : "left", beginAtZero: true, ticks: ticks };
      common.scales.visits = { position: rtl ? "left" : "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: ticks };
    } else {
      var colours = ["#0b5d4b", "#6f2da8", "#f2b600", "#b02a37"];
      var datasets = Object.keys(data.series).map(function (key, i) {
        return { label: canvas.dataset["label" + key.replace(/_(.)/g, function (_m, c) { return c.toUpperCase(); }).replace(/^./, function (c) { return c.toUpperCase(); })] || key,
                 data: data.series[key], borderColor: colours[i % colours.length], backgroundColor: colours[i % colours.length], spanGaps: true };
      });
      common.scales.y = { min: 0, max: 100, ticks: ticks };
      config = { type: "line", data: { labels: data.labels, datasets: datasets }, options: common };
    }
    new Chart(canvas, config);
    canvas.hidden = false;
  });
})();
