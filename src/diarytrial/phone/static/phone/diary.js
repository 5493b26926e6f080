/* The phone diary: answers, the outbox and its sync. Plain JavaScript, no framework, no build.

   Every answer sent goes first into an outbox in IndexedDB, then to the server. A record leaves
   the outbox only when the server confirmed it (200/201), or refused it for good (a 4xx that
   can never be accepted, such as a window closed beyond its grace); the same record, with the
   same client id, is sent again on every page load and whenever the phone comes back online,
   so an entry is never lost and never counted twice. */
(function () {
  "use strict";

  var DB_NAME = "diarytrial-diary";
  var STORE = "outbox";
  var PENDING_TEXT = "Saved on this phone, will send when you're online.";
  var body = document.body;
  var statusBox = document.getElementById("sync-status");
  var problemBox = document.getElementById("sync-problem");

  // --- the outbox -----------------------------------------------------------------------------

  var memory = {}; // used only where IndexedDB is unavailable (some private modes)
  var dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve) {
        if (!window.indexedDB) { resolve(null); return; }
        var request;
        try { request = indexedDB.open(DB_NAME, 1); } catch (e) { resolve(null); return; }
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { resolve(null); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      if (!db) { return work(null); }
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result instanceof IDBRequest ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function outboxPut(record) {
    return withStore("readwrite", function (store) {
      if (!store) { memory[record.key] = record; return null; }
      return store.put(record);
    });
  }

  function outboxDelete(key) {
    return withStore("readwrite", function (store) {
      if (!store) { delete memory[key]; return null; }
      return store.delete(key);
    });
  }

  function outboxAll() {
    return withStore("readonly", function (store) {
      if (!store) { return Object.keys(memory).map(function (k) { return memory[k]; }); }
      return store.getAll();
    }).then(function (records) {
      return (records || []).sort(function (a, b) { return a.saved_at - b.saved_at; });
    });
  }

  // --- talking to the server ------------------------------------------------------------------

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* The device's own time with its UTC offset, e.g. 2026-03-02T21:15:04+01:00. */
  function localIso(d) {
    var offset = -d.getTimezoneOffset();
    var sign = offset >= 0 ? "+" : "-";
    offset = Math.abs(offset);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      sign + pad(Math.floor(offset / 60)) + ":" + pad(offset % 60);
  }

  /* A refusal that sending again can never turn into an acceptance. 401 (phone not set up),
     403 (PIN, CSRF), 423 (study locked), 429 and 5xx may pass later: the record stays. */
  function refusedForGood(status) {
    return status === 400 || status === 404 || status === 409 || status === 410 || status === 422;
  }

  var flushing = null;

  function flush() {
    if (flushing) { return flushing; }
    flushing = outboxAll().then(function (records) {
      var outcome = { sent: [], refused: [], kept: null, pending: records.length };
      return records.reduce(function (chain, record) {
        return chain.then(function () {
          if (outcome.kept) { return; }
          return send(record, outcome);
        });
      }, Promise.resolve()).then(function () { return outcome; });
    }).then(function (outcome) {
      flushing = null;
      return report(outcome);
    }, function () { flushing = null; });
    return flushing;
  }

  function send(record, outcome) {
    return fetch(record.url, {
      method: record.method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(record.body)
    }).then(function (response) {
      if (response.ok) {
        return outboxDelete(record.key).then(function () { outcome.sent.push(record); outcome.pending -= 1; });
      }
      return response.json().catch(function () { return {}; }).then(function (problem) {
        if (refusedForGood(response.status) || (problem && problem.code === "already_answered")) {
          return outboxDelete(record.key).then(function () {
            outcome.refused.push({ record: record, problem: problem || {} });
            outcome.pending -= 1;
          });
        }
        outcome.kept = { status: response.status, problem: problem || {} };
      });
    }, function () {
      outcome.kept = { status: 0, problem: {} }; // offline: try again later
    });
  }

  function say(box, text, kind) {
    if (!box) { return; }
    box.className = "notice " + kind;
    box.textContent = text;
  }

  function report(outcome) {
    if (outcome.refused.length) {
      var details = outcome.refused.map(function (r) {
        return r.problem.detail || "The server refused it.";
      });
      say(problemBox, "Your answers could not be recorded: " + details.join(" "), "error");
    }
    if (outcome.pending > 0) {
      var kept = outcome.kept || { status: 0, problem: {} };
      if (kept.status === 401) {
        say(statusBox, "Your answers are saved on this phone, but this phone is no longer set up for the diary. Ask your study coordinator for a new link; they will be sent then.", "pending");
      } else if (kept.problem.code === "pin_required") {
        statusBox.className = "notice pending";
        statusBox.textContent = "Your answers are saved on this phone. Enter your PIN to send them: ";
        var link = document.createElement("a");
        link.href = body.dataset.scope + "pin/";
        link.textContent = "enter PIN";
        statusBox.appendChild(link);
      } else {
        say(statusBox, PENDING_TEXT, "pending");
      }
      showPending(true);
      return outcome;
    }
    if (outcome.sent.length) {
      say(statusBox, "Sent. Thank you.", "ok");
      if (body.dataset.page === "home" && !outcome.refused.length) {
        // The server now shows what comes next (thanks, questions); drop ?change=1.
        window.location.replace(body.dataset.scope);
      }
    } else if (statusBox && statusBox.classList.contains("pending")) {
      say(statusBox, "", "");
    }
    if (outcome.refused.length) { showPending(false); }
    return outcome;
  }

  // --- the diary form -------------------------------------------------------------------------

  var form = document.getElementById("diary-form") || document.getElementById("questions-form");
  var summary = document.getElementById("error-summary");
  var pendingBox = document.getElementById("pending");

  function showPending(on) {
    if (!form || !pendingBox) { return; }
    var mine = form.dataset.formDate;
    outboxAll().then(function (records) {
      var waiting = on && records.some(function (r) {
        return mine ? r.form_date === mine : r.kind === "question";
      });
      form.hidden = waiting;
      pendingBox.hidden = !waiting;
    });
  }

  function setupSlider(input) {
    var item = input.closest(".item");
    var reading = item.querySelector(".reading .value");
    var pressed = false;
    function mark() {
      input.dataset.answered = "true";
      input.setAttribute("aria-valuetext", input.value);
      reading.textContent = input.value;
      reading.classList.remove("unanswered");
      clearError(item);
    }
    input.addEventListener("input", mark);
    input.addEventListener("change", mark);
    // A tap on the spot the hidden thumb rests on changes no value; it is an answer all the same.
    // A scroll that starts on the slider cancels the pointer, and answers nothing.
    input.addEventListener("pointerdown", function () { pressed = true; });
    input.addEventListener("pointercancel", function () { pressed = false; });
    input.addEventListener("pointerup", function () { if (pressed) { mark(); } pressed = false; });
    input.addEventListener("keydown", function (event) {
      // The first arrow key shows the thumb where it rests, rather than one step beside it.
      if (input.dataset.answered !== "true" && /^Arrow/.test(event.key)) {
        event.preventDefault();
        mark();
      }
    });
  }

  function clearError(item) {
    var link = summary && summary.querySelector('a[href="#' + item.id + '"]');
    if (link) {
      link.parentNode.remove();
      if (!summary.querySelector("li")) { summary.hidden = true; }
    }
    item.classList.remove("invalid");
    var error = item.querySelector(".field-error");
    if (error) { error.textContent = ""; }
    item.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function fieldError(item, text, target) {
    item.classList.add("invalid");
    var error = item.querySelector(".field-error");
    if (error) { error.textContent = text; }
    if (target) { target.setAttribute("aria-invalid", "true"); }
    return { id: item.id, text: text };
  }

  function showSummary(problems) {
    var list = summary.querySelector("ul");
    list.textContent = "";
    problems.forEach(function (problem) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + problem.id;
      a.textContent = problem.text;
      a.addEventListener("click", function (event) {
        event.preventDefault();
        var target = document.getElementById(problem.id);
        var control = target.querySelector("input");
        target.scrollIntoView({ block: "center" });
        if (control) { control.focus(); }
      });
      li.appendChild(a);
      list.appendChild(li);
    });
    summary.hidden = false;
    summary.focus();
  }

  function checked(scope, name) {
    var input = scope.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  function diaryProblems() {
    var problems = [];
    form.querySelectorAll(".item[data-item]").forEach(function (item) {
      clearError(item);
      if (!item.dataset.required) { return; }
      var label = item.dataset.label;
      if (item.dataset.kind === "slider") {
        var slider = item.querySelector("input");
        if (slider.dataset.answered !== "true") {
          problems.push(fieldError(item, label + ": not answered yet. Touch the line where your answer is.", slider));
        }
      } else if (checked(item, item.dataset.item) === null) {
        problems.push(fieldError(item, label + ": not answered yet. Choose a number.", null));
      }
    });
    form.querySelectorAll(".effect").forEach(function (effect) {
      var box = effect.querySelector("input[type=checkbox]");
      var levels = effect.querySelector("fieldset");
      clearError(levels);
      if (box.checked && checked(levels, "level-" + effect.dataset.effect) === null) {
        problems.push(fieldError(levels, effect.dataset.label + ": say how unpleasant it was.", null));
      }
    });
    return problems;
  }

  function diaryBody() {
    var answers = {};
    form.querySelectorAll(".item[data-item]").forEach(function (item) {
      var name = item.dataset.item;
      if (item.dataset.kind === "slider") {
        var slider = item.querySelector("input");
        if (slider.dataset.answered === "true") { answers[name] = Number(slider.value); }
      } else {
        var value = checked(item, name);
        if (value !== null) { answers[name] = Number(value); }
      }
    });
    var sideEffects = {};
    form.querySelectorAll(".effect").forEach(function (effect) {
      var id = effect.dataset.effect;
      var level = checked(effect, "level-" + id);
      if (effect.querySelector("input[type=checkbox]").checked && level) { sideEffects[id] = level; }
    });
    var capsule = checked(form, "capsule");
    if (!form.dataset.clientId) { form.dataset.clientId = newId(); } // once per filled form
    return {
      client_id: form.dataset.clientId,
      form_date: form.dataset.formDate,
      answers: answers,
      side_effects: sideEffects,
      capsule_taken: capsule === null ? null : capsule === "yes",
      completed_at_device: localIso(new Date())
    };
  }

  function questionProblems() {
    var problems = [];
    form.querySelectorAll("fieldset[data-kind]").forEach(function (set) {
      clearError(set);
      if (checked(set, set.dataset.kind + "-" + set.dataset.visit) === null) {
        problems.push(fieldError(set, "Choose one answer to: " + set.dataset.label, null));
      }
    });
    return problems;
  }

  function questionRecords() {
    var api = form.dataset.api;
    var records = [];
    form.querySelectorAll("fieldset[data-kind]").forEach(function (set) {
      var kind = set.dataset.kind;
      var visit = Number(set.dataset.visit);
      var value = checked(set, kind + "-" + set.dataset.visit);
      records.push({
        key: newId(),
        kind: "question",
        method: "POST",
        url: api + (kind === "pgic" ? "/diary/pgic" : "/diary/blinding"),
        body: kind === "pgic" ? { visit: visit, score: Number(value) } : { visit: visit, guess: value },
        saved_at: Date.now()
      });
    });
    return records;
  }

  function save(records) {
    return records.reduce(function (chain, record) {
      return chain.then(function () { return outboxPut(record); });
    }, Promise.resolve()).then(function () {
      say(problemBox, "", "error");
      say(statusBox, PENDING_TEXT, "pending");
      showPending(true);
      if (pendingBox) { pendingBox.focus(); }
      return flush();
    });
  }

  if (form) {
    form.querySelectorAll("input.slider").forEach(setupSlider);
    form.querySelectorAll('input[type="radio"]').forEach(function (radio) {
      radio.addEventListener("change", function () { clearError(radio.closest("fieldset")); });
    });
    form.querySelectorAll(".effect input[type=checkbox]").forEach(function (box) {
      box.addEventListener("change", function () {
        var levels = document.getElementById(box.getAttribute("aria-controls"));
        levels.hidden = !box.checked;
        if (!box.checked) {
          levels.querySelectorAll("input").forEach(function (r) { r.checked = false; });
          clearError(levels);
        }
      });
    });

    var isDiary = form.id === "diary-form";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var problems = isDiary ? diaryProblems() : questionProblems();
      if (problems.length) { showSummary(problems); return; }
      summary.hidden = true;
      if (isDiary) {
        var entry = diaryBody();
        save([{
          key: entry.client_id, kind: "entry", form_date: entry.form_date,
          method: form.dataset.method, url: form.dataset.url, body: entry, saved_at: Date.now()
        }]);
      } else {
        save(questionRecords());
      }
    });

    // A page kept by the service worker from an earlier evening must not take tonight's answers.
    var closes = Date.parse(form.dataset.closesAt || "");
    if (isDiary && closes && Date.now() > closes) {
      outboxAll().then(function (records) {
        if (records.some(function (r) { return r.form_date === form.dataset.formDate; })) { return; }
        form.hidden = true;
        say(problemBox, "This page is from an evening whose diary has closed. Connect to the internet and open the diary again to see tonight's.", "error");
      });
    }
  }

  // --- offline support ------------------------------------------------------------------------

  if (body.dataset.keepOffline === "no" && window.caches) {
    caches.delete("diary-pages").catch(function () {}); // a PIN: no page stays on the phone
  }
  if ("serviceWorker" in navigator && body.dataset.sw) {
    navigator.serviceWorker.register(body.dataset.sw, { scope: body.dataset.scope }).catch(function () {});
  }
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { flush(); }
  });
  window.setInterval(function () { if (navigator.onLine) { flush(); } }, 60000);
  flush();
})();
