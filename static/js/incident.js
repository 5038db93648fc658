// Keeps an open incident's page current: polls its state.json for the status, times and
// timeline events after the last one shown, and shows the actions that now apply.
(function () {
  "use strict";
  const root = document.getElementById("incident");
  if (!root) return;
  const stateUrl = root.dataset.stateUrl;
  let lastSeq = Number(root.dataset.lastSeq || 0);
  let timer = null;

  function setBadge(role, value, prefix) {
    const badge = root.querySelector("[data-role=" + role + "]");
    if (!badge) return;
    badge.textContent = value;
    badge.className = "badge " + prefix + value;
  }

  function setTimes(times) {
    Object.keys(times).forEach((name) => {
      const cell = root.querySelector("[data-time=" + name + "]");
      if (!cell) return;
      if (!times[name].at) {
        cell.textContent = "—";
        return;
      }
      const time = cell.querySelector("time") || document.createElement("time");
      time.dateTime = times[name].at;
      time.textContent = times[name].display;
      if (!time.parentNode) cell.replaceChildren(time);
    });
  }

  function showActions(status) {
    root.querySelectorAll("[data-show-when]").forEach((form) => {
      form.hidden = !form.dataset.showWhen.split(" ").includes(status);
    });
  }

  function appendEvent(list, event) {
    const li = document.createElement("li");
    li.className = "event " + event.kind;
    li.dataset.seq = event.seq;
    const time = document.createElement("time");
    time.dateTime = event.at;
    time.textContent = event.at_display;
    const label = document.createElement("strong");
    label.textContent = event.label;
    const by = document.createElement("span");
    by.className = "muted";
    by.textContent = "by " + event.actor;
    li.append(time, " ", label);
    if (event.text) li.append(" — " + event.text);
    li.append(" ", by);
    if (event.html) {
      const note = document.createElement("div");
      note.className = "note-body";
      note.innerHTML = event.html; // sanitised on the server (incidents/markdown.py)
      li.append(note);
    }
    list.append(li);
  }

  async function refresh() {
    try {
      const response = await fetch(stateUrl + "?since=" + lastSeq, {
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const state = await response.json();
      const list = root.querySelector("[data-role=timeline]");
      state.events.forEach((event) => {
        if (event.seq > lastSeq) appendEvent(list, event);
      });
      lastSeq = Math.max(lastSeq, state.last_seq);
      setBadge("status", state.status, "");
      setBadge("severity", state.severity, "sev-");
      root.querySelector("[data-role=title]").textContent = state.title;
      root.querySelector("[data-role=assignee]").textContent = state.assignee || "nobody";
      setTimes(state.times);
      showActions(state.status);
      if (!state.is_open) clearInterval(timer);
    } catch (error) {
      // A missed poll is harmless: the next one catches up.
    }
  }

  if (root.dataset.status !== "resolved") timer = setInterval(refresh, 4000);
})();
