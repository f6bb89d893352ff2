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
  // The register's search box (templates/associations/_search_box.html): a live list of
  // entries under the field, as an ARIA combobox with its listbox; choosing one fills the
  // association fields. Without script the "Rechercher" button does the same in two steps.
  document.querySelectorAll("[data-association-search]").forEach(function (box) {
    var input = box.querySelector("input[type='search']");
    var list = box.querySelector("[role='listbox']");
    var status = box.querySelector("[data-search-status]");
    var form = input && input.form;
    if (!input || !list || !form || !window.fetch) { return; }
    var url = box.getAttribute("data-association-search");
    var entries = [], active = -1, timer = null, asked = 0;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    function say(text) { status.textContent = text; }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      var options = list.querySelectorAll("[role='option']");
      if (!options.length) { return; }
      active = (index + options.length) % options.length;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
        option.classList.toggle("is-active", i === active);
      });
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }
    function setField(name, value) {
      var field = form.elements[name];
      if (field && value !== null && value !== undefined) { field.value = String(value); }
    }
    function choose(index) {
      var entry = entries[index];
      if (!entry) { return; }
      setField("association_name", entry.name);
      setField("association_registration", entry.number);
      setField("association_city_id", entry.city_id);
      setField("association_field", entry.field);
      input.value = entry.name;
      close();
      say(box.getAttribute("data-chosen").replace("{name}", entry.name));
    }
    function show(found) {
      entries = found;
      list.textContent = "";
      found.forEach(function (entry, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "list-group-item association-option";
        var name = document.createElement("span");
        name.className = "fw-semibold";
        name.textContent = entry.name;
        option.appendChild(name);
        if (entry.name_ar) {
          var arabic = document.createElement("span");
          arabic.lang = "ar";
          arabic.dir = "rtl";
          arabic.textContent = entry.name_ar;
          option.appendChild(document.createTextNode(" · "));
          option.appendChild(arabic);
        }
        var details = document.createElement("span");
        details.className = "d-block small text-secondary";
        var number = document.createElement("bdi");
        number.textContent = entry.number;
        details.appendChild(document.createTextNode(box.getAttribute("data-number") + " "));
        details.appendChild(number);
        if (entry.city) { details.appendChild(document.createTextNode(" · " + entry.city)); }
        if (!entry.checked) {
          var badge = document.createElement("span");
          badge.className = "badge text-bg-warning";
          badge.textContent = box.getAttribute("data-to-verify");
          details.appendChild(document.createTextNode(" "));
          details.appendChild(badge);
        }
        option.appendChild(details);
        // mousedown, not click: the field keeps the focus (no blur closing the list first).
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
        list.appendChild(option);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      active = -1;
      input.removeAttribute("aria-activedescendant");
      say(found.length ? box.getAttribute("data-found").replace("{n}", found.length) : box.getAttribute("data-none"));
    }
    function ask() {
      var q = input.value.trim();
      if (q.length < 2) { close(); entries = []; return; }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          // An older answer arriving after a newer question is dropped.
          if (data && mine === asked) { show(data.results || []); }
        })
        .catch(function () { /* the "Rechercher" button still works */ });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 250);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (open) { highlight(active + 1); } else if (entries.length) { show(entries); highlight(0); } else { ask(); }
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(active - 1);
      } else if (event.key === "Enter") {
        // Enter in the search field never sends the whole form: it chooses or searches.
        event.preventDefault();
        if (open && active >= 0) { choose(active); } else { window.clearTimeout(timer); ask(); }
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
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
