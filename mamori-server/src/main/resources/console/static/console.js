// Mamori console: clears and locks the screen after the idle time the server states (AUTH-9).
// The server locks idle sessions on its own as well; this makes the screen go blank at once, even when
// nobody clicks anything.
(function () {
  'use strict';
  var body = document.body;
  var idle = body && parseInt(body.getAttribute('data-idle-seconds') || '0', 10);
  if (!idle) {
    return;
  }
  var last = Date.now();
  var told = Date.now();
  // While the person types or moves, tell the server at most once a minute (twice per idle time when that is
  // shorter), so that the server's idle lock (which sees only requests) does not lock a session whose person is
  // writing a long note without a request between.
  var every = Math.min(60, idle / 2) * 1000;
  function alive() {
    var form = document.getElementById('lock-form');
    if (!form || !window.fetch || Date.now() - told < every) {
      return;
    }
    told = Date.now();
    var csrf = form.querySelector('input[name="csrf"]').value;
    window.fetch('/console/alive', {
      method: 'POST', credentials: 'same-origin', redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'csrf=' + encodeURIComponent(csrf)
    }).catch(function () { /* the save itself will say what is wrong */ });
  }
  ['mousemove', 'mousedown', 'keydown', 'touchstart', 'scroll', 'wheel'].forEach(function (ev) {
    window.addEventListener(ev, function () { last = Date.now(); alive(); }, { passive: true });
  });
  function lockNow() {
    var form = document.getElementById('lock-form');
    var csrf = form ? form.querySelector('input[name="csrf"]').value : '';
    // Clear the screen first: what was on it must not stay visible while the request travels.
    var main = document.querySelector('main');
    if (main) {
      main.replaceChildren();
      var p = document.createElement('p');
      p.textContent = 'ロックしています… / Locking…';
      main.appendChild(p);
    }
    if (form) {
      var why = document.createElement('input');
      why.type = 'hidden';
      why.name = 'why';
      why.value = 'idle';
      form.appendChild(why);
      form.submit();
    } else {
      window.location.assign('/console/lock');
    }
  }
  setInterval(function () {
    if (Date.now() - last >= idle * 1000) {
      lockNow();
    }
  }, 1000);
})();
// The header's menu (a details element whose links follow it; console.css shows them while it is open): Escape
// closes it and gives the focus back to its button.
(function () {
  'use strict';
  var menu = document.getElementById('menu');
  if (!menu) {
    return;
  }
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && menu.open) {
      menu.open = false;
      menu.querySelector('summary').focus();
    }
  });
})();
// A live list (the running maintenance job's actions, issue 19): an element with data-live-src is refreshed in place
// every few seconds from that same-origin address (a fragment of the page), while the job runs and the tab is
// visible. A redirect (the session locked or ended) or an error stops it; the page itself still works without it.
(function () {
  'use strict';
  var box = document.querySelector('[data-live-src]');
  if (!box || !window.fetch || box.getAttribute('data-live-running') !== '1') {
    return;
  }
  var src = box.getAttribute('data-live-src');
  if (src.charAt(0) !== '/' || src.charAt(1) === '/') {
    return; // same origin only
  }
  var timer = setInterval(function () {
    if (document.hidden) {
      return;
    }
    window.fetch(src, { credentials: 'same-origin', redirect: 'manual', headers: { 'Accept': 'text/html' } })
      .then(function (res) {
        if (res.type === 'opaqueredirect' || !res.ok) {
          clearInterval(timer);
          return null;
        }
        return res.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) {
          return;
        }
        var doc = new DOMParser().parseFromString(html, 'text/html');
        box.replaceChildren.apply(box, Array.prototype.slice.call(doc.body.childNodes));
        if (box.querySelector('[data-live-ended]')) {
          clearInterval(timer); // the job is over: nothing more will come
        }
      })
      .catch(function () { clearInterval(timer); });
  }, 5000);
})();
// A print button (data-print): prints the page (the print style leaves out the header, forms and buttons).
(function () {
  'use strict';
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
})();
