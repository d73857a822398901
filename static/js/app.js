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

  function clock(seconds) {
    var rest = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  // The code's lifetime, counted down; the server wrote the same figure for JS off.
  function startLifetimes(root) {
    root.querySelectorAll("[data-expires]").forEach(function (line) {
      var ends = Date.now() + (parseInt(line.getAttribute("data-expires"), 10) || 0) * 1000;
      var label = line.getAttribute("data-label") || "";
      function tick() {
        if (!line.isConnected) return;
        var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
        line.textContent = left > 0 ? label.replace("{t}", clock(left)) : line.getAttribute("data-expired");
        if (left > 0) setTimeout(tick, 1000);
      }
      tick();
    });
  }

  // The same rule as auth_flow/forms.py code_from_text: "12 34", "1-2-3-4",
  // "Your code: 1234" or the whole SMS ("... 1234 ... @host #1234") give 1234.
  function codeFromText(value) {
    if (value.length > 200) return null;
    var groups = value.match(/[0-9]+/g) || [];
    var digits = groups.join("");
    if (digits.length === 4) return digits;
    var origin = /#([0-9]{4})\s*$/.exec(value);
    if (origin && groups.slice(0, -1).indexOf(origin[1]) !== -1) return origin[1];
    return null;
  }

  function submitCode(form, code) {
    var field = form.querySelector("input[name=code]");
    field.value = code;
    if (form.getAttribute("data-submitted") === code) return;
    form.setAttribute("data-submitted", code);
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  }

  // The code field: pasted text is taken apart and the 4th digit sends the form.
  // Listened for on the document: a field swapped in a moment ago counts at once.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("[data-code-form] input[name=code]")) return;
    var code = codeFromText(field.value);
    if (code) submitCode(field.form, code);
  });

  // Where the browser can read the SMS (WebOTP: the text's last line is
  // "@<host> #<code>"), it hands the code over and the form is sent.
  function askWebOtp(root) {
    if (!("OTPCredential" in window) || !navigator.credentials) return;
    var forms = root.matches && root.matches("[data-code-form]") ? [root] : [];
    root.querySelectorAll("[data-code-form]").forEach(function (form) { forms.push(form); });
    forms.forEach(function (form) {
      var abort = new AbortController();
      // The form is swapped away (an error, a resend): that request is over.
      document.addEventListener("htmx:beforeSwap", function stop(event) {
        if (event.detail.target && event.detail.target.contains(form)) {
          abort.abort();
          document.removeEventListener("htmx:beforeSwap", stop);
        }
      });
      navigator.credentials.get({ otp: { transport: ["sms"] }, signal: abort.signal })
        .then(function (otp) {
          if (otp && otp.code && form.isConnected) submitCode(form, String(otp.code));
        })
        .catch(function () {
          // Aborted, refused or not available here: the person types the code.
        });
    });
  }

  // After htmx moves the address (the code screen), the language switch comes back
  // to the new one, not to the page the header was rendered for.
  function keepLanguageNext() {
    document.querySelectorAll("[data-language-next]").forEach(function (input) {
      input.value = window.location.pathname + window.location.search;
    });
  }
  document.addEventListener("htmx:pushedIntoHistory", keepLanguageNext);
  document.addEventListener("htmx:replacedInHistory", keepLanguageNext);

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
    startLifetimes(root);
    askWebOtp(root);
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
