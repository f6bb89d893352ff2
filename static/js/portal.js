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
  // Move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();
