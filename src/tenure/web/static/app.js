/* Tenure console: CSRF header for htmx, keyboard shortcuts, command palette, charts. */
(function () {
  "use strict";
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  // The Content-Security-Policy allows no inline script: behaviour the templates used to write
  // in on…= attributes is declared with data- attributes and wired here.
  document.addEventListener("change", (event) => {
    const field = event.target;
    if (field.matches && field.matches("[data-autosubmit]") && field.form) field.form.submit();
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (event.detail.successful && form.matches && form.matches("form[data-reset-on-success]")) form.reset();
  });

  // --- lists: j/k move, Enter/o open, x select ---------------------------------------------
  function rows() {
    const list = document.querySelector("[data-list]");
    return list ? Array.from(list.querySelectorAll("[data-row]")) : [];
  }
  let current = -1;
  function select(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach((row, i) => row.classList.toggle("selected", i === current));
    all[current].scrollIntoView({ block: "nearest" });
  }
  function openSelected() {
    const row = rows()[current];
    if (!row) return;
    const href = row.dataset.href || (row.querySelector("a") || {}).href;
    if (href) window.location.href = href;
  }
  document.addEventListener("htmx:afterSwap", () => { current = -1; drawCharts(); });

  // --- palette --------------------------------------------------------------------------------
  const palette = () => document.getElementById("palette");
  let results = [], active = 0, timer = null;
  function pages() {
    const node = document.getElementById("palette-pages");
    return node ? JSON.parse(node.textContent) : [];
  }
  function show(entries) {
    results = entries; active = 0;
    const list = document.getElementById("palette-results");
    list.innerHTML = "";
    entries.forEach((entry, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.className = i === active ? "active" : "";
      const label = document.createElement("span");
      label.textContent = entry.label;
      const hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = entry.kind + (entry.hint ? " · " + entry.hint : "");
      li.append(label, hint);
      li.addEventListener("click", () => { window.location.href = entry.url; });
      list.append(li);
    });
  }
  function highlight(delta) {
    if (!results.length) return;
    active = (active + delta + results.length) % results.length;
    document.querySelectorAll("#palette-results li").forEach((li, i) => li.classList.toggle("active", i === active));
  }
  function openPalette() {
    const node = palette();
    if (!node) return;
    node.hidden = false;
    const input = document.getElementById("palette-input");
    input.value = "";
    show(pages());
    input.focus();
  }
  function closeMenus(except) {
    document.querySelectorAll("details.nav-menu[open], details.user-menu[open]").forEach((menu) => { if (menu !== except) menu.open = false; });
  }
  // A menu of the top bar closes when the pointer goes elsewhere, as menus do.
  document.addEventListener("click", (event) => {
    closeMenus(event.target.closest ? event.target.closest("details.nav-menu, details.user-menu") : null);
  });
  function closeOverlays() {
    closeMenus(null);
    if (palette()) palette().hidden = true;
    const help = document.getElementById("shortcuts");
    if (help) help.hidden = true;
  }
  function search(text) {
    clearTimeout(timer);
    if (!text.trim()) { show(pages()); return; }
    timer = setTimeout(async () => {
      const response = await fetch("/api/v1/search?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } });
      if (response.ok) show(await response.json());
    }, 120);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const input = document.getElementById("palette-input");
    if (input) {
      input.addEventListener("input", () => search(input.value));
      input.addEventListener("keydown", (event) => {
        if (event.key === "ArrowDown") { highlight(1); event.preventDefault(); }
        else if (event.key === "ArrowUp") { highlight(-1); event.preventDefault(); }
        else if (event.key === "Enter" && results[active]) { window.location.href = results[active].url; }
        else if (event.key === "Escape") { closeOverlays(); }
      });
    }
    document.querySelectorAll("[data-palette-open]").forEach((b) => b.addEventListener("click", openPalette));
    const palNode = palette();
    if (palNode) palNode.addEventListener("click", (e) => { if (e.target === palNode) closeOverlays(); });
    document.querySelectorAll("[data-select-all]").forEach((box) => box.addEventListener("change", () => {
      box.closest("table").querySelectorAll('tbody input[type=checkbox]').forEach((c) => { c.checked = box.checked; });
    }));
    drawCharts();
  });

  // --- keyboard ------------------------------------------------------------------------------
  let pendingG = false;
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") { event.preventDefault(); openPalette(); return; }
    if (event.key === "Escape") { closeOverlays(); if (typing) target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (pendingG) {
      pendingG = false;
      const page = pages().find((p) => p.hint === "g " + event.key);
      if (page) { window.location.href = page.url; }
      return;
    }
    switch (event.key) {
      case "/": {
        const field = document.querySelector("[data-search]") || document.querySelector("main input:not([type=hidden]), main select");
        if (field) { event.preventDefault(); field.focus(); }
        break;
      }
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "Enter": case "o": if (current >= 0) { event.preventDefault(); openSelected(); } break;
      case "x": {
        const box = rows()[current] && rows()[current].querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked;
        break;
      }
      case "a": case "s": case "d": {
        // CTA triage on the selected row: acknowledge; snooze and close open their small form.
        const target = rows()[current] && rows()[current].querySelector(`[data-triage="${event.key}"]`);
        if (!target) break;
        event.preventDefault();
        if (target.tagName === "FORM") { target.submit(); break; }
        target.open = true;
        const field = target.querySelector("input:not([type=hidden]), select, textarea");
        if (field) field.focus();
        break;
      }
      case "g": pendingG = true; setTimeout(() => { pendingG = false; }, 1200); break;
      case "?": { const help = document.getElementById("shortcuts"); if (help) help.hidden = !help.hidden; break; }
    }
  });

  // --- charts (uPlot, vendored) ---------------------------------------------------------------
  function drawCharts() {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll(".chart[data-x]:not([data-drawn])").forEach((node) => {
      const days = JSON.parse(node.dataset.x);
      const xs = days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
      const ys = JSON.parse(node.dataset.y);
      const step = node.dataset.chart === "step";
      // data-unit="percent": a ratio around 100 % (NRR) drawn in percent on its own range;
      // data-unit="share": a share of 0–1 (license utilization) drawn from 0 to 100 %;
      // data-ticks="quarters": one tick a quarter.
      const share = node.dataset.unit === "share";
      const pct = node.dataset.unit === "percent" || share;
      const quarters = node.dataset.ticks === "quarters";
      // Whole figures as the page prints them (ARR 3,441, not 3,441.04); small ones keep 2 digits.
      const whole = (v) => v.toLocaleString("en-US", { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2 });
      const show = (v) => (v == null ? "—" : pct ? Math.round(v * 100) + " %" : whole(v));
      const quarter = (t) => { const d = new Date(t * 1000); return d.getUTCFullYear() + " Q" + (Math.floor(d.getUTCMonth() / 3) + 1); };
      const finite = ys.filter((v) => v != null);
      const low = Math.min(...finite), high = Math.max(...finite);
      const options = {
        width: node.clientWidth || 500, height: 200,
        // Room on the right for the last day's label, which was cut off at the edge.
        padding: [null, 36, null, null],
        series: [
          { label: quarters ? "Quarter" : "Day", value: (u, t) => (t == null ? "—" : quarters ? quarter(t) : new Date(t * 1000).toISOString().slice(0, 10)) },
          {
            label: node.dataset.label || "", stroke: "#2757d6", width: 2, fill: "rgba(39,87,214,.08)",
            paths: step ? uPlot.paths.stepped({ align: 1 }) : undefined, value: (u, v) => show(v),
            points: { show: quarters },
          },
        ],
        axes: [
          // Daily data ticks on days, weeks, months, quarters, half years or years — never hours —
          // each tick says only what its step needs ("2026 Q1", not "2026-01-01"): two years of
          // ARR history printed dates run together ("2025-04-012025-07-01…"). Over half a year
          // the labels are months or quarters (7 characters), so ticks may stand closer.
          quarters
            ? { splits: () => xs, values: (u, ticks) => ticks.map(quarter) }
            : { space: (u, axis, min, max) => (max - min > 180 * 86400 ? 60 : 80), incrs: [86400, 604800, 2592000, 7776000, 15552000, 31536000], values: (u, ticks, axis, space, incr) => ticks.map((t) => (incr >= 31536000 ? String(new Date(t * 1000).getUTCFullYear()) : incr >= 7776000 ? quarter(t) : new Date(t * 1000).toISOString().slice(0, incr >= 2592000 ? 7 : 10))) },
          { size: 70, values: (u, ticks) => ticks.map(show) },
        ],
        // A percent chart frames its own range (NRR of 95–110 % is not drawn on 0–110 %).
        scales: { y: { range: (u, min, max) => (share ? [0, Math.max(high, 1)] : pct ? [Math.min(low, 1) - 0.05, Math.max(high, 1) + 0.05] : [0, max * 1.1 || 1]) } },
      };
      // The legend reads the latest value until the pointer picks another ("NRR 104 %", not "--").
      options.hooks = { ready: [(u) => { if (xs.length) u.setLegend({ idx: xs.length - 1 }); }] };
      // Kept on the node: a browser test reads the ticks the chart drew on its canvas.
      node.uplot = new uPlot(options, [xs, ys], node);
      node.dataset.drawn = "1";
    });
    document.querySelectorAll(".chart[data-cohorts]:not([data-drawn])").forEach(drawCohorts);
  }

  // Retention curves: x = months since start, one line per cohort (shorter ones end early).
  // Past 8 cohorts the colours come round again, dashed then dotted, so no two lines look alike.
  const PALETTE = ["#2757d6", "#c62e2e", "#2f8a4c", "#b7791f", "#7b3fb5", "#14808a", "#6b7385", "#d6278f"];
  const DASHES = [null, [8, 4], [2, 3]];
  function drawCohorts(node) {
    const curves = JSON.parse(node.dataset.cohorts);
    const longest = Math.max(0, ...curves.map((c) => c.values.length));
    const months = Array.from({ length: longest }, (_, m) => m);
    const data = [months, ...curves.map((c) => months.map((m) => (m < c.values.length ? c.values[m] : null)))];
    const pct = (v) => Math.round(v * 100) + " %";
    // A cohort that has not reached the month read in the legend says where its line ends
    // ("100 % at month 5"), not "—": the legend opens on the oldest line's last month, and
    // every younger cohort read "—" there.
    const reading = (c) => (u, v, i, idx) => {
      if (v != null) return pct(v);
      const last = c.values.length - 1;
      return idx != null && idx > last && last >= 0 ? pct(c.values[last]) + " at month " + last : "—";
    };
    const options = {
      width: node.clientWidth || 500, height: 260,
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1.05, max * 1.05)] } },
      series: [{ label: "Month" }, ...curves.map((c, i) => {
        const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length];
        return { label: c.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false, value: reading(c), ...(dash ? { dash } : {}) };
      })],
      legend: { markers: { dash: (u, i) => (u.series[i].dash ? "dashed" : "solid") } },
      axes: [
        { label: "Months since start", values: (u, ticks) => ticks.map((v) => (Number.isInteger(v) ? v : "")) },
        { size: 55, values: (u, ticks) => ticks.map(pct) },
      ],
    };
    options.hooks = { ready: [(u) => { if (longest) u.setLegend({ idx: longest - 1 }); }] };
    node.uplot = new uPlot(options, data, node);
    node.dataset.drawn = "1";
  }
})();
