// Ask before publishing or withdrawing a release set (the question is on the form).
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();

// Follow package builds on a release page until every package is ready or failed.
(function () {
  "use strict";
  const table = document.querySelector("[data-progress-poll]");
  if (!table) return;
  const busy = () => Array.from(table.querySelectorAll("tr[data-package]"))
    .some((tr) => tr.dataset.state === "queued" || tr.dataset.state === "building");
  if (!busy()) return;
  function poll() {
    fetch(table.dataset.progressPoll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => {
        let changed = false;
        data.packages.forEach((p) => {
          const tr = table.querySelector('tr[data-package="' + p.id + '"]');
          if (!tr) return;
          tr.querySelector(".bar").style.width = p.progress + "%";
          tr.querySelector(".pct").textContent = Math.round(p.progress) + "%";
          if (tr.dataset.state !== p.state && (p.state === "ready" || p.state === "failed")) changed = true;
        });
        if (changed) { window.location.reload(); return; }
        setTimeout(poll, 2000);
      })
      .catch(() => setTimeout(poll, 5000));
  }
  setTimeout(poll, 1000);
})();
