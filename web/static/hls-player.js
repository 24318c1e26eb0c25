// HLS players: <video data-hls-src="master.m3u8">. hls.js (vendor/hls.min.js) where the
// browser has Media Source Extensions, the browser itself where it plays HLS natively
// (Safari, iOS). The playlists come from the app with absolute links (web/hls.py).
(function () {
  "use strict";
  function attach(video) {
    const src = new URL(video.dataset.hlsSrc, window.location.href).href;
    const start = Number(video.dataset.start || 0); // resume position (learner portal)
    // When the master lists the subtitles as a WebVTT rendition (web/hls.py), the player
    // (hls.js or the browser's own HLS) makes the text tracks from it: the page's <track>
    // elements are only for a page without script, and would show every line twice.
    if (video.dataset.hlsSubtitles === "1") {
      video.querySelectorAll("track").forEach(function (t) { t.remove(); });
    }
    if (window.Hls && window.Hls.isSupported()) {
      const hls = new window.Hls({ capLevelToPlayerSize: true, startPosition: start > 0 ? start : -1 });
      hls.on(window.Hls.Events.MANIFEST_PARSED, function (_event, data) {
        video.dataset.levels = String(data.levels.length);
      });
      hls.on(window.Hls.Events.SUBTITLE_TRACKS_UPDATED, function (_event, data) {
        video.dataset.subtitleTracks = String(data.subtitleTracks.length);
      });
      hls.on(window.Hls.Events.ERROR, function (_event, data) {
        if (!data.fatal) return;
        video.dataset.error = data.type + ":" + data.details;
        if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
        else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      video.dataset.engine = "hls.js";
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      if (start > 0) {
        video.addEventListener("loadedmetadata", function () { video.currentTime = start; }, { once: true });
      }
      video.dataset.engine = "native";
    } else {
      video.dataset.engine = "none";
    }
  }
  document.querySelectorAll("video[data-hls-src]").forEach(attach);
})();
