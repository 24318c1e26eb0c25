// Keep progress bars, state badges and jobs tables current by polling the API while work is
// running. One reading per poll feeds everything on the page, so they never disagree.
(function () {
  "use strict";
  const FINAL = new Set(["ready", "failed", "in_review", "changes_requested", "approved", "released", "withdrawn"]);
  function fmtEta(seconds) {
    if (seconds == null) return "";
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return (m ? m + " min " : "") + (s % 60) + " s";
  }
  function setText(row, testid, text) {
    const cell = row.querySelector('[data-testid="' + testid + '"]');
    if (cell && cell.textContent !== text) cell.textContent = text;
  }
  function updateJobs(versionId, jobs) {
    document.querySelectorAll('[data-jobs-for="' + versionId + '"]').forEach((table) => {
      let labels = {};
      try { labels = JSON.parse(table.dataset.stateLabels || "{}"); } catch (e) { labels = {}; }
      (jobs || []).forEach((job) => {
        const row = table.querySelector('tr[data-job="' + job.id + '"]');
        if (!row) return;  // a job created after the page was drawn shows after the reload
        row.dataset.state = job.state;
        setText(row, "job-state", labels[job.state] || job.state);
        setText(row, "job-progress", Math.round(job.progress || 0) + "%");
        setText(row, "job-attempts", String(job.attempts));
        setText(row, "job-worker", job.worker || "");
        setText(row, "job-error", (job.error && job.error.message) || "");
      });
    });
  }
  function poll(badge) {
    const url = badge.dataset.progressUrl;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((data) => {
        const job = data.job || {};
        const pct = Math.round(job.progress || 0);
        document.querySelectorAll('[data-progress-for="' + data.version_id + '"]').forEach((el) => {
          el.querySelector(".bar").style.width = pct + "%";
          el.querySelector(".pct").textContent = pct + "%";
        });
        document.querySelectorAll('[data-eta-for="' + data.version_id + '"]').forEach((el) => {
          el.textContent = job.eta_seconds ? el.dataset.etaLabel + " " + fmtEta(job.eta_seconds) : "";
        });
        updateJobs(data.version_id, data.jobs || (data.job ? [data.job] : []));
        if (FINAL.has(data.state) && data.state !== badge.dataset.state) {
          window.location.reload();  // the page shows the player, renditions, reason
          return;
        }
        setTimeout(() => poll(badge), 2000);
      })
      .catch(() => setTimeout(() => poll(badge), 5000));
  }
  document.querySelectorAll("[data-progress-url]").forEach(poll);
})();
