/* The diary's service worker (scope {{ scope }}): the app shell from the cache, pages from the
   network with the last copy of each kept for when the phone is offline (only a page that says
   {{ offline_copy_header }}: keep; a phone with a PIN keeps no pages). Answers are never handled
   here: the page keeps them in its outbox (IndexedDB) until the server confirms them. */
"use strict";
var VERSION = "{{ version }}";
var SHELL_CACHE = "diary-shell-" + VERSION;
var PAGE_CACHE = "diary-pages";
var SHELL = {{ shell|safe }};
var SCOPE = "{{ scope }}";
var KEPT_PAGES = {{ kept_pages|safe }};
// Reminders by Web Push: the notification, and a tap that opens the diary.
importScripts({{ push_script|safe }});

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("diary-shell-") === 0 && name !== SHELL_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function pageKey(url) {
  // ?change=1 and the like are kept apart from the plain page.
  return url.origin + url.pathname + url.search;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (request.mode === "navigate" && KEPT_PAGES.indexOf(url.pathname) !== -1) {
    event.respondWith(fetch(request).then(function (response) {
      var keep = response.headers.get("{{ offline_copy_header }}") === "keep";
      if (response.ok && !response.redirected && keep) {
        var copy = response.clone();
        caches.open(PAGE_CACHE).then(function (cache) { return cache.put(pageKey(url), copy); });
      }
      return response;
    }, function () {
      return caches.open(PAGE_CACHE).then(function (cache) {
        return cache.match(pageKey(url), { ignoreVary: true }).then(function (hit) {
          return hit || cache.match(url.origin + SCOPE, { ignoreVary: true });
        });
      }).then(function (hit) {
        return hit || new Response(
          "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width, initial-scale=1'>" +
          "<title>Offline · Study diary</title><link rel=stylesheet href='" + {{ stylesheet|safe }} + "'><main id=main>" +
          "<h1>You are offline</h1><p>Open the diary again when the phone has a connection.</p></main>",
          { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
        );
      });
    }));
  }
});
