// Latchkey console: small enhancements over server-rendered pages.
// Dates as DD/MM/YYYY in the viewer's zone (named), a calendar for date fields
// (no past day), fields of an inactive choice disabled, the copy button, dialogs
// closed with Escape, and the show-once page replaced in the history when left.
// Everything also works without this script: the server ignores the fields of an
// inactive choice whether they are sent or not.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function ddmmyyyy(d) { return pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear(); }
  function parseDate(text) {
    var m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text || "");
    if (!m) { return null; }
    var d = new Date(+m[3], +m[2] - 1, +m[1]);
    return d.getDate() === +m[1] && d.getMonth() === +m[2] - 1 ? d : null;
  }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }

  // The short name of the viewer's zone on day `d` ("UTC", "CET", "GMT+2").
  function zoneName(d) {
    try {
      var parts = new Intl.DateTimeFormat("en-GB", { timeZoneName: "short" }).formatToParts(d);
      for (var i = 0; i < parts.length; i++) { if (parts[i].type === "timeZoneName") { return parts[i].value; } }
    } catch (e) { return zone; }
    return zone;
  }
  // Dates shown in the viewer's zone, which they name.
  document.querySelectorAll("time[data-local-date]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) { t.textContent = ddmmyyyy(d) + " " + zoneName(d); t.title = d.toString(); }
  });
  // The Edit dialog's date, in the viewer's zone (and the "unchanged" marker with it).
  document.querySelectorAll("input[data-utc]").forEach(function (input) {
    var d = new Date(input.getAttribute("data-utc"));
    if (isNaN(d)) { return; }
    input.value = ddmmyyyy(d);
    var original = input.form && input.form.querySelector("input[data-original-for='" + input.id + "']");
    if (original) { original.value = input.value; }
  });
  document.querySelectorAll("[data-timezone]").forEach(function (s) { if (zone) { s.textContent = zone; } });

  // Table cells get their column name, for the stacked small-screen layout.
  document.querySelectorAll("table[data-stacked-labels]").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent; });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) { td.setAttribute("data-label", heads[i] || ""); });
    });
  });

  // Fields of an inactive choice are disabled: `data-enables` names the block a
  // checkbox or radio switches on (`data-enables-when`: checked or unchecked).
  document.querySelectorAll("input[data-enables]").forEach(function (control) {
    var block = document.getElementById(control.getAttribute("data-enables"));
    if (!block) { return; }
    var whenChecked = control.getAttribute("data-enables-when") !== "unchecked";
    function apply() {
      var on = control.checked === whenChecked;
      block.querySelectorAll("input, select, textarea, button").forEach(function (f) { f.disabled = !on; });
      block.classList.toggle("inactive", !on);
      if (on) { block.querySelectorAll("select[data-none-disables]").forEach(applyNone); }
    }
    var group = control.type === "radio" && control.form
      ? control.form.querySelectorAll("input[type=radio][name='" + control.name + "']")
      : [control];
    Array.prototype.forEach.call(group, function (c) { c.addEventListener("change", apply); });
    apply();
  });

  // A policy's duration is inactive while its unit is NONE.
  function applyNone(select) {
    var duration = document.getElementById(select.getAttribute("data-none-disables"));
    if (duration) { duration.disabled = select.disabled || select.value === "NONE"; }
  }
  document.querySelectorAll("select[data-none-disables]").forEach(function (select) {
    select.addEventListener("change", function () { applyNone(select); });
    applyNone(select);
  });

  // Auto-submitting filters (the Show button remains for keyboard users).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });

  // Date fields: Never expires clears and disables the date (and its calendar);
  // unticking it brings the date back.
  document.querySelectorAll("input[data-datepicker]").forEach(function (input) {
    var never = document.querySelector("input[data-never-for='" + input.id + "']");
    var utc = input.form && input.form.querySelector("input[data-utc-for='" + input.id + "']");
    var calendarButton = document.querySelector("button[data-calendar-for='" + input.id + "']");
    if (never) {
      var kept = "";
      var apply = function () {
        if (never.checked && input.value) { kept = input.value; input.value = ""; }
        if (!never.checked && !input.value) { input.value = kept; }
        input.disabled = never.checked;
        if (calendarButton) { calendarButton.disabled = never.checked; }
      };
      never.addEventListener("change", apply);
      apply();
    }
    if (input.form && utc) {
      input.form.addEventListener("submit", function () {
        var d = parseDate(input.value);
        // The end of the chosen day in the viewer's zone, as an instant.
        utc.value = d ? new Date(d.getFullYear(), d.getMonth(), d.getDate(), 23, 59, 59).toISOString() : "";
      });
    }
    if (calendarButton) { attachCalendar(input, calendarButton, never); }
  });

  function attachCalendar(input, button, never) {
    var popup = null, shown = null;
    var months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    function close(focusButton) {
      if (popup) { popup.remove(); popup = null; }
      button.setAttribute("aria-expanded", "false");
      if (focusButton) { button.focus(); }
    }
    function pick(d) {
      input.value = ddmmyyyy(d);
      if (never) { never.checked = false; }
      close(false);
      input.focus();
    }
    // Today in the viewer's zone: the first day a secret may expire (at its end).
    function today() { var n = new Date(); return new Date(n.getFullYear(), n.getMonth(), n.getDate()); }
    function render(focusDay) {
      var selected = parseDate(input.value);
      var first = today();
      if (focusDay && focusDay < first) { focusDay = first; shown = new Date(first.getFullYear(), first.getMonth(), 1); }
      popup.innerHTML = "";
      var head = document.createElement("div");
      head.className = "calendar-head";
      var prev = document.createElement("button");
      prev.type = "button"; prev.className = "secondary"; prev.textContent = "\u2039"; prev.setAttribute("aria-label", "Previous month");
      var next = document.createElement("button");
      next.type = "button"; next.className = "secondary"; next.textContent = "\u203a"; next.setAttribute("aria-label", "Next month");
      var title = document.createElement("strong");
      title.setAttribute("aria-live", "polite");
      title.textContent = months[shown.getMonth()] + " " + shown.getFullYear();
      prev.disabled = shown <= new Date(first.getFullYear(), first.getMonth(), 1);
      prev.addEventListener("click", function () { shown = new Date(shown.getFullYear(), shown.getMonth() - 1, 1); render(); });
      next.addEventListener("click", function () { shown = new Date(shown.getFullYear(), shown.getMonth() + 1, 1); render(); });
      head.appendChild(prev); head.appendChild(title); head.appendChild(next);
      popup.appendChild(head);
      var table = document.createElement("table");
      table.setAttribute("role", "grid");
      var hr = document.createElement("tr");
      ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"].forEach(function (n) { var th = document.createElement("th"); th.textContent = n; hr.appendChild(th); });
      var thead = document.createElement("thead"); thead.appendChild(hr); table.appendChild(thead);
      var tbody = document.createElement("tbody");
      var offset = (new Date(shown.getFullYear(), shown.getMonth(), 1).getDay() + 6) % 7;
      var days = new Date(shown.getFullYear(), shown.getMonth() + 1, 0).getDate();
      var row = document.createElement("tr"), cell, i, focusTarget = null;
      for (i = 0; i < offset; i++) { row.appendChild(document.createElement("td")); }
      for (i = 1; i <= days; i++) {
        var d = new Date(shown.getFullYear(), shown.getMonth(), i);
        cell = document.createElement("td");
        var b = document.createElement("button");
        b.type = "button"; b.textContent = String(i);
        b.setAttribute("aria-label", ddmmyyyy(d));
        b.setAttribute("data-date", ddmmyyyy(d));
        var isSel = selected && selected.getTime() === d.getTime();
        b.setAttribute("aria-pressed", isSel ? "true" : "false");
        if (d < first) { b.disabled = true; b.setAttribute("aria-disabled", "true"); b.title = "In the past"; }
        b.addEventListener("click", (function (day) { return function () { pick(day); }; })(d));
        b.addEventListener("keydown", (function (day) {
          return function (ev) {
            var delta = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[ev.key];
            if (delta) {
              ev.preventDefault();
              var nd = new Date(day.getFullYear(), day.getMonth(), day.getDate() + delta);
              shown = new Date(nd.getFullYear(), nd.getMonth(), 1);
              render(nd);
            }
          };
        })(d));
        cell.appendChild(b); row.appendChild(cell);
        if ((focusDay && focusDay.getTime() === d.getTime()) || (!focusDay && isSel)) { focusTarget = b; }
        if ((offset + i) % 7 === 0) { tbody.appendChild(row); row = document.createElement("tr"); }
      }
      if (row.children.length) { tbody.appendChild(row); }
      table.appendChild(tbody);
      popup.appendChild(table);
      (focusTarget || popup.querySelector("td button:not([disabled])") || prev).focus();
    }
    button.addEventListener("click", function () {
      if (popup) { close(true); return; }
      // Opens on the month of the date in the field, else on the current month.
      var selected = parseDate(input.value);
      if (!selected || selected < today()) { selected = today(); }
      shown = new Date(selected.getFullYear(), selected.getMonth(), 1);
      popup = document.createElement("div");
      popup.className = "calendar";
      popup.setAttribute("role", "dialog");
      popup.setAttribute("aria-label", "Choose a date");
      popup.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { ev.stopPropagation(); close(true); } });
      button.parentNode.appendChild(popup);
      button.setAttribute("aria-expanded", "true");
      render();
    });
  }

  // Copy button of the show-once dialog.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var field = document.getElementById(b.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      function done(ok) { if (status) { status.textContent = ok ? "Copied to the clipboard." : "Select the value and copy it with your keyboard."; } }
      field.focus(); field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
      } else {
        done(document.execCommand("copy"));
      }
    });
  });

  // Leaving the show-once page replaces it in the history, so Back cannot bring the value back.
  document.querySelectorAll("a[data-replace]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      var v = document.getElementById("secret-value");
      if (v) { v.value = ""; }
      window.location.replace(a.href);
    });
  });

  // Dialogs: Escape goes back to the page under them; Tab stays inside.
  var dialog = document.querySelector(".dialog[data-cancel]");
  if (dialog) {
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { window.location.href = dialog.getAttribute("data-cancel"); }
      if (ev.key === "Tab") {
        var f = dialog.querySelectorAll("a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea");
        if (!f.length) { return; }
        var first = f[0], last = f[f.length - 1];
        if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
        else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
        else if (!dialog.contains(document.activeElement)) { ev.preventDefault(); first.focus(); }
      }
    });
    if (!dialog.contains(document.activeElement)) {
      var target = dialog.querySelector("[autofocus]") || dialog.querySelector("input:not([type=hidden]), button, a[href]");
      if (target) { target.focus(); }
    }
  }
  // A refused form puts `autofocus` on the first field in error; make sure it has the focus.
  // Where the server named no field, the error box's first line names it by its
  // label ("Expiring within: …"): that field gets the focus.
  if (!dialog) {
    var first = document.querySelector("main [autofocus]");
    var box = document.querySelector("main .error[role=alert]");
    if (!first && box) { first = fieldNamedBy(box.textContent.trim()); }
    if (first && !first.disabled && (!document.activeElement || document.activeElement === document.body)) {
      first.focus();
      if (box) { first.setAttribute("aria-invalid", "true"); }
    }
  }
  function fieldNamedBy(text) {
    var fields = document.querySelectorAll("main input:not([type=hidden]):not([disabled]), main select:not([disabled]), main textarea:not([disabled])");
    for (var i = 0; i < fields.length; i++) {
      var label = fields[i].labels && fields[i].labels[0];
      if (!label) { continue; }
      var copy = label.cloneNode(true);
      copy.querySelectorAll(".optional").forEach(function (o) { o.remove(); });
      var name = copy.textContent.replace(/\s*\([^)]*\)\s*$/, "").trim();
      if (name && text.indexOf(name + ":") === 0) { return fields[i]; }
    }
    return null;
  }
  var shownDialog = document.getElementById("shown-dialog");
  if (shownDialog) { var copy = document.getElementById("copy-secret"); if (copy) { copy.focus(); } }
})();
