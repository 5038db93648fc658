// Keeps the dashboard's incident lists current by polling the JSON feed.
(function () {
  "use strict";
  const section = document.getElementById("open-incidents");
  if (!section) return;
  const feedUrl = section.dataset.feed;

  // The same shape the server renders ("2026-11-26 10:14:31 UTC"), whatever the locale.
  function utc(iso) {
    return new Date(iso).toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function item(incident) {
    const li = document.createElement("li");
    li.className = "incident " + incident.status;
    li.dataset.incident = incident.id;
    const status = document.createElement("span");
    status.className = "badge " + incident.status;
    status.textContent = incident.status;
    const severity = document.createElement("span");
    severity.className = "badge sev-" + incident.severity;
    severity.textContent = incident.severity;
    const link = document.createElement("a");
    link.href = incident.url;
    link.textContent = "#" + incident.id + " " + incident.title;
    const service = document.createElement("span");
    service.className = "muted";
    service.textContent = incident.service;
    const when = document.createElement("time");
    when.dateTime = incident.resolved_at || incident.detected_at;
    when.textContent = utc(when.dateTime);
    li.append(status, severity, link, service, when);
    return li;
  }

  function render(list, incidents, emptyText) {
    const ul = document.createElement("ul");
    ul.className = "incidents";
    if (!incidents.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = emptyText;
      ul.append(li);
    }
    incidents.forEach((incident) => ul.append(item(incident)));
    // The open list's container is a <div> (the page groups it by service); items must
    // stay inside a ul.incidents there, or they lose the list's layout.
    if (list.tagName === "UL") list.replaceChildren(...ul.childNodes);
    else list.replaceChildren(ul);
  }

  async function refresh() {
    try {
      const response = await fetch(feedUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      section.querySelector("[data-role=open-count]").textContent = data.open.length;
      render(section.querySelector("[data-role=open-list]"), data.open, "No open incidents.");
      render(document.querySelector("[data-role=resolved-list]"), data.resolved, "Nothing resolved yet.");
    } catch (error) {
      // A missed poll is harmless: the next one catches up.
    }
  }
  setInterval(refresh, 3000);
})();
