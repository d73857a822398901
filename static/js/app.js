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

  // The system share sheet (Web Share API) exists mostly on phones; elsewhere the
  // button stays hidden and Copy link / the QR code do the job.
  function showShareButtons(root) {
    if (typeof navigator.share !== "function") return;
    root.querySelectorAll("[data-share-url]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function share(button) {
    navigator.share({
      text: button.getAttribute("data-share-text") || "",
      url: button.getAttribute("data-share-url"),
    }).catch(function () {
      // Closing the sheet rejects the promise (AbortError): nothing to tell.
    });
  }

  // A swapped-in form replaces the button that had focus; without this,
  // keyboard and screen-reader users would be sent back to the top of the page.
  function focusFirstField(root) {
    var form = root.querySelector ? root.querySelector("[data-autofocus]") : null;
    var field = form && form.querySelector("input:not([type=hidden])");
    if (field) field.focus();
  }

  document.addEventListener("click", function (event) {
    var shareButton = event.target.closest("[data-share-url]");
    if (shareButton) {
      share(shareButton);
      return;
    }
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
      var original = button.textContent;
      var copied = button.getAttribute("data-copied") || original;
      var status = document.querySelector("[data-copy-status]");
      button.textContent = copied;
      // The button's new text is not announced; a status region is.
      if (status) status.textContent = copied;
      setTimeout(function () {
        button.textContent = original;
        if (status) status.textContent = "";
      }, 1500);
    });
  });

  function enhance(root) {
    startCountdowns(root);
    showCopyButtons(root);
    showShareButtons(root);
    focusFirstField(root);
  }

  if (window.htmx) {
    window.htmx.onLoad(enhance);
  } else {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  }
})();
