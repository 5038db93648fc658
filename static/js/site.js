// What every page shares: the top bar's menus, and tables wider than a phone's screen.
// The menus work without this script (each group is a <details>, and without
// the "js" class a phone shows the whole menu); the script adds what people expect of menus:
// a Menu button on a phone, one group open at a time, Escape or a click elsewhere closes it,
// and the entry of the page being shown is marked.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function groups() {
    return Array.from(document.querySelectorAll(".site-nav details.nav-group"));
  }

  function closeGroups(except) {
    groups().forEach((group) => {
      if (group !== except) group.open = false;
    });
  }

  function markCurrent(nav) {
    // The longest menu link the address starts with: /incidents/7/ belongs to All incidents.
    const here = window.location.pathname;
    let best = null;
    nav.querySelectorAll("a[href]").forEach((link) => {
      const url = new URL(link.href, window.location.href);
      if (url.hash || url.origin !== window.location.origin) return;
      const path = url.pathname;
      const matches = path === here || (path !== "/" && here.startsWith(path));
      if (matches && (!best || path.length > new URL(best.href).pathname.length)) best = link;
    });
    if (!best) return;
    if (new URL(best.href).pathname === here) best.setAttribute("aria-current", "page");
    const group = best.closest("details.nav-group");
    if (group) group.classList.add("current");
  }

  // A table wider than its box scrolls inside it (app.css); a keyboard can scroll only what
  // it can focus, so such a table (and only such a one) takes part in the tab order.
  function scrollableTables() {
    document.querySelectorAll("main table").forEach((table) => {
      const scrolls = table.scrollWidth > table.clientWidth + 1;
      if (scrolls && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
        table.dataset.scrollFocus = "";
      } else if (!scrolls && "scrollFocus" in table.dataset) {
        table.removeAttribute("tabindex");
        delete table.dataset.scrollFocus;
      }
    });
  }

  // On a phone each row of a table is drawn as a block, its cells one under the other
  // (app.css); each cell is named by its column's heading.
  function labelCells() {
    document.querySelectorAll("main table").forEach((table) => {
      const headRows = table.tHead ? table.tHead.rows : [];
      // A template that names its cells itself (the incident list) is left as it is.
      if (!headRows.length || table.querySelector("td[data-label]")) return;
      const names = [];
      Array.from(headRows[headRows.length - 1].cells).forEach((cell) => {
        for (let span = 0; span < cell.colSpan; span += 1) names.push(cell.textContent.trim());
      });
      Array.from(table.tBodies).forEach((body) => {
        Array.from(body.rows).forEach((row) => {
          let column = 0;
          Array.from(row.cells).forEach((cell) => {
            const name = cell.colSpan === 1 ? names[column] : "";
            if (name && !cell.hasAttribute("data-label")) cell.dataset.label = name;
            column += cell.colSpan;
          });
        });
      });
    });
  }

  function init() {
    labelCells();
    scrollableTables();
    let resizing = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(scrollableTables, 150);
    });

    const bar = document.querySelector(".topbar");
    const nav = document.getElementById("site-nav");
    const toggle = document.querySelector(".nav-toggle");
    if (!bar || !nav) return;
    markCurrent(nav);

    if (toggle) {
      toggle.addEventListener("click", () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        bar.classList.toggle("nav-open", open);
        if (!open) closeGroups(null);
      });
    }

    // Browsers without <details name> exclusivity: opening one group closes the others.
    groups().forEach((group) => {
      group.addEventListener("toggle", () => {
        if (group.open) closeGroups(group);
      });
    });

    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      const open = groups().find((group) => group.open);
      if (open) {
        open.open = false;
        open.querySelector("summary").focus();
      } else if (toggle && bar.classList.contains("nav-open")) {
        toggle.click();
        toggle.focus();
      }
    });

    // A click or tap outside the menus closes an open group (as a dropdown would).
    document.addEventListener("click", (event) => {
      if (!event.target.closest(".site-nav details.nav-group")) closeGroups(null);
    });

    // Tabbing out of an open group closes it, so it does not hide the page behind it.
    groups().forEach((group) => {
      group.addEventListener("focusout", (event) => {
        if (event.relatedTarget && !group.contains(event.relatedTarget)) group.open = false;
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
