// Draw progress bars at their server-rendered width: the Content-Security-Policy allows no
// inline style attributes, so the width travels in data-width and is set here.
(function () {
  "use strict";
  document.querySelectorAll(".bar[data-width]").forEach((el) => {
    el.style.width = Math.max(0, Math.min(100, Number(el.dataset.width) || 0)) + "%";
  });
})();
