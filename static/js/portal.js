// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Ask before destructive actions (forms marked data-confirm).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // A double click must not send the form twice.
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    window.setTimeout(function () { form.dataset.submitted = ""; }, 8000);
    // A password shown while typing goes back to hidden before it leaves the page, so
    // that the browser never keeps it among the texts it remembers.
    form.querySelectorAll("[data-reveal]").forEach(function (button) { reveal(button, false); });
  });
  // Show or hide what was typed in a password field (the buttons are hidden without script).
  function reveal(button, show) {
    var input = document.getElementById(button.getAttribute("data-reveal"));
    if (!input) { return; }
    input.type = show ? "text" : "password";
    button.querySelector("[data-reveal-text]").textContent = show ? button.dataset.hide : button.dataset.show;
  }
  document.querySelectorAll("[data-reveal]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-reveal"));
      reveal(button, input.type === "password");
      input.focus();
    });
  });
  // Warn before the session ends for want of activity (templates/auth/_session_warning.html).
  var warning = document.getElementById("session-warning");
  if (warning && window.fetch) {
    var WARN_BEFORE = 180; // seconds: time enough to read the warning and answer it
    var deadline = 0;
    var timer = null;
    var extendable = true; // false once the session nears its absolute limit
    var show = function (state) {
      warning.querySelectorAll("[data-session-state]").forEach(function (part) {
        part.hidden = part.getAttribute("data-session-state") !== state;
      });
      warning.querySelector("[data-session-stay]").hidden = state !== "warning";
      warning.querySelector("[data-session-login]").hidden = state !== "ended";
      warning.hidden = false;
    };
    var tick = function () {
      var left = (deadline - Date.now()) / 1000;
      if (left <= 0) {
        show("ended");
        return;
      }
      if (left <= WARN_BEFORE) {
        show(extendable ? "warning" : "ending");
        timer = window.setTimeout(tick, left * 1000);
      } else {
        timer = window.setTimeout(tick, (left - WARN_BEFORE) * 1000);
      }
    };
    var schedule = function (secondsLeft) {
      window.clearTimeout(timer);
      warning.hidden = true;
      deadline = Date.now() + secondsLeft * 1000;
      tick();
    };
    warning.querySelector("[data-session-stay]").addEventListener("click", function () {
      window.fetch(warning.getAttribute("data-keepalive"), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : { seconds_left: 0 };
      }).then(function (data) {
        extendable = data.seconds_left > WARN_BEFORE;
        schedule(data.seconds_left);
      }).catch(function () {
        // Offline for a moment: the warning stays, the button can be pressed again.
      });
    });
    schedule(parseInt(warning.getAttribute("data-seconds-left"), 10) || 0);
  }
  // Escape closes the phone menu and gives the keyboard back to the button that opened it.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var menu = document.querySelector(".navbar-collapse.show");
    var toggler = menu && document.querySelector("[data-bs-target='#" + menu.id + "']");
    if (!toggler || !menu.closest(".navbar").contains(document.activeElement)) { return; }
    toggler.click();
    toggler.focus();
  });
  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("form-errors");
  if (summary) {
    summary.focus();
    // A link of the summary puts the keyboard in its field, the field's label in view.
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      var group = target.type === "radio" && target.closest("fieldset");
      var label = group ? group.querySelector("legend") : document.querySelector("label[for='" + target.id + "']");
      (label || target).scrollIntoView({ block: "start" });
      target.focus({ preventScroll: true });
    });
  }
})();
