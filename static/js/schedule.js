// Draws the schedule timeline (figure built server-side) and keeps it and "on call now"
// current by polling the schedule's timeline.json.
(function () {
  "use strict";
  const section = document.getElementById("schedule");
  const chart = document.getElementById("timeline");
  const initial = document.getElementById("timeline-figure");
  if (!section || !chart || !initial || typeof Plotly === "undefined") return;
  const config = { responsive: true, displaylogo: false };

  function draw(figure) {
    Plotly.react(chart, figure.data, figure.layout, config);
  }

  function describe(oncall) {
    const box = section.querySelector("[data-role=oncall-now]");
    box.replaceChildren();
    if (!oncall) {
      const badge = document.createElement("span");
      badge.className = "badge gap";
      badge.textContent = "nobody is on call";
      box.append(badge);
      return;
    }
    const who = document.createElement("strong");
    who.textContent = oncall.user;
    const until = document.createElement("span");
    until.className = "muted";
    const source = oncall.source === "override" ? "override" : "layer " + oncall.source;
    // The server writes the bounds in the schedule's time zone, as the first render did.
    until.textContent = " (" + source + ") since " + oncall.since + " until " + oncall.until;
    box.append(who, until);
  }

  async function refresh() {
    try {
      const response = await fetch(section.dataset.timeline, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      draw(data.figure);
      describe(data.oncall);
    } catch (error) {
      // A missed poll is harmless: the next one catches up.
    }
  }

  draw(JSON.parse(initial.textContent));
  setInterval(refresh, 60000);
})();
