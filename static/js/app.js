// Progressive enhancement only: every screen works without this file.
(function () {
  "use strict";

  function startCountdowns(root) {
    root.querySelectorAll("[data-countdown]").forEach(function (button) {
      var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
      var text = button.parentElement.querySelector("[data-countdown-text]");
      var label = text ? text.getAttribute("data-label") : "";
      function tick() {
        if (left <= 0) {
          button.disabled = false;
          if (text) text.textContent = "";
          return;
        }
        button.disabled = true;
        if (text) text.textContent = label.replace("{s}", String(left));
        left -= 1;
        setTimeout(tick, 1000);
      }
      tick();
    });
  }

  function showCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (navigator.clipboard) button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      var original = button.textContent;
      button.textContent = button.getAttribute("data-copied") || original;
      setTimeout(function () { button.textContent = original; }, 1500);
    });
  });

  function enhance(root) {
    startCountdowns(root);
    showCopyButtons(root);
  }

  if (window.htmx) {
    window.htmx.onLoad(enhance);
  } else {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  }
})();
