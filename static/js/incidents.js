// Keeps the incident list current: polls the API with the page's own filters, updates the
// status, severity and assignee of the rows shown, and says when new incidents match.
(function () {
  "use strict";
  const section = document.getElementById("incident-list");
  if (!section) return;
  const apiUrl = section.dataset.api;
  let knownCount = null;

  function setBadge(cell, value, prefix) {
    if (!cell) return;
    cell.textContent = value;
    cell.className = "badge " + prefix + value;
  }

  function notice(text) {
    let note = section.querySelector("[data-role=changed]");
    if (!note) {
      note = document.createElement("p");
      note.className = "flash";
      note.dataset.role = "changed";
      section.prepend(note);
    }
    const link = document.createElement("a");
    link.href = window.location.href;
    link.textContent = "reload";
    note.replaceChildren(text + " — ", link);
  }

  async function refresh() {
    try {
      const response = await fetch(apiUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      data.results.forEach((incident) => {
        const row = section.querySelector("tr[data-incident='" + incident.id + "']");
        if (!row) return;
        setBadge(row.querySelector("[data-role=status]"), incident.status, "");
        setBadge(row.querySelector("[data-role=severity]"), incident.severity, "sev-");
        const assignee = row.querySelector("[data-role=assignee]");
        assignee.textContent = incident.assignee ? incident.assignee.username : "—";
      });
      if (knownCount === null) knownCount = data.count;
      else if (data.count !== knownCount) notice("The incidents matching these filters changed");
    } catch (error) {
      // A missed poll is harmless: the next one catches up.
    }
  }
  refresh();
  setInterval(refresh, 15000);
})();
