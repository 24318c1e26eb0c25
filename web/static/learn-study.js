// Study heartbeats of the learner portal's player (<video data-heartbeat-url>): the seconds
// really played since the last heartbeat (time advancing while playing, seeks excluded)
// and the position. The server credits them only up to what it has served (web/learn.py).
(function () {
  "use strict";
  const video = document.querySelector("video[data-heartbeat-url]");
  if (!video) return;
  const url = video.dataset.heartbeatUrl;
  const every = Number(video.dataset.heartbeat || 10) * 1000;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const watchedText = document.querySelector("[data-testid=learn-watched]");
  const completed = document.querySelector("[data-testid=learn-completed]");
  let last = null; // the position at the previous timeupdate while playing
  let pending = 0; // seconds played and not yet reported
  let chain = Promise.resolve(); // heartbeats go one after another, in order

  function timecode(seconds) {
    const s = Math.floor(seconds);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = (seconds % 60).toFixed(1);
    return h + ":" + String(m).padStart(2, "0") + ":" + r.padStart(4, "0");
  }

  video.addEventListener("timeupdate", function () {
    const now = video.currentTime;
    if (last !== null && !video.seeking && !video.paused) {
      const step = now - last;
      if (step > 0 && step < 2) pending += step; // a jump is a seek, not study
    }
    last = now;
  });
  video.addEventListener("seeking", function () { last = null; });
  video.addEventListener("play", function () { last = video.currentTime; });

  function post() {
    const watched = pending;
    pending = 0;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ watched: watched, position: video.currentTime }),
    }).then(function (response) {
      if (!response.ok) { pending += watched; return null; }
      return response.json();
    }).then(function (state) {
      if (!state) return;
      video.dataset.watched = String(state.watched_seconds);
      video.dataset.completed = String(state.completed);
      if (watchedText) watchedText.textContent = timecode(state.watched_seconds);
      if (completed) completed.hidden = !state.completed;
    }).catch(function () { pending += watched; });
  }

  function send() {
    chain = chain.then(post);
    return chain;
  }

  setInterval(function () { if (!video.paused && pending > 0) send(); }, every);
  video.addEventListener("pause", send);
  video.addEventListener("ended", function () {
    send().then(function () { video.dataset.reported = "ended"; });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && pending > 0) send();
  });
})();
