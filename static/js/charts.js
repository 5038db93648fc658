// Draws every server-built plotly figure on the page: each
// <script type="application/json" data-chart> holds {data, layout, config}
// (see metrics/charts.py) and is drawn into the .chart-plot next to it.
(function () {
  "use strict";
  function draw() {
    if (typeof Plotly === "undefined") return;
    document.querySelectorAll('script[type="application/json"][data-chart]').forEach((script) => {
      const holder = script.parentElement.querySelector(".chart-plot") || script.parentElement;
      try {
        const figure = JSON.parse(script.textContent);
        Plotly.newPlot(holder, figure.data || [], figure.layout || {}, figure.config || {});
      } catch (error) {
        holder.textContent = "This chart could not be drawn.";
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
