/* Reminder settings on the phone: e-mail, Web Push on this phone, calendar address.
   Plain JavaScript, no build step. Talks to /api/reminders/ with the device cookie; writes
   send Django's CSRF token (from the csrftoken cookie) in X-CSRFToken. */
(function () {
  "use strict";

  var section = document.querySelector("[data-reminders]");
  if (!section) {
    return;
  }
  var form = section.querySelector("[data-reminders-form]");
  var statusLine = section.querySelector("[data-reminders-status]");
  var pushState = section.querySelector("[data-push-state]");
  var pushOn = section.querySelector("[data-push-on]");
  var pushOff = section.querySelector("[data-push-off]");
  var calendarStatus = section.querySelector("[data-calendar-status]");
  var urls = section.dataset;

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (part) {
      return part.indexOf(name + "=") === 0;
    })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  function call(method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (method !== "GET") {
      options.headers["X-CSRFToken"] = cookie("csrftoken");
    }
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || "Something went wrong; try again.");
          error.code = data.code;
          throw error;
        }
        return data;
      });
    });
  }

  function say(line, text) {
    if (line) {
      line.textContent = text;
    }
  }

  function show(settings) {
    form.elements.email.value = settings.email || "";
    form.elements.email_enabled.checked = settings.email_enabled;
    form.elements.push_enabled.checked = settings.push_enabled;
    section.querySelector("[data-calendar-stop]").hidden = !settings.calendar_active;
    showPush(settings);
  }

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function showPush(settings) {
    // The choice is offered only where this diary can send notifications at all.
    section.querySelector("[data-push-choice]").hidden = !settings.push_available;
    if (!settings.push_available) {
      say(pushState, "Notifications are not available for this diary. Use e-mail or the calendar.");
      pushOn.hidden = pushOff.hidden = true;
      return;
    }
    if (!pushSupported()) {
      say(pushState, "This browser cannot show notifications. On an iPhone, add the diary to your Home Screen first, then open it from there.");
      pushOn.hidden = pushOff.hidden = true;
      return;
    }
    if (Notification.permission === "denied") {
      say(pushState, "Notifications are blocked for this site. Allow them in your browser's settings to get reminders on this phone.");
      pushOn.hidden = pushOff.hidden = true;
      return;
    }
    say(pushState, settings.push_subscribed ? "This phone gets notifications when the diary opens." : "This phone does not get notifications yet.");
    pushOn.hidden = settings.push_subscribed;
    pushOff.hidden = !settings.push_subscribed;
  }

  function base64UrlToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function registration() {
    return navigator.serviceWorker.getRegistration("/d/").then(function (found) {
      return found || navigator.serviceWorker.register(urls.serviceWorkerUrl, { scope: "/d/" });
    }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function subscribe() {
    say(statusLine, "Turning on notifications…");
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error("Notifications were not allowed, so this phone will not get them.");
      }
      return Promise.all([call("GET", urls.pushKeyUrl), registration()]);
    }).then(function (results) {
      return results[1].pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: base64UrlToBytes(results[0].public_key),
      });
    }).then(function (subscription) {
      return call("POST", urls.subscriptionsUrl, subscription.toJSON());
    }).then(function () {
      say(statusLine, "Notifications are on for this phone.");
      return load();
    }).catch(function (error) {
      say(statusLine, error.message);
    });
  }

  function unsubscribe() {
    say(statusLine, "Turning off notifications…");
    return registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      var done = subscription ? subscription.unsubscribe() : Promise.resolve(true);
      return done.then(function () {
        return call("DELETE", urls.subscriptionsUrl);
      });
    }).then(function () {
      say(statusLine, "Notifications are off for this phone.");
      return load();
    }).catch(function (error) {
      say(statusLine, error.message);
    });
  }

  function load() {
    return call("GET", urls.settingsUrl).then(show).catch(function (error) {
      say(statusLine, error.message);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    say(statusLine, "Saving…");
    var email = form.elements.email.value.trim();
    call("PUT", urls.settingsUrl, {
      email: email || null,
      email_enabled: form.elements.email_enabled.checked,
      push_enabled: form.elements.push_enabled.checked,
    }).then(function (settings) {
      show(settings);
      say(statusLine, "Your reminders are saved.");
    }).catch(function (error) {
      say(statusLine, error.message);
    });
  });
  pushOn.addEventListener("click", subscribe);
  pushOff.addEventListener("click", unsubscribe);

  section.querySelector("[data-calendar-new]").addEventListener("click", function () {
    call("POST", urls.calendarUrl).then(function (made) {
      var box = section.querySelector("[data-calendar-link]");
      section.querySelector("[data-calendar-webcal]").href = made.webcal_url;
      section.querySelector("[data-calendar-url-field]").value = made.url;
      box.hidden = false;
      section.querySelector("[data-calendar-stop]").hidden = false;
      say(calendarStatus, "Your calendar address is ready. Any earlier address no longer works.");
    }).catch(function (error) {
      say(calendarStatus, error.message);
    });
  });
  section.querySelector("[data-calendar-stop]").addEventListener("click", function () {
    call("DELETE", urls.calendarUrl).then(function () {
      section.querySelector("[data-calendar-link]").hidden = true;
      section.querySelector("[data-calendar-stop]").hidden = true;
      say(calendarStatus, "The calendar address no longer works. Remove the diary calendar from your calendar app.");
    }).catch(function (error) {
      say(calendarStatus, error.message);
    });
  });

  load();
})();
