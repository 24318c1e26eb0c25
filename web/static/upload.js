// Upload page: drag-and-drop of several files, each sent with tus-js-client (resumable).
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form || !window.tus) return;
  const msg = form.dataset;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const tbody = document.querySelector("#uploads tbody");
  const drop = document.getElementById("drop");
  const MEDIA_EXT = /\.(mp4|m4v|mov|mkv|avi|wmv|asf|flv|f4v|webm|ogv|ogg|mpg|mpeg|m2v|vob|ts|mts|m2ts|mxf|dv|3gp|3g2|rm|rmvb|m4a|mp3|wav|aac|flac|opus|wma|ac3|y4m|nut|h264|264|hevc|265)$/i;

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

  function addRow(file) {
    const row = el("tr", { "data-testid": "upload-row" });
    const nameCell = el("td", { class: "wrap" });
    nameCell.appendChild(el("div", {}, file.name));
    nameCell.appendChild(el("div", { class: "hint" }, fmtSize(file.size)));
    const titleCell = el("td");
    const title = el("input", { maxlength: "300", "data-testid": "title" });
    title.value = file.name.replace(/\.[^.]+$/, "");
    if (form.querySelector('input[name="episode_id"]')) title.disabled = true;
    titleCell.appendChild(title);
    const progCell = el("td");
    const status = el("div", { class: "status", "data-testid": "upload-status", role: "status" });
    const bar = el("div", { class: "progress" });
    const fill = el("div", { class: "bar", style: "width: 0%" });
    const pct = el("span", { class: "pct" }, "0%");
    bar.append(fill, pct);
    progCell.append(status, bar);
    const actCell = el("td");
    const button = el("button", { type: "button", class: "secondary", "data-testid": "pause" }, msg.msgPause);
    actCell.appendChild(button);
    row.append(nameCell, titleCell, progCell, actCell);
    tbody.appendChild(row);

    if (!isMedia(file)) {
      status.textContent = msg.msgNotMedia;
      status.className = "status error-text";
      row.dataset.state = "refused";
      bar.remove();
      button.remove();
      return;
    }
    if (file.size > Number(form.dataset.maxSize)) {
      status.textContent = msg.msgTooBig;
      status.className = "status error-text";
      row.dataset.state = "refused";
      bar.remove();
      button.remove();
      return;
    }

    let upload = null;
    let running = false;

    function setProgress(sent, total) {
      const p = total ? Math.floor((sent / total) * 100) : 0;
      fill.style.width = p + "%";
      pct.textContent = p + "%";
    }

    function start() {
      const meta = formMetadata();
      if (!meta.episode_id && (!meta.programme || !title.value.trim())) {
        status.textContent = msg.msgNeedTitle;
        status.className = "status error-text";
        button.textContent = msg.msgResume;
        return;
      }
      if (!upload) {
        meta.title = title.value.trim();
        meta.filename = file.name;
        meta.filetype = file.type || "application/octet-stream";
        upload = new tus.Upload(file, {
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
          onShouldRetry: (err, attempt, options) => {
            const code = err.originalResponse ? err.originalResponse.getStatus() : 0;
            const retry = !code || code >= 500 || code === 409 || code === 423;
            if (retry) status.textContent = msg.msgRetrying;
            return retry;
          },
          onError: (err) => {
            running = false;
            row.dataset.state = "failed";
            status.className = "status error-text";
            status.textContent = msg.msgFailed + " " + serverMessage(err);
            button.remove();
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
        });
        title.disabled = true;
        upload.findPreviousUploads().then((previous) => {
          if (previous.length) {
            upload.resumeFromPreviousUpload(previous[0]);
            status.textContent = msg.msgResumed;
          }
          upload.start();
        });
      } else {
        upload.start();
      }
      running = true;
      row.dataset.state = "uploading";
      button.textContent = msg.msgPause;
    }

    button.addEventListener("click", () => {
      if (running && upload) {
        upload.abort();
        running = false;
        row.dataset.state = "paused";
        status.textContent = msg.msgPaused;
        button.textContent = msg.msgResume;
      } else {
        start();
      }
    });
    status.textContent = msg.msgWaiting;
    start();
  }

  function addFiles(files) {
    Array.from(files).forEach(addRow);
  }

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
