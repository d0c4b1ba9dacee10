/* fakeecs dashboard: auto-refresh of the state page, the live journal. No framework. */
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");

  function $(id) { return document.getElementById(id); }

  // -- state page: optional reload every 2 s (remembered in this browser) -----------------
  if (page === "state") {
    var box = $("auto-refresh");
    box.checked = localStorage.getItem("fakeecs-refresh") === "1";
    var timer = null;
    var arm = function () {
      clearInterval(timer);
      if (box.checked) { timer = setInterval(function () { location.reload(); }, 2000); }
    };
    box.addEventListener("change", function () {
      localStorage.setItem("fakeecs-refresh", box.checked ? "1" : "0");
      arm();
    });
    arm();
  }

  // -- journal page ------------------------------------------------------------------------
  if (page !== "journal") { return; }
  var config = JSON.parse($("journal-config").textContent);
  var entries = [];
  var last = 0;
  var selected = null;
  var rows = $("journal-rows");
  var filters = {
    method: $("f-method"), status: $("f-status"), family: $("f-family"),
    text: $("f-text"), fault: $("f-fault"), live: $("f-live")
  };

  function pretty(value) {
    if (value === null || value === undefined || value === "") { return "(none)"; }
    return typeof value === "string" ? value : JSON.stringify(value, null, 1);
  }

  function keep(entry) {
    var method = filters.method.value;
    if (method && entry.method !== method) { return false; }
    var status = filters.status.value.trim().toLowerCase();
    if (status) {
      var code = String(entry.status);
      if (/^[1-5]xx$/.test(status) ? code[0] !== status[0] : code !== status) { return false; }
    }
    if (filters.family.value && entry.family !== filters.family.value) { return false; }
    if (filters.fault.checked && !entry.fault) { return false; }
    var text = filters.text.value.trim().toLowerCase();
    if (text && JSON.stringify(entry).toLowerCase().indexOf(text) < 0) { return false; }
    return true;
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (className) { td.className = className; }
    row.appendChild(td);
    return td;
  }

  function show(entry) {
    selected = entry.seq;
    $("detail").hidden = false;
    $("detail-title").textContent = "#" + entry.seq + " " + entry.method + " " + entry.path +
      " → " + entry.status + (entry.fault ? " (fault " + entry.fault + ")" : "");
    $("detail-headers").textContent = pretty(entry.headers);
    $("detail-query").textContent = pretty(entry.query && Object.keys(entry.query).length ? entry.query : null);
    $("detail-body").textContent = pretty(entry.body);
    $("detail-response").textContent = pretty(entry.response);
    render();
  }

  function render() {
    var shown = entries.filter(keep);
    rows.textContent = "";
    for (var i = shown.length - 1; i >= 0; i--) {
      var entry = shown[i];
      var row = document.createElement("tr");
      row.setAttribute("data-seq", entry.seq);
      if (entry.seq === selected) { row.className = "selected"; }
      cell(row, entry.seq);
      cell(row, (entry.time || "").slice(11, 23)).title = entry.time || "";
      cell(row, entry.method);
      cell(row, entry.path, "path");
      cell(row, entry.status, "st-" + String(entry.status)[0]);
      cell(row, entry.family);
      cell(row, entry.action);
      cell(row, entry.project_name || (entry.project_id || "").slice(0, 8));
      cell(row, entry.fault);
      cell(row, entry.duration_ms);
      row.addEventListener("click", show.bind(null, entry));
      rows.appendChild(row);
    }
    $("shown").textContent = shown.length + " of " + entries.length + " shown";
    $("journal-empty").hidden = entries.length > 0;
    $("journal-count").textContent = String(entries.length);
  }

  function poll() {
    var url = config.url + (last ? "?since=" + last : "");
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var fresh = data.requests;
        var before = entries.length;
        // forget what the journal no longer holds (cleared, reset, or pushed out)
        entries = data.oldest === null ? [] : entries.filter(function (e) { return e.seq >= data.oldest; });
        if (fresh.length) {
          entries = entries.concat(fresh);
          last = fresh[fresh.length - 1].seq;
        }
        if (fresh.length || entries.length !== before || !before) { render(); }
      })
      .catch(function () { /* the server went away; try again on the next tick */ });
  }

  Object.keys(filters).forEach(function (name) {
    filters[name].addEventListener("input", render);
    filters[name].addEventListener("change", render);
  });
  $("detail-close").addEventListener("click", function () {
    $("detail").hidden = true; selected = null; render();
  });
  poll();
  setInterval(function () { if (filters.live.checked) { poll(); } }, 1000);
})();
