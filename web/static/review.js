// Review player: HH:MM:SS:FF timecode, frame stepping, J/K/L and arrow keys, timeline with
// comment markers, click-to-seek; side-by-side compare players follow the left one.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function timecode(frame, fps) {
    var base = Math.max(Math.round(fps), 1);
    frame = Math.max(0, frame);
    var ff = frame % base, secs = Math.floor(frame / base);
    return pad(Math.floor(secs / 3600)) + ":" + pad(Math.floor(secs / 60) % 60) + ":" +
      pad(secs % 60) + ":" + pad(ff);
  }

  function setupReview(video) {
    var fps = parseFloat(video.dataset.fps) || 25;
    var tc = document.getElementById("tc");
    var total = document.getElementById("tc-total");
    var timeline = document.getElementById("timeline");
    var played = document.getElementById("played");
    var playBtn = document.getElementById("play");
    var reverseTimer = null;

    function frameAt(seconds) { return Math.floor(seconds * fps + 1e-3); }
    function currentFrame() { return frameAt(video.currentTime); }
    function lastFrame() { return isFinite(video.duration) ? Math.max(frameAt(video.duration) - 1, 0) : 0; }
    // Seek to the middle of a frame so every browser shows that frame, not its neighbour.
    function seekFrame(n) {
      n = Math.min(Math.max(n, 0), lastFrame() || n);
      video.currentTime = (n + 0.5) / fps;
    }
    function seekSeconds(s) { seekFrame(Math.round(s * fps)); }
    function stopReverse() { if (reverseTimer) { clearInterval(reverseTimer); reverseTimer = null; } }
    function pause() { stopReverse(); video.pause(); video.playbackRate = 1; }

    function render() {
      tc.textContent = timecode(currentFrame(), fps);
      tc.dataset.frame = String(currentFrame());
      if (isFinite(video.duration) && video.duration > 0) {
        played.style.width = (100 * video.currentTime / video.duration) + "%";
      }
      playBtn.textContent = video.paused && !reverseTimer ? "▶︎" : "❚❚";
    }

    function placeMarkers() {
      if (!isFinite(video.duration) || video.duration <= 0) { return; }
      total.textContent = "/ " + timecode(frameAt(video.duration), fps);
      timeline.querySelectorAll("[data-start]").forEach(function (m) {
        var start = parseFloat(m.dataset.start), end = parseFloat(m.dataset.end);
        m.style.left = (100 * start / video.duration) + "%";
        if (!isNaN(end) && end > start) { m.style.width = (100 * (end - start) / video.duration) + "%"; }
      });
    }

    ["timeupdate", "seeked", "play", "pause", "loadedmetadata"].forEach(function (ev) {
      video.addEventListener(ev, render);
    });
    video.addEventListener("loadedmetadata", placeMarkers);
    if (video.readyState >= 1) { placeMarkers(); }

    playBtn.addEventListener("click", function () { if (video.paused) { video.play(); } else { pause(); } });
    document.querySelectorAll("[data-step]").forEach(function (b) {
      b.addEventListener("click", function () { pause(); seekFrame(currentFrame() + parseInt(b.dataset.step, 10)); });
    });
    timeline.addEventListener("click", function (e) {
      if (e.target.dataset.seek) { return; }
      var box = timeline.getBoundingClientRect();
      if (isFinite(video.duration)) { seekSeconds(video.duration * (e.clientX - box.left) / box.width); }
    });
    // Delegated: markers and comment timecodes are redrawn when a comment is added.
    document.addEventListener("click", function (e) {
      var el = e.target.closest ? e.target.closest("[data-seek]") : null;
      if (!el) { return; }
      e.stopPropagation(); pause(); seekSeconds(parseFloat(el.dataset.seek));
      video.scrollIntoView({ block: "nearest" });
    });

    function mark(id) {
      var input = document.getElementById(id);
      if (input) { input.value = timecode(currentFrame(), fps); }
    }
    var markIn = document.getElementById("mark-in"), markOut = document.getElementById("mark-out");
    if (markIn) { markIn.addEventListener("click", function () { mark("start-tc"); }); }
    if (markOut) { markOut.addEventListener("click", function () { mark("end-tc"); }); }
    var form = document.querySelector("[data-testid=comment-form]");
    if (form) {
      form.addEventListener("submit", function () {
        var start = document.getElementById("start-tc");
        if (start && !start.value) { start.value = timecode(currentFrame(), fps); }
      });
    }

    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) { return; }
      if (e.ctrlKey || e.metaKey || e.altKey) { return; }
      var key = e.key.toLowerCase();
      if (key === "k" || key === " ") { pause(); }
      else if (key === "l") {
        stopReverse();
        if (video.paused) { video.playbackRate = 1; video.play(); }
        else { video.playbackRate = Math.min(video.playbackRate * 2, 8); }
      } else if (key === "j") {
        // HTML video cannot play backwards: step back frame by frame on a timer instead.
        var speed = reverseTimer ? 2 : 1;
        pause();
        reverseTimer = setInterval(function () {
          if (currentFrame() <= 0) { stopReverse(); render(); return; }
          seekFrame(currentFrame() - speed);
        }, 1000 / fps);
      } else if (key === "arrowleft") { pause(); seekFrame(currentFrame() - (e.shiftKey ? Math.round(fps) : 1)); }
      else if (key === "arrowright") { pause(); seekFrame(currentFrame() + (e.shiftKey ? Math.round(fps) : 1)); }
      else { return; }
      e.preventDefault();
      render();
    });
    // ?t=<seconds> (a search hit in the subtitles) opens the player at that time.
    var startAt = parseFloat(new URLSearchParams(window.location.search).get("t"));
    if (startAt > 0) {
      var goStart = function () { pause(); seekSeconds(startAt); };
      if (video.readyState >= 1) { goStart(); } else { video.addEventListener("loadedmetadata", goStart, { once: true }); }
    }
    render();
    window.mamReview = {
      seekFrame: seekFrame, currentFrame: currentFrame, timecode: timecode, fps: fps, placeMarkers: placeMarkers
    };
  }

  function setupCompare(players) {
    var lead = players[0], other = players[1];
    lead.addEventListener("play", function () { other.play(); });
    lead.addEventListener("pause", function () { other.pause(); other.currentTime = lead.currentTime; });
    lead.addEventListener("seeked", function () { other.currentTime = lead.currentTime; });
  }

  var video = document.getElementById("player");
  if (video && document.getElementById("tc")) { setupReview(video); }
  var pair = document.querySelectorAll(".compare-player");
  if (pair.length === 2) { setupCompare(pair); }
})();
