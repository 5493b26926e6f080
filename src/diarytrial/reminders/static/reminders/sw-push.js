/* Web Push in the diary's service worker: importScripts("/static/reminders/sw-push.js").
   The payload is {"title", "body", "url", "tag"}; a tap opens (or focuses) the diary. */
self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  var title = data.title || "Your diary is open";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "Tonight's diary is open.",
      tag: data.tag || "diary",
      data: { url: data.url || "/d/" },
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/d/";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        if (new URL(windows[i].url).pathname.indexOf("/d/") === 0 && "focus" in windows[i]) {
          windows[i].navigate(url);
          return windows[i].focus();
        }
      }
      return self.clients.openWindow(url);
    })
  );
});
