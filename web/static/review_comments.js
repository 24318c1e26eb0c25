// Review page: comments, replies, resolve/reopen and the decision buttons work with fetch,
// so the page is not reloaded and the player keeps its place (and keeps playing). The forms
// stay ordinary forms: without JavaScript they post and the page reloads as before.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const list = () => document.querySelector("[data-testid=comments]");

  function errorSlot(form) {
    let slot = form.nextElementSibling;
    if (!slot || !slot.matches("[data-testid=action-error]")) {
      slot = document.createElement("p");
      slot.className = "error-text";
      slot.setAttribute("role", "alert");
      slot.dataset.testid = "action-error";
      form.after(slot);
    }
    return slot;
  }

  function clearError(form) {
    const slot = form.nextElementSibling;
    if (slot && slot.matches("[data-testid=action-error]")) slot.remove();
  }

  function send(form) {
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
    }).then((r) => r.json().catch(() => ({ error: r.statusText })).then((data) => ({ ok: r.ok, data })));
  }

  // Swap in the threads, the markers and the count the server rendered for this act.
  function show(html, focusId, sentForm) {
    const old = list();
    // Replies being typed in other threads survive the redraw.
    const typing = {};
    if (old) {
      old.querySelectorAll(".reply-form").forEach((f) => {
        const input = f.querySelector("[name=body]");
        if (f !== sentForm && input && input.value) typing[f.querySelector("[name=parent_id]").value] = input.value;
      });
    }
    if (old && html.threads) old.outerHTML = html.threads;
    Object.entries(typing).forEach(([id, text]) => {
      const input = document.querySelector('.reply-form [name=parent_id][value="' + id + '"]');
      const body = input && input.form.querySelector("[name=body]");
      if (body) body.value = text;
    });
    const count = document.querySelector("[data-testid=thread-count]");
    if (count && html.count) count.textContent = html.count;
    const timeline = document.getElementById("timeline");
    if (timeline && html.markers != null) {
      timeline.querySelectorAll("[data-testid=comment-marker]").forEach((m) => m.remove());
      const played = timeline.querySelector(".played");
      (played || timeline).insertAdjacentHTML(played ? "afterend" : "beforeend", html.markers);
      if (window.mamReview && window.mamReview.placeMarkers) window.mamReview.placeMarkers();
    }
    const thread = focusId && document.getElementById("c" + focusId);
    if (thread) thread.scrollIntoView({ block: "nearest" });
  }

  function commentAct(form, event) {
    event.preventDefault();
    const start = form.querySelector("[name=start_tc]");
    if (start && !start.value && window.mamReview) {
      start.value = window.mamReview.timecode(window.mamReview.currentFrame(), window.mamReview.fps);
    }
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    send(form)
      .then(({ ok, data }) => {
        if (!ok) { errorSlot(form).textContent = data.error; return; }
        clearError(form);
        if (form.matches("[data-testid=comment-form]")) {
          form.querySelector("[name=body]").value = "";
          form.querySelectorAll("[name=start_tc], [name=end_tc]").forEach((i) => { i.value = ""; });
        }
        show(data.html || {}, data.id, form);
      })
      .catch(() => {
        const holder = document.querySelector("[data-msg-network]");
        errorSlot(form).textContent = holder ? holder.dataset.msgNetwork : "";
      })
      .finally(() => buttons.forEach((b) => { b.disabled = false; }));
  }

  function decision(form, event) {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    send(form)
      .then(({ ok, data }) => {
        if (ok) { window.location.assign(data.location || window.location.href); return; }
        errorSlot(form).textContent = data.error;
        buttons.forEach((b) => { b.disabled = false; });
      })
      .catch(() => { form.submit(); });  // no answer we can read: let the browser post it
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    if (form.hasAttribute("data-comment-act")) commentAct(form, event);
    else if (form.closest("[data-testid=actions], [data-testid=qc-findings]")) decision(form, event);
  });
})();
