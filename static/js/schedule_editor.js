// The schedule editor: adds, removes and reorders layers, participants and weekly windows,
// and after every change posts the unsaved form to the preview endpoint, which answers the
// next 14 days (plotly figure, gaps, who is on call now) or the messages per field.
// Saving is the form's ordinary submit; the server checks everything again.
(function () {
  "use strict";
  const form = document.getElementById("schedule-editor");
  if (!form) return;
  const layers = form.querySelector("[data-role=layers]");
  const chart = document.getElementById("preview-timeline");
  const status = form.querySelector("[data-role=preview-status]");
  const config = { responsive: true, displaylogo: false };
  let counter = 0;
  let timer = null;
  let sequence = 0;
  let inFlight = null;

  function newKey() {
    counter += 1;
    return "n" + counter;
  }

  function fromTemplate(id, replacements) {
    let html = document.getElementById(id).innerHTML;
    Object.keys(replacements).forEach((placeholder) => {
      html = html.split(placeholder).join(replacements[placeholder]);
    });
    return document.createRange().createContextualFragment(html).firstElementChild;
  }

  function renumber() {
    layers.querySelectorAll("[data-layer]").forEach((layer, index) => {
      layer.querySelector("[data-role=layer-number]").textContent = String(index + 1);
      layer.querySelectorAll("[data-participant]").forEach((item, place) => {
        item.querySelector("[data-role=number]").textContent = String(place + 1);
      });
    });
  }

  function move(element, up) {
    const sibling = up ? element.previousElementSibling : element.nextElementSibling;
    if (!sibling) return;
    if (up) sibling.before(element);
    else sibling.after(element);
  }

  const actions = {
    "layer-add": () => {
      const key = newKey();
      const layer = fromTemplate("layer-template", { __L__: key, __P__: newKey() });
      // Most layers start where the others do: offer the first layer's handoff.
      const handoff = layers.querySelector("input[name$='-handoff']");
      layers.append(layer);
      if (handoff) layer.querySelector("input[name$='-handoff']").value = handoff.value;
      layer.querySelector("input[type=text]").focus();
    },
    "layer-up": (button) => move(button.closest("[data-layer]"), true),
    "layer-down": (button) => move(button.closest("[data-layer]"), false),
    "layer-remove": (button) => {
      button.closest("[data-layer]").remove();
      form.querySelector("[data-action=layer-add]").focus();
    },
    "participant-add": (button) => {
      const layer = button.closest("[data-layer]");
      const item = fromTemplate("participant-template", {
        __L__: layer.dataset.layer,
        __P__: newKey(),
      });
      layer.querySelector("[data-role=participants]").append(item);
      item.querySelector("select").focus();
    },
    "participant-up": (button) => move(button.closest("[data-participant]"), true),
    "participant-down": (button) => move(button.closest("[data-participant]"), false),
    "participant-remove": (button) => {
      const layer = button.closest("[data-layer]");
      button.closest("[data-participant]").remove();
      layer.querySelector("[data-action=participant-add]").focus();
    },
    "restriction-add": (button) => {
      const layer = button.closest("[data-layer]");
      const item = fromTemplate("restriction-template", {
        __L__: layer.dataset.layer,
        __R__: newKey(),
      });
      layer.querySelector("[data-role=restrictions]").append(item);
    },
    "restriction-remove": (button) => {
      const layer = button.closest("[data-layer]");
      button.closest("[data-restriction]").remove();
      layer.querySelector("[data-action=restriction-add]").focus();
    },
  };

  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || !actions[button.dataset.action]) return;
    event.preventDefault();
    const focusBack = button.dataset.action.endsWith("-up") || button.dataset.action.endsWith("-down");
    actions[button.dataset.action](button);
    renumber();
    if (focusBack) button.focus();
    soon();
  });
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  function showErrors(errors) {
    const general = form.querySelector('[data-error-for="__all__"]');
    const leftover = [];
    form.querySelectorAll("[data-error-for]").forEach((box) => {
      box.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
    Object.keys(errors).forEach((key) => {
      const text = errors[key].join(" ");
      const box = form.querySelector('[data-error-for="' + CSS.escape(key) + '"]');
      if (!box || key === "__all__") {
        leftover.push(text);
        return;
      }
      box.textContent = text;
      const input = form.querySelector('[name="' + CSS.escape(key) + '"]');
      if (input) input.setAttribute("aria-invalid", "true");
    });
    general.textContent = leftover.join(" ");
    general.hidden = leftover.length === 0;
  }

  function showOncall(oncall) {
    const box = form.querySelector("[data-role=preview-oncall]");
    box.replaceChildren();
    if (!oncall) {
      const badge = document.createElement("span");
      badge.className = "badge gap";
      badge.textContent = "nobody is on call now";
      box.append(badge);
      return;
    }
    const who = document.createElement("strong");
    who.textContent = oncall.user;
    const until = document.createElement("span");
    until.className = "muted";
    until.textContent = " until " + oncall.until;
    box.append("On call now: ", who, until);
  }

  function showGaps(gaps) {
    const box = form.querySelector("[data-role=preview-gaps]");
    box.replaceChildren();
    if (!gaps.length) {
      const fine = document.createElement("p");
      fine.className = "muted";
      fine.textContent = "Someone is on call at every moment of the next 14 days.";
      box.append(fine);
      return;
    }
    const warning = document.createElement("div");
    warning.className = "flash error";
    const title = document.createElement("strong");
    title.textContent = "Coverage gaps:";
    const list = document.createElement("ul");
    gaps.forEach((gap) => {
      const item = document.createElement("li");
      item.textContent = gap.label;
      list.append(item);
    });
    warning.append(title, " nobody is on call", list);
    box.append(warning);
  }

  function draw(data) {
    if (typeof Plotly !== "undefined") {
      Plotly.react(chart, data.figure.data, data.figure.layout, config);
    }
    showOncall(data.oncall);
    showGaps(data.gaps);
  }

  async function refresh() {
    sequence += 1;
    const mine = sequence;
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    status.textContent = "Updating the preview…";
    let response;
    try {
      response = await fetch(form.dataset.preview, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        signal: inFlight.signal,
      });
    } catch (error) {
      if (mine === sequence) status.textContent = "The preview could not be updated; it will retry on your next change.";
      return;
    }
    if (mine !== sequence) return;
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (mine !== sequence) return;
    if (response.ok && data) {
      showErrors({});
      draw(data);
      status.textContent = "As it would be saved.";
      form.dataset.previewed = String(mine);
    } else if (response.status === 400 && data && data.errors) {
      showErrors(data.errors);
      status.textContent = "Not updated: fix the fields marked in red.";
    } else {
      status.textContent = "The preview could not be updated (" + response.status + ").";
    }
  }

  const initial = document.getElementById("preview-data");
  const first = initial ? JSON.parse(initial.textContent) : null;
  function start() {
    if (first) draw(first);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
