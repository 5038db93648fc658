// Copy buttons of the integration page: [data-copy=ID] copies the text of the element ID.
// The clipboard API needs a secure context (https or localhost); elsewhere the text is
// selected so the person can copy it by hand.
(function () {
  "use strict";
  const status = document.querySelector("[data-role=copy-status]");

  function say(text) {
    if (status) status.textContent = text;
  }

  function select(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = source.textContent;
      const label = button.textContent;
      const done = function () {
        button.textContent = "Copied";
        say("Copied to the clipboard.");
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      const byHand = function () {
        select(source);
        say("Selected: press Ctrl+C (or ⌘C) to copy.");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, byHand);
      } else {
        byHand();
      }
    });
  });
})();
