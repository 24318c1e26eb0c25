// Scrub preview: point at the bar under the player to see the sprite cell of that moment
// (cues of the WebVTT thumbnails track: "sprite-001.jpg#xywh=x,y,w,h"); click to jump there.
(function () {
  "use strict";
  function seconds(text) {
    const parts = text.trim().split(":").map(Number);
    return parts.reduce((total, part) => total * 60 + part, 0);
  }
  function parseVtt(text, base) {
    const cues = [];
    const blocks = text.replace(/\r/g, "").split(/\n\n+/);
    for (const block of blocks) {
      const lines = block.split("\n").filter(Boolean);
      const timing = lines.findIndex((line) => line.includes("-->"));
      if (timing < 0 || !lines[timing + 1]) continue;
      const [start, end] = lines[timing].split("-->").map((t) => seconds(t.split(" ").filter(Boolean)[0]));
      const [file, fragment] = lines[timing + 1].trim().split("#xywh=");
      if (!fragment) continue;
      const [x, y, w, h] = fragment.split(",").map(Number);
      cues.push({ start, end, url: new URL(file, base).href, x, y, w, h });
    }
    return cues;
  }
  function clock(t) {
    const s = Math.max(0, Math.floor(t));
    const m = Math.floor(s / 60);
    return (m >= 60 ? Math.floor(m / 60) + ":" + String(m % 60).padStart(2, "0") : m) + ":" + String(s % 60).padStart(2, "0");
  }
  function init(bar) {
    const video = document.getElementById(bar.dataset.scrubFor);
    const track = bar.querySelector(".scrub-track");
    const played = bar.querySelector(".scrub-played");
    const cursor = bar.querySelector(".scrub-cursor");
    const preview = bar.querySelector(".scrub-preview");
    const label = bar.querySelector(".scrub-time");
    const url = new URL(bar.dataset.vttUrl, window.location.href).href;
    let cues = [];
    const duration = () => (video && isFinite(video.duration) && video.duration > 0 ? video.duration : Number(bar.dataset.duration) || 0);
    const timeAt = (event) => {
      const box = track.getBoundingClientRect();
      const ratio = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
      return { t: ratio * duration(), x: ratio * box.width };
    };
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((text) => {
        cues = parseVtt(text, url);
        bar.dataset.cues = String(cues.length);
        cues.slice(0, 3).forEach((cue) => { new Image().src = cue.url; });  // warm the cache
      })
      .catch(() => bar.setAttribute("hidden", ""));
    track.addEventListener("mousemove", (event) => {
      const { t, x } = timeAt(event);
      const cue = cues.find((c) => t >= c.start && t < c.end) || cues[cues.length - 1];
      cursor.style.left = x + "px";
      if (!cue) return;
      preview.hidden = false;
      preview.style.left = x + "px";
      preview.style.width = cue.w + "px";
      preview.style.height = cue.h + "px";
      preview.style.backgroundImage = "url(\"" + cue.url + "\")";
      preview.style.backgroundPosition = -cue.x + "px " + -cue.y + "px";
      preview.dataset.cue = cue.url.split("/").pop() + "#" + cue.x + "," + cue.y;
      label.textContent = clock(t);
    });
    track.addEventListener("mouseleave", () => { preview.hidden = true; });
    track.addEventListener("click", (event) => {
      if (video) video.currentTime = timeAt(event).t;
    });
    if (video) {
      video.addEventListener("timeupdate", () => {
        const d = duration();
        played.style.width = (d ? (100 * video.currentTime) / d : 0) + "%";
      });
    }
  }
  document.querySelectorAll("[data-vtt-url]").forEach(init);
})();
