// Draws a report's chart with Chart.js from the JSON the page embeds (#report-chart-data):
// {type, labels, datasets: [{label, data: ["12.50", null, …]}], y_label, suggested_max, currency}. Numbers come as
// strings (amounts are Decimals on the server) and are parsed only here, for drawing.
(function () {
  "use strict";
  const PALETTE = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#6c757d"];

  function draw() {
    const canvas = document.getElementById("report-chart");
    const source = document.getElementById("report-chart-data");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    const spec = JSON.parse(source.textContent);
    const locale = document.documentElement.lang || undefined;
    // Amounts in one currency: the axis ticks read as money ("€10K"), in the page's language.
    const money = spec.currency
      ? new Intl.NumberFormat(locale, { style: "currency", currency: spec.currency, notation: "compact" })
      : null;
    const datasets = spec.datasets.map(function (dataset, index) {
      const color = PALETTE[index % PALETTE.length];
      return {
        label: dataset.label,
        data: dataset.data.map(function (value) { return value === null ? null : Number(value); }),
        backgroundColor: spec.type === "line" ? color + "33" : color,
        borderColor: color,
        fill: spec.type === "line",
        maxBarThickness: 80,
        tension: 0.2,
      };
    });
    canvas.chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: locale,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: {
          y: {
            beginAtZero: true,
            suggestedMax: spec.suggested_max || undefined,
            title: { display: !!spec.y_label, text: spec.y_label },
            ticks: money ? { callback: function (value) { return money.format(value); } } : {},
          },
        },
      },
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
