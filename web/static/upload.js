// Upload page: drag-and-drop of several files, each sent with tus-js-client (resumable).
// A picked file waits in its row, its title (the file name, proposed) editable, until the
// producer starts it; what is sent is what the form and the row say at that moment.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form || !window.tus) return;
  const msg = form.dataset;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const tbody = document.querySelector("#uploads tbody");
  const drop = document.getElementById("drop");
  const startAll = document.getElementById("start-all");
  const newCut = form.querySelector('input[name="episode_id"]');
  const MEDIA_EXT = /\.(mp4|m4v|mov|mkv|avi|wmv|asf|flv|f4v|webm|ogv|ogg|mpg|mpeg|m2v|vob|ts|mts|m2ts|mxf|dv|3gp|3g2|rm|rmvb|m4a|mp3|wav|aac|flac|opus|wma|ac3|y4m|nut|h264|264|hevc|265)$/i;
  const waiting = new Set();  // rows whose start() the "start all" button calls

  function fmtSize(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  function isMedia(file) {
    return /^(video|audio)\//.test(file.type) || MEDIA_EXT.test(file.name);
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text != null) node.textContent = text;  // never innerHTML: file names are user text
    return node;
  }

  function formMetadata() {
    const data = new FormData(form);
    const meta = {};
    for (const [key, value] of data.entries()) {
      if (key === "topics") continue;
      if (typeof value === "string" && value.trim()) meta[key] = value.trim();
    }
    const topics = data.getAll("topics");
    if (topics.length) meta.topics = topics.join(",");
    return meta;
  }

  function serverMessage(err) {
    const res = err && err.originalResponse;
    const body = res && res.getBody && res.getBody();
    return (body && String(body).trim()) || (err && err.message) || String(err);
  }

  function duplicateLink(res) {
    const link = (res && res.getHeader("Link")) || "";
    const found = /<([^>]+)>\s*;\s*rel="?duplicate"?/.exec(link);
    return found ? found[1] : null;
  }

  // A stored resume point of an upload that ended must not be resumed by the next add.
  function forget(url) {
    if (!url) return;
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (!key || !key.startsWith("tus::")) continue;
      try {
        if (JSON.parse(localStorage.getItem(key)).uploadUrl === url) localStorage.removeItem(key);
      } catch (e) { /* not ours */ }
    }
  }

  function refreshStartAll() {
    if (startAll) startAll.hidden = waiting.size < 2;
  }

  function addRow(file) {
    const row = el("tr", { "data-testid": "upload-row" });
    const nameCell = el("td", { class: "wrap" });
    nameCell.appendChild(el("div", {}, file.name));
    nameCell.appendChild(el("div", { class: "hint" }, fmtSize(file.size)));
    const titleCell = el("td");
    const title = el("input", { maxlength: "300", "data-testid": "title", "aria-label": msg.msgTitle });
    title.value = newCut ? msg.episodeTitle : file.name.replace(/\.[^.]+$/, "");
    title.disabled = Boolean(newCut);
    titleCell.appendChild(title);
    const progCell = el("td");
    const status = el("div", { class: "status", "data-testid": "upload-status", role: "status" });
    const bar = el("div", { class: "progress" });
    const fill = el("div", { class: "bar" });
    fill.style.width = "0%";  // through CSSOM: a strict CSP may forbid style attributes
    const pct = el("span", { class: "pct" }, "0%");
    bar.append(fill, pct);
    progCell.append(status, bar);
    const actCell = el("td");
    const button = el("button", { type: "button", class: "primary", "data-testid": "start" }, msg.msgStart);
    actCell.appendChild(button);
    row.append(nameCell, titleCell, progCell, actCell);
    tbody.appendChild(row);

    function refuse(text) {
      status.textContent = text;
      status.className = "status error-text";
      row.dataset.state = "refused";
      bar.remove();
      button.remove();
    }
    if (!isMedia(file)) { refuse(msg.msgNotMedia); return; }
    if (file.size > Number(form.dataset.maxSize)) { refuse(msg.msgTooBig); return; }

    const fingerprint = window.mamFingerprint ? window.mamFingerprint(file) : Promise.resolve(null);
    let upload = null;
    let running = false;
    let started = false;  // metadata sent: the title no longer changes anything

    function setProgress(sent, total) {
      const p = total ? Math.floor((sent / total) * 100) : 0;
      fill.style.width = p + "%";
      pct.textContent = p + "%";
    }

    function setButton(testid, text) {
      button.dataset.testid = testid;
      button.className = testid === "start" ? "primary" : "secondary";
      button.textContent = text;
    }

    function ended(state) {
      running = false;
      row.dataset.state = state;
      waiting.delete(start);
      refreshStartAll();
      button.remove();
      bar.remove();  // nothing is on its way any more: no bar stuck at 100 %
      forget(upload && upload.url);
    }

    function showDuplicate(res) {
      ended("duplicate");
      status.className = "status error-text";
      status.textContent = serverMessage({ originalResponse: res }) + " ";
      const href = duplicateLink(res);
      if (href) status.appendChild(el("a", { href: href, "data-testid": "duplicate-link" }, msg.msgOpenExisting));
      if (res.getHeader("Upload-Duplicate") === "fingerprint") {
        // Same size and same ends, but the middle was not compared: the producer may know
        // better. Sent without the fingerprint, the full SHA-256 decides at the end.
        const anyway = el("button", { type: "button", class: "secondary", "data-testid": "upload-anyway" }, msg.msgUploadAnyway);
        anyway.addEventListener("click", () => {
          anyway.remove();
          status.replaceChildren();
          progCell.appendChild(bar);
          actCell.appendChild(button);
          const meta = Object.assign({}, upload.options.metadata);
          delete meta.fingerprint;
          upload = makeUpload(meta);
          upload.start();
          running = true;
          row.dataset.state = "uploading";
          setButton("pause", msg.msgPause);
        });
        status.appendChild(document.createTextNode(" "));
        status.appendChild(anyway);
      }
    }

    function makeUpload(meta) {
      const options = {
        endpoint: form.dataset.endpoint,
        // Each PATCH commits its bytes; a test may shrink it to see resumption.
        chunkSize: Number(localStorage.getItem("mam.uploadChunkSize")) || 64 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
        headers: { "X-CSRFToken": csrf },
        metadata: meta,
        removeFingerprintOnSuccess: true,
        onProgress: (sent, total) => {
          setProgress(sent, total);
          status.className = "status";
          status.textContent = sent === total ? msg.msgChecking : msg.msgUploading;
        },
        // Only a lost connection, a server error, and tus's own 409/423 are tried again;
        // any other answer (a refused or duplicate file) is final.
        onShouldRetry: (err) => {
          const code = err.originalResponse ? err.originalResponse.getStatus() : 0;
          const retry = !code || code >= 500 || code === 409 || code === 423;
          if (retry) status.textContent = msg.msgRetrying;
          return retry;
        },
        onError: (err) => {
          const res = err && err.originalResponse;
          if (res && res.getHeader("Upload-Duplicate")) { showDuplicate(res); return; }
          ended("failed");
          status.className = "status error-text";
          status.textContent = msg.msgFailed + " " + serverMessage(err);
        },
        onSuccess: () => {
          running = false;
          setProgress(1, 1);
          button.remove();
          const id = upload.url.split("/").pop();
          // It is no longer unfinished: take it off the list rendered with the page.
          document.querySelectorAll('[data-testid="unfinished"] tr').forEach((tr) => {
            if (tr.dataset.uploadId === id) tr.remove();
          });
          const left = document.querySelector('[data-testid="unfinished"]');
          if (left && !left.querySelector("tr")) left.remove();
          fetch(form.dataset.statusUrl.replace("UPLOAD_ID", id), { credentials: "same-origin" })
            .then((r) => r.json())
            .then((info) => {
              row.dataset.state = info.state;
              status.className = "status";
              status.textContent = msg.msgDone + " ";
              if (info.episode_url) {
                status.appendChild(el("a", { href: info.episode_url, "data-testid": "episode-link" }, msg.msgOpen));
              }
            });
        },
      };
      return new tus.Upload(file, options);
    }

    function begin(previous) {
      started = true;
      title.disabled = true;
      waiting.delete(start);
      refreshStartAll();
      if (previous) {
        upload.resumeFromPreviousUpload(previous);
        status.textContent = msg.msgResumed;
      }
      upload.start();
      running = true;
      row.dataset.state = "uploading";
      setButton("pause", msg.msgPause);
    }

    // The producer confirms: read the form and the title now, then send.
    function start() {
      if (started) { upload.start(); running = true; row.dataset.state = "uploading"; setButton("pause", msg.msgPause); return; }
      const meta = formMetadata();
      meta.title = title.value.trim();
      if (!meta.episode_id && (!meta.programme || !meta.title)) {
        status.textContent = msg.msgNeedTitle;
        status.className = "status error-text";
        (meta.programme ? title : form.querySelector('[name="programme"]') || title).focus();
        return;
      }
      meta.filename = file.name;
      meta.filetype = file.type || "application/octet-stream";
      status.className = "status";
      status.textContent = msg.msgComparing;
      button.disabled = true;
      fingerprint.then((value) => {
        button.disabled = false;
        if (value) meta.fingerprint = value;
        upload.options.metadata = meta;
        begin(null);
      });
    }

    button.addEventListener("click", () => {
      if (running && upload) {
        upload.abort();
        running = false;
        row.dataset.state = "paused";
        status.textContent = msg.msgPaused;
        setButton("resume", msg.msgResume);
      } else {
        start();
      }
    });
    title.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); if (!started) start(); }
    });

    upload = makeUpload({});
    row.dataset.state = "ready";
    status.textContent = msg.msgReady;
    // The same file, interrupted earlier (a network cut, a reload): its metadata was
    // confirmed then, so it goes on at once where it stopped.
    upload.findPreviousUploads().then((previous) => {
      if (started) return;
      if (previous.length) {
        const earlier = previous[0].metadata || {};
        if (earlier.title) title.value = earlier.title;
        upload.options.metadata = Object.assign({}, earlier);
        begin(previous[0]);
      } else if (newCut) {
        start();  // a new cut: programme and title are the episode's, nothing to confirm
      } else {
        waiting.add(start);
        refreshStartAll();
      }
    });
  }

  function addFiles(files) {
    Array.from(files).forEach(addRow);
  }

  form.addEventListener("submit", (e) => e.preventDefault());  // Enter never reloads the page
  if (startAll) startAll.addEventListener("click", () => Array.from(waiting).forEach((go) => go()));
  document.getElementById("file-input").addEventListener("change", (e) => {
    addFiles(e.target.files);
    e.target.value = "";
  });
  ["dragenter", "dragover"].forEach((type) =>
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((type) =>
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
  drop.addEventListener("drop", (e) => addFiles(e.dataTransfer.files));
})();
