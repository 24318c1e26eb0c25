// Timed subtitle editor beside the review player (web/subtitles.py). The page keeps the cue
// list; every operation is done by the server (frame snapping, refusals in the reader's
// language), which answers with the new list; "Save" stores a revision and reloads the track.
(function () {
  "use strict";
  const box = document.querySelector("[data-testid=subtitle-editor]");
  const video = document.getElementById("player");
  if (!box) return;
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const mayEdit = box.dataset.mayEdit === "1";
  const language = box.querySelector("[data-testid=subtitle-language]");
  const body = box.querySelector("tbody");
  const error = box.querySelector("[data-testid=subtitle-error]");
  const saved = box.querySelector("[data-testid=subtitle-saved]");
  const empty = box.querySelector("[data-testid=cue-empty]");
  const shift = box.querySelector("[data-testid=shift-ms]");
  let cues = [];

  const url = (name) => box.dataset[name].replace(/\/xx(\/|$)/, "/" + encodeURIComponent(language.value) + "$1");
  const pad = (n, w) => String(n).padStart(w || 2, "0");
  function stamp(s) {
    const ms = Math.round(Number(s) * 1000);
    return pad(Math.floor(ms / 3600000)) + ":" + pad(Math.floor(ms / 60000) % 60) + ":" +
      pad(Math.floor(ms / 1000) % 60) + "." + pad(ms % 1000, 3);
  }
  function say(slot, text) { slot.textContent = text || ""; slot.hidden = !text; }

  function cell(tr, tag, attrs) {
    const td = document.createElement("td");
    const el = document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => { if (k === "value") el.value = v; else el.setAttribute(k, v); });
    if (!mayEdit && tag !== "button") el.disabled = true;
    td.appendChild(el);
    tr.appendChild(td);
    return el;
  }

  function render(list, keep) {
    cues = list;
    body.textContent = "";
    list.forEach((c, i) => {
      const tr = document.createElement("tr");
      tr.dataset.testid = "cue-row";
      const pick = cell(tr, "input", { type: "checkbox", "aria-label": String(i + 1), "data-testid": "cue-pick" });
      pick.checked = (keep || []).indexOf(i) >= 0;
      cell(tr, "input", { name: "start", value: stamp(c.start), class: "mono", "data-testid": "cue-start" });
      cell(tr, "input", { name: "end", value: stamp(c.end), class: "mono", "data-testid": "cue-end" });
      cell(tr, "textarea", { name: "text", rows: "1", value: c.text, "data-testid": "cue-text" });
      const go = cell(tr, "button", { type: "button", class: "secondary", "data-seek": String(c.start), title: "▶" });
      go.textContent = "▶";
      body.appendChild(tr);
    });
    empty.hidden = list.length > 0;
  }

  function read() {
    return Array.from(body.querySelectorAll("tr")).map((tr) => ({
      start: tr.querySelector("[name=start]").value,
      end: tr.querySelector("[name=end]").value,
      text: tr.querySelector("[name=text]").value,
    }));
  }
  const selected = () => Array.from(body.querySelectorAll("[data-testid=cue-pick]"))
    .map((el, i) => (el.checked ? i : -1)).filter((i) => i >= 0);

  function post(name, payload) {
    return fetch(url(name), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
      body: JSON.stringify(payload),
    }).then((r) => r.json().catch(() => ({ error: r.statusText })).then((data) => ({ ok: r.ok, data })));
  }

  function load() {
    say(error, ""); say(saved, "");
    fetch(url("cuesUrl"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => r.json()).then((data) => render(data.cues || []));
  }

  function reloadTrack(src) {
    if (!video) return;
    video.querySelectorAll("track").forEach((t) => { if (t.srclang === language.value) t.remove(); });
    const track = document.createElement("track");
    Object.assign(track, { kind: "subtitles", src: src, srclang: language.value, label: language.selectedOptions[0].textContent });
    track.dataset.testid = "review-track";
    video.appendChild(track);
    track.track.mode = "showing";
  }

  box.querySelectorAll("[data-op]").forEach((button) => button.addEventListener("click", () => {
    const picked = selected();
    const payload = { op: button.dataset.op, cues: read(), selected: picked, at: video ? video.currentTime : 0, ms: Number(shift.value) || 0 };
    post("applyUrl", payload).then(({ ok, data }) => {
      say(saved, "");
      if (!ok) { say(error, data.message || data.error); return; }
      say(error, "");
      render(data.cues, button.dataset.op === "delete" ? [] : picked);
    });
  }));
  const save = box.querySelector("[data-save]");
  if (save) save.addEventListener("click", () => {
    post("saveUrl", { cues: read() }).then(({ ok, data }) => {
      if (!ok) { say(saved, ""); say(error, data.message || data.error); return; }
      say(error, "");
      say(saved, data.message);
      render(data.cues);
      reloadTrack(data.src);
    });
  });
  language.addEventListener("change", load);
  load();
})();
